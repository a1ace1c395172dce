"""Where the CLI keeps its state: the credentials (mode 0600) and the chosen project.

Directory: `SCS_CONFIG_DIR`, else `$XDG_CONFIG_HOME/scs`, else `~/.config/scs`.
`credentials` holds `{server, token, username}`; `config` holds `{project, namespace}`.
The token never appears in logs or output.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SERVER = "http://127.0.0.1:8080"
API_PREFIX = "/api/v1"  # cli/client.py adds it to every path


def config_dir() -> Path:
    if os.environ.get("SCS_CONFIG_DIR"):
        return Path(os.environ["SCS_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "scs"


def _read(name: str) -> dict[str, Any]:
    path = config_dir() / name
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(name: str, data: dict[str, Any]) -> Path:
    directory = config_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / name
    # Created 0600 before anything is written, so the token is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(path, 0o600)
    return path


def load_credentials() -> dict[str, Any]:
    return _read("credentials")


def save_credentials(server: str, token: str, username: str) -> Path:
    return _write("credentials", {"server": server, "token": token, "username": username})


def forget_credentials() -> bool:
    path = config_dir() / "credentials"
    if not path.exists():
        return False
    path.unlink()
    return True


def load_config() -> dict[str, Any]:
    return _read("config")


def update_config(**values: str | None) -> dict[str, Any]:
    config = {**load_config(), **values}
    config = {k: v for k, v in config.items() if v is not None}
    _write("config", config)
    return config


def server_url(flag: str | None) -> str:
    """--server, else SCS_SERVER, else the server of the last login, else the default.

    An http:// or https:// URL; a trailing `/api/v1` (the API's own prefix) is dropped.
    Anything else raises ValueError naming where it came from.
    """
    source = "--server" if flag else "SCS_SERVER"
    url = flag or os.environ.get("SCS_SERVER")
    if not url:
        source, url = "the stored login's server", load_credentials().get("server")
    url = str(url or DEFAULT_SERVER).strip().rstrip("/")
    url = url.removesuffix(API_PREFIX).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{source} {url!r} is not a URL: give http://HOST:PORT (or https://)")
    return url


def token() -> str | None:
    return os.environ.get("SCS_TOKEN") or load_credentials().get("token")
