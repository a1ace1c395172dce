"""The block-storage driver interface the provisioner talks to.

A driver creates, grows and deletes the volume behind a PersistentVolume and answers where it
lives; the provisioner records the answer in its database and puts it into the PV. The
embedded driver backs volumes with sparse files; a driver for a real array would call its API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from shared.config import state_dir


class BlockDriver(Protocol):
    def create_volume(self, volume_id: str, size_bytes: int, storage_class: str) -> str:
        """Create (or find, idempotently) the volume; answers its location."""

    def expand_volume(self, volume_id: str, storage_class: str, size_bytes: int) -> None:
        """Grow the volume to `size_bytes` (never shrinks)."""

    def delete_volume(self, volume_id: str, storage_class: str) -> bool:
        """Delete the volume; False when it was already gone (idempotent)."""

    def volume_size(self, volume_id: str, storage_class: str) -> int | None: ...


def get_driver(config: dict[str, Any]) -> BlockDriver:
    name = str(config.get("BLOCK_DRIVER") or "embedded")
    if name != "embedded":
        raise ValueError(f"unknown block-storage driver {name!r}; the suite ships 'embedded'")
    from services.storage.drivers.embedded import SparseFileDriver

    root = config.get("STORAGE_VOLUME_DIR") or state_dir() / "volumes"
    return SparseFileDriver(Path(root))
