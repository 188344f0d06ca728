"""Writing files atomically, and only when their bytes change."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class WriteReport:
    written: tuple[str, ...]
    unchanged: tuple[str, ...]


def write_if_changed(path: Path, data: bytes, mode: int = 0o644) -> bool:
    """Write `data` to `path` through a temp file and a rename; False when already identical.

    Skipping identical writes keeps mtimes, so web servers keep their ETag and
    Last-Modified and feed readers get cheap 304s.
    """
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return True


def write_tree(root: Path, files: Mapping[str, bytes]) -> WriteReport:
    """Write each relative path under `root`; report which changed."""
    written: list[str] = []
    unchanged: list[str] = []
    for name in sorted(files):
        (written if write_if_changed(root / name, files[name]) else unchanged).append(name)
    return WriteReport(tuple(written), tuple(unchanged))
