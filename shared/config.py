"""Configuration from environment variables, with documented embedded defaults.

The defaults run the whole suite on one machine: RabbitMQ on 127.0.0.1, a SQLite file per
service under the state directory, and the local control plane's kubeconfig. Every value is
listed in docs/configuration.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def state_dir() -> Path:
    """Where the suite keeps its runtime state (databases, kubeconfig, logs)."""
    return Path(os.environ.get("SCS_STATE_DIR", Path.home() / ".local" / "state" / "scs"))


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from exc


def database_url(service: str) -> str:
    """The database of one service: SCS_<SERVICE>_DATABASE_URL, else a SQLite file."""
    explicit = os.environ.get(f"SCS_{service.upper()}_DATABASE_URL")
    if explicit:
        return explicit
    return f"sqlite:///{state_dir() / 'db' / f'{service}.sqlite3'}"


def kubeconfig_path() -> Path:
    """KUBECONFIG (a real cluster) wins over the local control plane's kubeconfig."""
    explicit = os.environ.get("KUBECONFIG") or os.environ.get("SCS_KUBECONFIG")
    if explicit:
        return Path(explicit)
    return state_dir() / "kubeconfig"


@dataclass(frozen=True)
class Settings:
    amqp_uri: str
    gateway_host: str
    gateway_port: int
    log_format: str
    log_level: str
    max_body_bytes: int
    token_ttl_seconds: int
    reservation_ttl_seconds: int
    rpc_timeout_seconds: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            amqp_uri=os.environ.get("SCS_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            gateway_host=os.environ.get("SCS_GATEWAY_HOST", "127.0.0.1"),
            gateway_port=_int("SCS_GATEWAY_PORT", 8080),
            log_format=os.environ.get("SCS_LOG_FORMAT", "text"),
            log_level=os.environ.get("SCS_LOG_LEVEL", "INFO"),
            max_body_bytes=_int("SCS_MAX_BODY_BYTES", 1024 * 1024),
            token_ttl_seconds=_int("SCS_TOKEN_TTL_SECONDS", 12 * 3600),
            reservation_ttl_seconds=_int("SCS_RESERVATION_TTL_SECONDS", 300),
            rpc_timeout_seconds=_int("SCS_RPC_TIMEOUT_SECONDS", 30),
        )


def nameko_config(service_names: list[str] | None = None) -> dict:
    """The configuration dictionary nameko's ServiceContainer expects."""
    settings = Settings.from_env()
    return {
        "AMQP_URI": settings.amqp_uri,
        "WEB_SERVER_ADDRESS": f"{settings.gateway_host}:{settings.gateway_port}",
        "max_workers": _int("SCS_MAX_WORKERS", 10),
        "parent_calls_tracked": 10,
        "SERIALIZER": "json",
        "HEARTBEAT": 60,
    }
