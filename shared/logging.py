"""Logging setup: module loggers, optional JSON lines, and a request id carried per worker.

The request id lives in a context variable: the gateway sets it from `X-Request-Id`, passes it
in the RPC context data, and each service's `RequestIdProvider` restores it, so every log line
of one request carries the same id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.config
import time
from typing import Any

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def logging_config(fmt: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A dictConfig; `disable_existing_loggers` stays false or nameko's tracebacks vanish."""
    formatter = (
        {"()": JsonFormatter}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
            }
        },
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {name: {"level": "WARNING"} for name in ("kombu", "amqp", "pika", "urllib3")},
    }


def setup_logging(fmt: str = "text", level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(fmt, level))
