"""The subscriber list, in the state database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from enum import Enum

from publisher.core.models import SUBSCRIBER_STATUSES
from publisher.state.readers import store_preferences
from publisher.state.rows import Queries, SubscriberRow, from_text, to_text

_SELECT_SUBSCRIBERS = (
    "SELECT id, email, email_key, name, status, created_at, updated_at, revision FROM subscribers"
)


class Activation(Enum):
    ACTIVATED = "activated"
    ALREADY_ACTIVE = "already active"
    REFUSED = "refused"
    """Nobody, or their status changed since the link was made."""


class SubscriberQueries(Queries):
    def find_subscriber(self, email_key: str) -> SubscriberRow | None:
        row = self._db.execute(
            _SELECT_SUBSCRIBERS + " WHERE email_key = ?", (email_key,)
        ).fetchone()
        return _subscriber(row) if row else None

    def subscriber_by_id(self, subscriber_id: int) -> SubscriberRow | None:
        row = self._db.execute(_SELECT_SUBSCRIBERS + " WHERE id = ?", (subscriber_id,)).fetchone()
        return _subscriber(row) if row else None

    def subscriber_by_old_id(self, old_id: int) -> tuple[SubscriberRow, str] | None:
        """The subscriber an id (perhaps merged away) now belongs to, and its key then.

        Links mailed before addresses compared case-insensitively name the id and key of
        that time; the merge migration kept both here."""
        try:
            row = self._db.execute(
                "SELECT subscriber_id, old_key FROM subscriber_aliases WHERE alias_id = ?",
                (old_id,),
            ).fetchone()
        except sqlite3.OperationalError:  # a read-only store not yet migrated
            return None
        if row is None:
            return None
        subscriber = self.subscriber_by_id(row[0])
        return (subscriber, row[1]) if subscriber else None

    def add_subscriber(
        self, email: str, email_key: str, name: str, status: str, now: datetime
    ) -> SubscriberRow:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (email, email_key, name, status, to_text(now), to_text(now)),
            )
        row = self.find_subscriber(email_key)
        assert row is not None
        return row

    def add_subscriber_if_new(
        self, email: str, email_key: str, name: str, status: str, now: datetime
    ) -> tuple[SubscriberRow, bool]:
        """The subscriber with this key, stored with `status` if there was none; True if new.

        Safe when two requests add the same address at once: one inserts, both get the row.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO subscribers "
                "(email, email_key, name, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (email, email_key, name, status, to_text(now), to_text(now)),
            )
            created = cursor.rowcount == 1
        row = self.find_subscriber(email_key)
        assert row is not None
        return row, created

    def forget_unconfirmed(self, before: datetime) -> int:
        """Delete sign-ups still `pending` since before `before` (their links have expired);
        they were never mailed a digest, so nothing refers to them."""
        with self.transaction() as db:
            cursor = db.execute(
                "DELETE FROM subscribers WHERE status = 'pending' AND updated_at < ? "
                "AND id NOT IN (SELECT subscriber_id FROM deliveries)",
                (to_text(before),),
            )
            return cursor.rowcount

    def activate_subscriber(
        self,
        subscriber_id: int,
        revision: int,
        now: datetime,
        choice: tuple[Iterable[str] | None, str] | None = None,
    ) -> Activation:
        """Make a subscriber active, unless their status was set since `revision`.

        A confirmation link made before someone unsubscribed must not re-activate them,
        however close in time the two were: every status change raises the revision (a
        trigger does it, whoever changes it). `choice` (categories, cadence) is stored in
        the same transaction, only when this call is the one that activates them: a link
        opened again later must not undo what the reader chose since.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT status, revision FROM subscribers WHERE id = ?", (subscriber_id,)
            ).fetchone()
            if row is None:
                return Activation.REFUSED
            if row[0] == "active":
                return Activation.ALREADY_ACTIVE
            cursor = db.execute(
                "UPDATE subscribers SET status = 'active', updated_at = ? "
                "WHERE id = ? AND revision = ?",
                (to_text(now), subscriber_id, revision),
            )
            if cursor.rowcount != 1:
                return Activation.REFUSED
            if choice is not None:
                store_preferences(db, subscriber_id, choice[0], choice[1], now)
            return Activation.ACTIVATED

    def set_subscriber_status(self, subscriber_id: int, status: str, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE subscribers SET status = ?, updated_at = ? WHERE id = ?",
                (status, to_text(now), subscriber_id),
            )

    def subscribers(self, status: str | None = None) -> Iterator[SubscriberRow]:
        query = _SELECT_SUBSCRIBERS
        arguments: tuple[str, ...] = ()
        if status:
            query += " WHERE status = ?"
            arguments = (status,)
        for row in self._db.execute(query + " ORDER BY id", arguments):
            yield _subscriber(row)

    def subscriber_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(SUBSCRIBER_STATUSES, 0)
        for status, count in self._db.execute(
            "SELECT status, count(*) FROM subscribers GROUP BY status"
        ):
            counts[status] = count
        return counts


def _subscriber(row: tuple[object, ...]) -> SubscriberRow:
    return SubscriberRow(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        from_text(str(row[5])),
        from_text(str(row[6])),
        int(str(row[7])),
    )
