"""The CLI's one error type and the exit codes a script can rely on."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_REFUSED = 1  # the API refused the request (4xx other than 401/403), or bad input
EXIT_USAGE = 2  # the command line itself is wrong
EXIT_NOT_LOGGED_IN = 3  # no token, or the gateway answered 401
EXIT_FORBIDDEN = 4  # the gateway answered 403
EXIT_UNAVAILABLE = 5  # 5xx, or the gateway cannot be reached


class CliError(Exception):
    """One clear line on stderr and an exit code: `error: <code>: <message> (field: ...)`."""

    def __init__(self, exit_code: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.exit_code = exit_code
        self.code = code
        self.message = message
        self.field = field

    def line(self) -> str:
        text = f"error: {self.code}: {' '.join(self.message.split())}"
        return f"{text} (field: {self.field})" if self.field else text


def exit_code_for_status(status: int) -> int:
    if status == 401:
        return EXIT_NOT_LOGGED_IN
    if status == 403:
        return EXIT_FORBIDDEN
    if status >= 500:
        return EXIT_UNAVAILABLE
    return EXIT_REFUSED


def offending_field(details: Any) -> str | None:
    """The field an error names: `details.field`, else the keys of `details.fields`."""
    if not isinstance(details, dict):
        return None
    if isinstance(details.get("field"), str):
        return str(details["field"])
    fields = details.get("fields")
    if isinstance(fields, dict) and fields:
        return ", ".join(_field_paths(fields))
    return None


def _field_paths(fields: dict[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for key in sorted(fields, key=str):
        value, path = fields[key], f"{prefix}{key}"
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(v, dict | list) for v in value.values())
        ):
            paths.extend(_field_paths(value, f"{path}."))
        else:
            paths.append(path)
    return paths


def from_answer(status: int, body: Any) -> CliError:
    """The CliError of a gateway error answer (`{code, message, details}`)."""
    if isinstance(body, dict) and "code" in body:
        details = body.get("details") or {}
        message = str(body.get("message") or "")
        if status >= 500 and isinstance(details, dict) and details.get("request_id"):
            message = f"{message} (request id {details['request_id']})"
        if isinstance(details, dict) and details.get("retry_after_seconds") is not None:
            message = f"{message} (retry after {details['retry_after_seconds']}s)"
        return CliError(
            exit_code_for_status(status), str(body["code"]), message, offending_field(details)
        )
    text = body if isinstance(body, str) else ""
    message = f"HTTP {status}" + (f": {text.strip()[:200]}" if text.strip() else "")
    return CliError(exit_code_for_status(status), f"http_{status}", message)
