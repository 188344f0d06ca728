"""In-memory sliding-window rate limits, keyed by client IP or address.

Per process: run one `publisher serve` process (or accept that each worker
counts on its own). Time comes from the caller, so tests move it by hand.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from datetime import datetime, timedelta

PRUNE_AT = 10_000
"""Tracked keys above which stale ones are dropped, keeping memory bounded."""


class RateLimiter:
    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, now: datetime) -> bool:
        """Count a hit for `key` and say whether it is within the limit (refusals don't count)."""
        with self._lock:
            if len(self._hits) > PRUNE_AT:
                self._prune(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Whole seconds until `key` may try again (0 when it may now)."""
        with self._lock:
            hits = self._hits.get(key)
            if not hits or len(hits) < self.limit:
                return 0
            wait = hits[0] + self.window - now
            return max(0, math.ceil(wait.total_seconds()))

    def _prune(self, now: datetime) -> None:
        stale = [
            key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]
        for key in stale:
            del self._hits[key]
