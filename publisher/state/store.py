"""The state store: the only module with SQL.

Schema changes are ordered migrations, each applied in its own transaction and
recorded in `schema_migrations`. Datetimes are stored as UTC ISO 8601 text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from publisher.core.errors import StateError
from publisher.core.models import DELIVERY_STATUSES, SUBSCRIBER_STATUSES

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "first-seen dates and build log",
        """
        CREATE TABLE posts_seen (
            post_id     TEXT PRIMARY KEY,
            source_name TEXT NOT NULL,
            first_seen  TEXT NOT NULL
        );
        CREATE TABLE builds (
            id          INTEGER PRIMARY KEY,
            finished_at TEXT NOT NULL,
            posts       INTEGER NOT NULL,
            written     INTEGER NOT NULL,
            unchanged   INTEGER NOT NULL,
            warnings    INTEGER NOT NULL
        );
        """,
    ),
    (
        "subscribers, digests and the delivery ledger",
        """
        CREATE TABLE subscribers (
            id         INTEGER PRIMARY KEY,
            email      TEXT NOT NULL,
            email_key  TEXT NOT NULL UNIQUE,
            name       TEXT NOT NULL DEFAULT '',
            status     TEXT NOT NULL
                       CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE digests (
            id           INTEGER PRIMARY KEY,
            created_at   TEXT NOT NULL,
            subject      TEXT NOT NULL,
            html         TEXT NOT NULL,
            text         TEXT NOT NULL,
            completed_at TEXT
        );
        CREATE TABLE mailed_posts (
            post_id     TEXT PRIMARY KEY,
            digest_id   INTEGER REFERENCES digests (id),
            position    INTEGER NOT NULL DEFAULT 0,
            recorded_at TEXT NOT NULL
        );
        CREATE TABLE deliveries (
            digest_id     INTEGER NOT NULL REFERENCES digests (id),
            subscriber_id INTEGER NOT NULL REFERENCES subscribers (id),
            status        TEXT NOT NULL
                          CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'ambiguous')),
            attempts      INTEGER NOT NULL DEFAULT 0,
            code          INTEGER,
            response      TEXT NOT NULL DEFAULT '',
            updated_at    TEXT NOT NULL,
            PRIMARY KEY (digest_id, subscriber_id)
        );
        CREATE INDEX deliveries_by_status ON deliveries (digest_id, status);
        """,
    ),
    (
        "when each job last ran to completion",
        """
        CREATE TABLE job_runs (
            job         TEXT PRIMARY KEY,
            finished_at TEXT NOT NULL
        );
        """,
    ),
)

_SELECT_SUBSCRIBERS = (
    "SELECT id, email, email_key, name, status, created_at, updated_at FROM subscribers"
)


def to_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC).isoformat()


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class SubscriberRow:
    id: int
    email: str
    email_key: str
    name: str
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class DigestRow:
    id: int
    created_at: datetime
    subject: str
    html: str
    text: str
    completed_at: datetime | None


@dataclass(frozen=True)
class PendingDelivery:
    subscriber_id: int
    email: str
    email_key: str
    name: str


@dataclass(frozen=True)
class BuildRecord:
    finished_at: datetime
    posts: int
    written: int
    unchanged: int
    warnings: int


class Store:
    """An open state database. Use `open_store` or `read_only_store`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db:
                yield self._db
        except sqlite3.Error as e:
            raise StateError(f"state database {self.path}: {e}") from e

    def schema_version(self) -> int:
        row = self._db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
        return int(row[0])

    # first-seen dates -------------------------------------------------------

    def first_seen_dates(self) -> dict[str, datetime]:
        rows = self._db.execute("SELECT post_id, first_seen FROM posts_seen")
        return {post_id: from_text(seen) for post_id, seen in rows}

    def record_first_seen(self, seen: Iterable[tuple[str, str, datetime]]) -> None:
        """Remember (post id, source name, moment) for posts seen for the first time."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO posts_seen (post_id, source_name, first_seen) "
                "VALUES (?, ?, ?)",
                [(post_id, source, to_text(moment)) for post_id, source, moment in seen],
            )

    # builds -----------------------------------------------------------------

    def record_build(self, record: BuildRecord) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO builds (finished_at, posts, written, unchanged, warnings) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    to_text(record.finished_at),
                    record.posts,
                    record.written,
                    record.unchanged,
                    record.warnings,
                ),
            )

    def last_build(self) -> BuildRecord | None:
        row = self._db.execute(
            "SELECT finished_at, posts, written, unchanged, warnings FROM builds "
            "ORDER BY id DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        return BuildRecord(from_text(row[0]), *row[1:])

    def record_job_run(self, job: str, finished_at: datetime) -> None:
        """A job ran to the end, whether or not it had anything to do."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO job_runs (job, finished_at) VALUES (?, ?) "
                "ON CONFLICT (job) DO UPDATE SET finished_at = excluded.finished_at",
                (job, to_text(finished_at)),
            )

    def last_job_run(self, job: str) -> datetime | None:
        try:
            row = self._db.execute(
                "SELECT finished_at FROM job_runs WHERE job = ?", (job,)
            ).fetchone()
        except sqlite3.OperationalError:  # a read-only view of a store not yet migrated
            return None
        return from_text(row[0]) if row else None

    # subscribers ------------------------------------------------------------

    def find_subscriber(self, email_key: str) -> SubscriberRow | None:
        row = self._db.execute(
            _SELECT_SUBSCRIBERS + " WHERE email_key = ?", (email_key,)
        ).fetchone()
        return _subscriber(row) if row else None

    def subscriber_by_id(self, subscriber_id: int) -> SubscriberRow | None:
        row = self._db.execute(_SELECT_SUBSCRIBERS + " WHERE id = ?", (subscriber_id,)).fetchone()
        return _subscriber(row) if row else None

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
        self, subscriber_id: int, unchanged_since: datetime, now: datetime
    ) -> bool:
        """Make a subscriber active, unless their status changed after `unchanged_since`.

        True when they are active afterwards. A confirmation link made before someone
        unsubscribed must not re-activate them; times compare in whole seconds, the
        resolution of the link's timestamp.
        """
        with self.transaction() as db:
            row = db.execute(
                "SELECT status, updated_at FROM subscribers WHERE id = ?", (subscriber_id,)
            ).fetchone()
            if row is None:
                return False
            if row[0] == "active":
                return True
            if int(from_text(row[1]).timestamp()) > int(unchanged_since.timestamp()):
                return False
            cursor = db.execute(
                "UPDATE subscribers SET status = 'active', updated_at = ? "
                "WHERE id = ? AND updated_at = ?",
                (to_text(now), subscriber_id, row[1]),
            )
            return cursor.rowcount == 1

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

    # digests ----------------------------------------------------------------

    def mailed_post_ids(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT post_id FROM mailed_posts")}

    def has_mailed_anything(self) -> bool:
        return self._db.execute("SELECT 1 FROM mailed_posts LIMIT 1").fetchone() is not None

    def mark_posts_mailed(self, post_ids: Iterable[str], now: datetime) -> int:
        """Record posts as already sent without a digest (the explicit baseline)."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO mailed_posts (post_id, digest_id, recorded_at) "
                "VALUES (?, NULL, ?)",
                [(post_id, to_text(now)) for post_id in post_ids],
            )
            return db.total_changes - before

    def create_digest(
        self,
        now: datetime,
        subject: str,
        html: str,
        text: str,
        post_ids: Iterable[str],
    ) -> int:
        """One transaction: the digest, its posts, and a pending delivery per active subscriber."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO digests (created_at, subject, html, text) VALUES (?, ?, ?, ?)",
                (to_text(now), subject, html, text),
            )
            digest_id = cursor.lastrowid
            assert digest_id is not None
            db.executemany(
                "INSERT INTO mailed_posts (post_id, digest_id, position, recorded_at) "
                "VALUES (?, ?, ?, ?)",
                [(post_id, digest_id, i, to_text(now)) for i, post_id in enumerate(post_ids)],
            )
            db.execute(
                "INSERT INTO deliveries (digest_id, subscriber_id, status, updated_at) "
                "SELECT ?, id, 'pending', ? FROM subscribers WHERE status = 'active'",
                (digest_id, to_text(now)),
            )
        return digest_id

    def digest(self, digest_id: int) -> DigestRow:
        row = self._db.execute(
            "SELECT id, created_at, subject, html, text, completed_at FROM digests WHERE id = ?",
            (digest_id,),
        ).fetchone()
        return DigestRow(row[0], from_text(row[1]), row[2], row[3], row[4], _maybe_time(row[5]))

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
            "SELECT s.id, s.email, s.email_key, s.name FROM deliveries d "
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

    def mark_sending(self, digest_id: int, subscriber_id: int, now: datetime) -> None:
        self._set_delivery(digest_id, subscriber_id, "sending", None, "", now, attempt=True)

    def mark_delivery(
        self,
        digest_id: int,
        subscriber_id: int,
        status: str,
        code: int | None,
        response: str,
        now: datetime,
    ) -> None:
        self._set_delivery(digest_id, subscriber_id, status, code, response, now)

    def _set_delivery(
        self,
        digest_id: int,
        subscriber_id: int,
        status: str,
        code: int | None,
        response: str,
        now: datetime,
        *,
        attempt: bool = False,
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE deliveries SET status = ?, code = ?, response = ?, updated_at = ?, "
                "attempts = attempts + ? WHERE digest_id = ? AND subscriber_id = ?",
                (status, code, response, to_text(now), int(attempt), digest_id, subscriber_id),
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


def _subscriber(row: tuple[object, ...]) -> SubscriberRow:
    return SubscriberRow(
        int(str(row[0])),
        str(row[1]),
        str(row[2]),
        str(row[3]),
        str(row[4]),
        from_text(str(row[5])),
        from_text(str(row[6])),
    )


def _maybe_time(text: str | None) -> datetime | None:
    return from_text(text) if text else None


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"
    )
    current = db.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()[0]
    if current > len(MIGRATIONS):
        raise StateError(
            f"state database {path} has schema version {current}, newer than this publisher "
            f"knows ({len(MIGRATIONS)})",
            hint="upgrade publisher; do not delete the state, it holds first-seen dates",
        )
    for version, (name, script) in enumerate(MIGRATIONS, start=1):
        if version <= current:
            continue
        # executescript would commit on its own; run statement by statement in one transaction.
        with db:
            for statement in script.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
            )


def _connect(uri: str, path: Path) -> sqlite3.Connection:
    try:
        # Deliveries are recorded from mailer threads; callers serialise access with a lock.
        db = sqlite3.connect(
            uri, uri=True, timeout=30, isolation_level="DEFERRED", check_same_thread=False
        )
        db.execute("PRAGMA busy_timeout = 30000")
        db.execute("PRAGMA foreign_keys = ON")
        return db
    except sqlite3.Error as e:
        raise StateError(f"cannot open state database {path}: {e}") from e


def open_store(path: Path) -> Store:
    """Open (creating if needed) and migrate the state database."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StateError(f"cannot create state folder {path.parent}: {e.strerror}") from e
    db = _connect(f"{path.as_uri()}?mode=rwc", path)
    try:
        db.execute("PRAGMA journal_mode = WAL")
        # Every commit reaches the disk before it returns: the ledger's `sending` row must
        # exist before DATA, or a power loss could lead to a second copy.
        db.execute("PRAGMA synchronous = FULL")
        _migrate(db, path)
    except sqlite3.DatabaseError as e:
        db.close()
        raise StateError(
            f"state database {path} is unreadable: {e}",
            hint="restore it from a backup; it holds first-seen dates and the delivery ledger",
        ) from e
    except StateError:
        db.close()
        raise
    return Store(db, path)


@contextmanager
def reading(path: Path) -> Iterator[Store | None]:
    """`read_only_store`, closed on leaving: `with reading(path) as store:`."""
    store = read_only_store(path)
    try:
        yield store
    finally:
        if store is not None:
            store.close()


def read_only_store(path: Path) -> Store | None:
    """The existing state database opened read-only, or None when there is none yet."""
    if not path.exists():
        return None
    db = _connect(f"{path.as_uri()}?mode=ro", path)
    try:
        db.execute("SELECT count(*) FROM schema_migrations").fetchone()
    except sqlite3.DatabaseError as e:
        db.close()
        raise StateError(f"state database {path} is unreadable: {e}") from e
    return Store(db, path)
