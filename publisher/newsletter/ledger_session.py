"""What sending a digest reports back, counted for the summary and written to the ledger.

`before_data`, `on_held` and `on_result` are the transport's callbacks. Their ledger writes go
through one GroupCommit shared by every connection (see group_commit.py for why that
keeps exactly-once while saving most of the commits).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Protocol

from publisher.newsletter.group_commit import GroupCommit
from publisher.newsletter.run_report import DigestRun, FailedRecipient
from publisher.newsletter.transports import Envelope, Outcome, Result, is_no_such_user
from publisher.state.rows import DeliveryChange
from publisher.state.store import Store


class Progress(Protocol):
    """Told how many messages a digest run will try, then of each result."""

    def start(self, total: int) -> None: ...

    def advance(self, result: Result) -> None: ...


_STATUS = {
    Outcome.SENT: "sent",
    Outcome.TEMPORARY: "pending",
    Outcome.AMBIGUOUS: "ambiguous",
    Outcome.PERMANENT: "failed",
}


class LedgerSession:
    def __init__(
        self,
        store: Store,
        lock: threading.Lock,
        run: DigestRun,
        now: datetime,
        progress: Progress | None,
    ) -> None:
        self.store = store
        self.lock = lock
        """Guards the store's connection, shared with the page reads of pending rows."""
        self.counting = threading.Lock()
        """Guards the counts and addresses: never held across a commit, so a connection
        reporting a result does not wait for another one's fsync."""
        self.run = run
        self.now = now
        self.progress = progress
        self.commits: GroupCommit[DeliveryChange] = GroupCommit(self._write)
        self.addresses: dict[str, str] = {}
        """Address of each envelope in flight, for naming failures in the summary."""

    def _write(self, changes: list[DeliveryChange]) -> None:
        with self.lock:
            self.store.apply_delivery_changes(self.run.digest_id, changes, self.now)

    def envelope_made(self, envelope: Envelope) -> None:
        with self.counting:
            self.addresses[envelope.key] = envelope.recipient

    def before_data(self, envelope: Envelope) -> None:
        self.commits.add_durably(DeliveryChange(int(envelope.key), "sending", attempt=True))

    def on_held(self, result: Result) -> None:
        """A refusal held back while the transport tells a reader's refusal from the relay's:
        its row goes back to pending, on disk before the next envelope begins."""
        change = DeliveryChange(int(result.key), "pending", result.code, result.text)
        self.commits.add_durably(change)

    def on_result(self, result: Result) -> None:
        status = _STATUS[result.outcome]
        bounced = result.outcome is Outcome.PERMANENT and is_no_such_user(result)
        with self.counting:
            address = self.addresses.pop(result.key, result.key)
            self._count(result.outcome, bounced)
            if status in ("failed", "ambiguous"):
                self.run.note_failure(FailedRecipient(address, status, result.code, result.text))
        self.commits.add(
            DeliveryChange(
                int(result.key),
                status,
                result.code,
                result.text,
                subscriber_status="bounced" if bounced else "",
            )
        )
        if self.progress is not None:
            self.progress.advance(result)

    def unbuildable(self, subscriber_id: int, address: str, reason: str) -> None:
        """A message that could not even be made for this reader: failed, and the run goes on."""
        with self.counting:
            self.addresses[str(subscriber_id)] = address
        text = f"the message could not be made: {reason}"
        self.on_result(Result(str(subscriber_id), Outcome.PERMANENT, None, text, 0, "compose"))

    def _count(self, outcome: Outcome, bounced: bool) -> None:
        run = self.run
        if outcome is Outcome.SENT:
            run.sent += 1
        elif outcome is Outcome.TEMPORARY:
            run.temporary += 1
        elif outcome is Outcome.AMBIGUOUS:
            run.ambiguous += 1
        else:
            run.failed += 1
            run.bounced += int(bounced)

    def finish(self) -> None:
        self.commits.flush()
