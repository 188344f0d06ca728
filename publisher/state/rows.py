"""What the state store hands out, and how its times are written (UTC ISO 8601 text)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from publisher.core.errors import StateError


def to_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC).isoformat()


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


def maybe_time(text: str | None) -> datetime | None:
    return from_text(text) if text else None


class SubscriberRow(NamedTuple):
    id: int
    email: str
    email_key: str
    name: str
    status: str
    created_at: datetime
    updated_at: datetime
    revision: int = 0
    """How many times the status was set: a confirmation link is good only for the
    revision it was made at, so one sent before an unsubscribe cannot undo it."""


class DigestRow(NamedTuple):
    id: int
    created_at: datetime
    subject: str
    html: str
    text: str
    completed_at: datetime | None


class PendingDelivery(NamedTuple):
    subscriber_id: int
    email: str
    email_key: str
    name: str
    cut: int | None = None
    """Which cut of the issue this reader gets; None for the whole digest."""


class FailedDelivery(NamedTuple):
    """A ledger row that did not reach its reader for sure: failed or ambiguous."""

    subscriber_id: int
    email: str
    status: str
    code: int | None
    response: str
    updated_at: datetime


class DeliveryChange(NamedTuple):
    """One row's new state, written with others in one transaction (a group commit)."""

    subscriber_id: int
    status: str
    code: int | None = None
    response: str = ""
    attempt: bool = False
    """Count one more attempt (set with `sending`)."""
    subscriber_status: str = ""
    """When set, the subscriber's own status too: a 5.1.1 reply makes them `bounced`."""


class BuildRecord(NamedTuple):
    finished_at: datetime
    posts: int
    written: int
    unchanged: int
    warnings: int


class Queries:
    """An open state database connection; the store's parts build on it."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.Error as e:
            raise StateError(f"state database {self.path}: {e}") from e
