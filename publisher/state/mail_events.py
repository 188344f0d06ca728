"""What came back by mail: bounces, complaints and mailed unsubscribe requests, each with
the message's date and reason, and what was done about it."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import NamedTuple

from publisher.state.rows import Queries, to_text

MAIL_EVENT_KINDS = ("hard_bounce", "soft_bounce", "complaint", "unsubscribe_request")


class MailEvent(NamedTuple):
    subscriber_id: int
    digest_id: int | None
    kind: str
    status: str
    """The RFC 3463 status of a bounce, the feedback type of a complaint."""
    reason: str
    message_id: str
    message_date: datetime
    action: str
    """What it did: bounced, unsubscribed, counted (a soft bounce under the limit), none."""


class MailEventQueries(Queries):
    def record_mail_event(self, event: MailEvent, now: datetime) -> bool:
        """False when this message was already recorded for this subscriber."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO mail_events (subscriber_id, digest_id, kind, status, "
                "reason, message_id, message_date, action, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.subscriber_id,
                    event.digest_id,
                    event.kind,
                    event.status,
                    event.reason,
                    event.message_id,
                    to_text(event.message_date),
                    event.action,
                    to_text(now),
                ),
            )
            return cursor.rowcount == 1

    def soft_bounces_since(self, subscriber_id: int, since: datetime) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM mail_events WHERE subscriber_id = ? AND kind = 'soft_bounce' "
            "AND message_date >= ?",
            (subscriber_id, to_text(since)),
        ).fetchone()
        return int(row[0])

    def mail_event_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(MAIL_EVENT_KINDS, 0)
        try:
            rows = self._db.execute("SELECT kind, count(*) FROM mail_events GROUP BY kind")
            counts.update({kind: count for kind, count in rows})
        except sqlite3.OperationalError:  # a read-only store from before this table
            pass
        return counts
