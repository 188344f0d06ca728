"""Digests and the delivery ledger: one row per (digest, subscriber), in the state database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from publisher.core.models import DELIVERY_STATUSES
from publisher.state.rows import (
    DeliveryChange,
    DigestRow,
    FailedDelivery,
    PendingDelivery,
    Queries,
    from_text,
    maybe_time,
    to_text,
)


class LedgerQueries(Queries):
    def mailed_post_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT post_id FROM mailed_posts")}

    def has_mailed_anything(self) -> bool:
        return self._db.execute("SELECT 1 FROM mailed_posts LIMIT 1").fetchone() is not None

    def mark_posts_mailed(self, post_ids: Iterable[str], now: datetime) -> int:
        """Record posts as already sent without a digest (the explicit baseline): no reader
        is sent them after this, whether or not an issue held them before."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT INTO mailed_posts (post_id, digest_id, recorded_at) VALUES (?, NULL, ?) "
                "ON CONFLICT (post_id) DO UPDATE SET digest_id = NULL WHERE digest_id IS NOT NULL",
                [(post_id, to_text(now)) for post_id in post_ids],
            )
            return db.total_changes - before

    def digest(self, digest_id: int) -> DigestRow:
        row = self._db.execute(
            "SELECT id, created_at, subject, html, text, completed_at FROM digests WHERE id = ?",
            (digest_id,),
        ).fetchone()
        return DigestRow(row[0], from_text(row[1]), row[2], row[3], row[4], maybe_time(row[5]))

    def digest_post_ids(self, digest_id: int) -> tuple[str, ...]:
        rows = self._db.execute(
            "SELECT post_id FROM mailed_posts WHERE digest_id = ? ORDER BY position", (digest_id,)
        )
        return tuple(row[0] for row in rows)

    def unfinished_digest_ids(self) -> list[int]:
        rows = self._db.execute("SELECT id FROM digests WHERE completed_at IS NULL ORDER BY id")
        return [row[0] for row in rows]

    def recent_digests(self, limit: int) -> list[tuple[DigestRow, dict[str, int]]]:
        rows = self._db.execute(
            "SELECT id FROM digests ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [(self.digest(row[0]), self.delivery_counts(row[0])) for row in rows]

    def finish_digest_if_done(self, digest_id: int, now: datetime) -> bool:
        """Mark the digest complete when no delivery is left pending or in flight."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE digests SET completed_at = ? WHERE id = ? AND completed_at IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM deliveries WHERE digest_id = ? "
                "AND status IN ('pending', 'sending'))",
                (to_text(now), digest_id, digest_id),
            )
            return cursor.rowcount == 1

    # deliveries -------------------------------------------------------------

    def mark_interrupted_ambiguous(self, digest_id: int, now: datetime) -> int:
        """Rows left `sending` by a run that died: the server may have the message."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'ambiguous', updated_at = ?, "
                "response = 'interrupted after the ledger said sending' "
                "WHERE digest_id = ? AND status = 'sending'",
                (to_text(now), digest_id),
            )
            return cursor.rowcount

    def digests_with_ambiguous(self) -> list[int]:
        rows = self._db.execute(
            "SELECT DISTINCT digest_id FROM deliveries WHERE status = 'ambiguous' "
            "ORDER BY digest_id"
        )
        return [row[0] for row in rows]

    def requeue_ambiguous(self, digest_id: int, now: datetime) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'pending', updated_at = ? "
                "WHERE digest_id = ? AND status = 'ambiguous'",
                (to_text(now), digest_id),
            )
            if cursor.rowcount:
                db.execute("UPDATE digests SET completed_at = NULL WHERE id = ?", (digest_id,))
            return cursor.rowcount

    def pending_deliveries(
        self, digest_id: int, after_subscriber: int, limit: int = 500
    ) -> list[PendingDelivery]:
        """The next page of pending rows of still-active subscribers, in subscriber order."""
        rows = self._db.execute(
            # Ordered by the deliveries key, so a page reads the primary-key index in order
            # instead of sorting every remaining row (quadratic over a 100,000 list).
            "SELECT s.id, s.email, s.email_key, s.name, d.cut FROM deliveries d "
            "JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.digest_id = ? AND d.subscriber_id > ? AND d.status = 'pending' "
            "AND s.status = 'active' ORDER BY d.subscriber_id LIMIT ?",
            (digest_id, after_subscriber, limit),
        ).fetchall()
        return [PendingDelivery(*row) for row in rows]

    def skip_inactive_pending(self, digest_id: int, now: datetime) -> int:
        """Pending rows of people who unsubscribed or bounced since the digest was made."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'failed', updated_at = ?, "
                "response = 'not sent: subscriber no longer active' "
                "WHERE digest_id = ? AND status = 'pending' AND subscriber_id IN "
                "(SELECT id FROM subscribers WHERE status != 'active')",
                (to_text(now), digest_id),
            )
            return cursor.rowcount

    def requeue_failed(
        self,
        digest_id: int,
        now: datetime,
        *,
        code: str = "",
        since: datetime | None = None,
    ) -> tuple[int, int]:
        """Failed rows of still-active subscribers back to pending (never sent or ambiguous
        ones); `code` is a reply code (554) or the start of an enhanced status (5.7.1).
        Returns how many were requeued and how many matched but are of readers no longer
        active."""
        where, arguments = _failed_rows(digest_id, code, since)
        inactive = "SELECT count(*) FROM deliveries WHERE subscriber_id NOT IN "
        inactive += "(SELECT id FROM subscribers WHERE status = 'active') AND "
        inactive += where
        requeue = "UPDATE deliveries SET status = 'pending', updated_at = ? WHERE subscriber_id "
        requeue += "IN (SELECT id FROM subscribers WHERE status = 'active') AND "
        requeue += where
        with self.transaction() as db:
            (left,) = db.execute(inactive, arguments).fetchone()
            count = db.execute(requeue, [to_text(now), *arguments]).rowcount
            if count:
                db.execute("UPDATE digests SET completed_at = NULL WHERE id = ?", (digest_id,))
            return count, int(left)

    def failed_deliveries(self, digest_id: int) -> list[FailedDelivery]:
        rows = self._db.execute(
            "SELECT s.id, s.email, d.status, d.code, d.response, d.updated_at "
            "FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id "
            "WHERE d.digest_id = ? AND d.status IN ('failed', 'ambiguous') "
            "ORDER BY d.subscriber_id",
            (digest_id,),
        ).fetchall()
        return [FailedDelivery(r[0], r[1], r[2], r[3], r[4], from_text(r[5])) for r in rows]

    def has_digest(self, digest_id: int) -> bool:
        query = "SELECT 1 FROM digests WHERE id = ?"
        return self._db.execute(query, (digest_id,)).fetchone() is not None

    def apply_delivery_changes(
        self, digest_id: int, changes: Iterable[DeliveryChange], now: datetime
    ) -> None:
        """Several rows' new states (and subscribers' statuses) in one transaction."""
        changes = list(changes)
        if not changes:
            return
        moment = to_text(now)
        with self.transaction() as db:
            db.executemany(
                "UPDATE deliveries SET status = ?, code = ?, response = ?, updated_at = ?, "
                "attempts = attempts + ? WHERE digest_id = ? AND subscriber_id = ?",
                [
                    (
                        c.status,
                        c.code,
                        c.response,
                        moment,
                        int(c.attempt),
                        digest_id,
                        c.subscriber_id,
                    )
                    for c in changes
                ],
            )
            db.executemany(
                "UPDATE subscribers SET status = ?, updated_at = ? WHERE id = ?",
                [
                    (c.subscriber_status, moment, c.subscriber_id)
                    for c in changes
                    if c.subscriber_status
                ],
            )

    def delivery_counts(self, digest_id: int | None = None) -> dict[str, int]:
        counts = dict.fromkeys(DELIVERY_STATUSES, 0)
        query = "SELECT status, count(*) FROM deliveries"
        arguments: tuple[int, ...] = ()
        if digest_id is not None:
            query += " WHERE digest_id = ?"
            arguments = (digest_id,)
        for status, count in self._db.execute(query + " GROUP BY status", arguments):
            counts[status] = count
        return counts


def _failed_rows(digest_id: int, code: str, since: datetime | None) -> tuple[str, list[object]]:
    """The WHERE clause (and its arguments) of a digest's failed rows that `code` (a reply
    code or the start of an enhanced status) and `since` pick."""
    where = "digest_id = ? AND status = 'failed'"
    arguments: list[object] = [digest_id]
    if code.isdigit():
        where += " AND code = ?"
        arguments.append(int(code))
    elif code:
        where += " AND (response = ? OR response LIKE ? ESCAPE '\\')"
        escaped = code.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        arguments += [code, escaped + " %"]
    if since is not None:
        where += " AND updated_at >= ?"
        arguments.append(to_text(since))
    return where, arguments
