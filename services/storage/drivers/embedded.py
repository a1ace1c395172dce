"""The embedded block-storage driver: one sparse file per volume under the state directory.

`<root>/<storage class>/<volume id>.img`, created with truncate(), so a 20Gi volume takes no
disk until written. Nothing mounts them (the local cluster's nodes are simulated); the file is
the record that the volume exists and has its size.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)


class SparseFileDriver:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, volume_id: str, storage_class: str) -> Path:
        return self.root / storage_class / f"{volume_id}.img"

    def create_volume(self, volume_id: str, size_bytes: int, storage_class: str) -> str:
        path = self._path(volume_id, storage_class)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as handle:
            if os.fstat(handle.fileno()).st_size < size_bytes:
                handle.truncate(size_bytes)
        logger.debug("volume %s backed by %s", volume_id, path)
        return str(path)

    def expand_volume(self, volume_id: str, storage_class: str, size_bytes: int) -> None:
        path = self._path(volume_id, storage_class)
        if path.stat().st_size < size_bytes:
            os.truncate(path, size_bytes)

    def delete_volume(self, volume_id: str, storage_class: str) -> bool:
        try:
            self._path(volume_id, storage_class).unlink()
        except FileNotFoundError:
            return False
        return True

    def volume_size(self, volume_id: str, storage_class: str) -> int | None:
        try:
            return self._path(volume_id, storage_class).stat().st_size
        except FileNotFoundError:
            return None
