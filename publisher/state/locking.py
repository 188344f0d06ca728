"""The one inter-process lock every writing command takes: flock(2) on state/publisher.lock.

The lock is the kernel's, through `fcntl.flock`, as filelock takes it on Linux and
other Unixes (where publisher runs; `core/parallel.py` relies on them too): it is
released when its holder exits, however it exits, so it frees itself after a crash.
The filelock package did the same with some twenty more modules to import, which a
build with nothing to do could not afford.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from publisher.core.config import Config
from publisher.core.errors import LockBusyError
from publisher.state.folder import make_state_folder

LOCK_NAME = "publisher.lock"
POLL_SECONDS = 0.05
"""How often a waiting command tries the lock again."""

log = logging.getLogger(__name__)


@contextmanager
def exclusive(config: Config, wait_seconds: float | None = None) -> Iterator[None]:
    """Hold the state folder's lock; LockBusyError after `wait_seconds`
    (default: [schedule] lock_timeout). Each call is a lock of its own, so two threads
    of one process wait for each other too."""
    if wait_seconds is None:
        wait_seconds = config.schedule.lock_timeout
    make_state_folder(config.paths.state)
    path = config.paths.state / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(descriptor, path, wait_seconds)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _acquire(descriptor: int, path: os.PathLike[str], wait_seconds: float) -> None:
    deadline = time.monotonic() + wait_seconds
    waiting = False
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if waiting:
                log.debug("lock %s acquired", path)
            return
        except BlockingIOError:
            pass
        if time.monotonic() >= deadline:
            raise LockBusyError(
                f"another publisher is working on {os.path.dirname(path)} "
                f"(waited {wait_seconds:g}s)",
                hint="wait for it to finish; if none is running, the lock frees itself",
            )
        if not waiting:
            log.debug("lock %s is held by another publisher; waiting up to %gs", path, wait_seconds)
            waiting = True
        time.sleep(POLL_SECONDS)
