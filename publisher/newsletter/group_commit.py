"""One commit for the ledger changes of every connection, made when one of them must wait.

The relay may keep a message from its final dot on, so the row's `sending` must be on
disk before that dot: `add_durably` returns only after a commit that holds it. Every
other change (`sent`, `failed`, back to `pending`) is queued with `add` and goes out
with the next commit, whoever asks for it. Because a connection's next `sending` waits
for a commit that also holds its previous result, each connection has at most one row
`sending` on disk at any moment: a kill leaves at most one ambiguous row per connection.

The first waiter commits for everyone queued so far (a leader, as in group commit in
databases); the others wait for that commit instead of making their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

Change = TypeVar("Change")


class GroupCommit(Generic[Change]):
    def __init__(self, write: Callable[[list[Change]], None]) -> None:
        self._write = write
        self._condition = threading.Condition()
        self._queue: list[Change] = []
        self._started = 0
        """Commits begun; a change queued now goes out with commit number started + 1."""
        self._finished = 0
        self._committing = False
        self._error: BaseException | None = None

    def add(self, change: Change) -> None:
        """Queue a change for the next commit; returns at once."""
        with self._condition:
            self._queue.append(change)

    def add_durably(self, change: Change) -> None:
        """Queue a change and return once a commit holding it has finished."""
        with self._condition:
            self._queue.append(change)
            self._wait_for(self._started + 1)

    def flush(self) -> None:
        """Commit whatever is queued, and return when it is on disk."""
        with self._condition:
            if self._queue:
                self._wait_for(self._started + 1)
            elif self._committing:
                self._wait_for(self._started)

    def _wait_for(self, commit: int) -> None:
        while self._finished < commit:
            if self._error is not None:
                raise self._error
            if self._committing:
                self._condition.wait()
                continue
            self._commit_queue()
        if self._error is not None:
            raise self._error

    def _commit_queue(self) -> None:
        """Called holding the condition; writes with it released."""
        batch, self._queue = self._queue, []
        self._started += 1
        self._committing = True
        self._condition.release()
        try:
            self._write(batch)
        except BaseException as e:
            error: BaseException | None = e
        else:
            error = None
        finally:
            self._condition.acquire()
            self._committing = False
            self._finished += 1
            if error is not None and self._error is None:
                self._error = error
            self._condition.notify_all()
