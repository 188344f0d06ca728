"""The signing keys of a running endpoint, kept current while it serves.

`publisher secret rotate` may run while `publisher serve` does: the links in the next
digest are signed with the new secret, and the old one verifies only until its
`valid_until`. Every request asks for the ring; a stat of `state/secret.key` (which
every rotation writes last) tells whether to read it again, and so does the clock
passing the moment a replaced key retires. A secret kept in the environment cannot
change under a running process: after rotating it there, restart the endpoint.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.newsletter.credentials import SigningKeys, secret_file, signing_keys

logger = logging.getLogger(__name__)

Stamp = tuple[int, int, int] | None
"""What a stat of the secret file says: (inode, size, modification time in ns)."""


class LiveKeys:
    def __init__(self, config: Config, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.clock = clock
        self._path = secret_file(config)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._keys: SigningKeys = signing_keys(config, clock())
        self._warned = False
        """A failed re-read was logged: once, until one succeeds."""

    def ring(self) -> list[bytes]:
        """Every key that verifies now, the one that signs last (as itsdangerous wants)."""
        now = self.clock()
        stamp = self._stat()
        expires = self._keys.expires
        if stamp != self._stamp or (expires is not None and now >= expires):
            self._reload(stamp, now)
        return self._keys.ring_at(now)

    def _reload(self, stamp: Stamp, now: datetime) -> None:
        with self._lock:
            try:
                keys = signing_keys(self.config, now)
            except PublisherError as e:
                # Mid-rotation, or a secret file that is wrong now: keep serving with the keys
                # we have (a retired one still ends at its valid_until) and try again.
                if not self._warned:
                    logger.warning("signing keys not re-read: %s", e.message)
                    self._warned = True
                return
            self._keys, self._stamp, self._warned = keys, stamp, False

    def _stat(self) -> Stamp:
        try:
            found = os.stat(self._path)
        except OSError:
            return None
        return found.st_ino, found.st_size, found.st_mtime_ns
