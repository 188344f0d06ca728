"""The one inter-process lock every writing command takes: the only importer of filelock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from filelock import FileLock, Timeout

from publisher.core.config import Config
from publisher.core.errors import LockBusyError

LOCK_NAME = "publisher.lock"


@contextmanager
def exclusive(config: Config, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the state folder's lock; LockBusyError after `wait_seconds`
    (default: [schedule] lock_timeout)."""
    if wait_seconds is None:
        wait_seconds = config.schedule.lock_timeout
    config.paths.state.mkdir(parents=True, exist_ok=True)
    path = config.paths.state / LOCK_NAME
    lock = FileLock(path)
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise LockBusyError(
            f"another publisher is working on {config.paths.state} (waited {wait_seconds:g}s)",
            hint="wait for it to finish; if none is running, the lock frees itself",
        ) from None
    try:
        yield
    finally:
        lock.release()
