"""The state store: an open state database and its queries; all SQL lives in publisher/state/.

Parts: subscribers.py (the list), ledger.py (digests and deliveries), adopted.py (ids
and dates adopted from an earlier feed), post_files.py (the id each post file keeps),
readers.py (preferences, what each reader was sent, issues and their archive copies),
this module (first-seen dates, builds, job runs, opening); the schema is in migrations.py.
Datetimes are stored as UTC ISO 8601 text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from publisher.core.errors import StateError
from publisher.state import diagnosis
from publisher.state.adopted import AdoptionQueries
from publisher.state.folder import make_state_folder
from publisher.state.ledger import LedgerQueries
from publisher.state.mail_events import MailEventQueries
from publisher.state.migrations import migrate
from publisher.state.post_files import PostFileQueries
from publisher.state.readers import IssueRow, ReaderQueries
from publisher.state.rows import (
    BuildRecord,
    DigestRow,
    PendingDelivery,
    SubscriberRow,
    from_text,
    to_text,
)
from publisher.state.signing_keys import SigningKeyQueries
from publisher.state.subscribers import SubscriberQueries

__all__ = ["BuildRecord", "DigestRow", "IssueRow", "PendingDelivery", "Store", "SubscriberRow"]


class Store(
    SubscriberQueries,
    LedgerQueries,
    SigningKeyQueries,
    MailEventQueries,
    AdoptionQueries,
    ReaderQueries,
    PostFileQueries,
):
    """An open state database. Use `open_store` or `reading`."""

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

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
        raise diagnosis.open_failure(path, e) from e


def open_store(path: Path) -> Store:
    """Open (creating if needed) and migrate the state database."""
    try:
        make_state_folder(path.parent)
    except OSError as e:
        raise StateError(f"cannot create state folder {path.parent}: {e.strerror}") from e
    db = _connect(f"{path.as_uri()}?mode=rwc", path)
    try:
        diagnosis.check_ours(db, path)
        db.execute("PRAGMA journal_mode = WAL")
        # Every commit reaches the disk before it returns: the ledger's `sending` row must
        # exist before DATA, or a power loss could lead to a second copy.
        db.execute("PRAGMA synchronous = FULL")
        migrate(db, path)
    except sqlite3.DatabaseError as e:
        db.close()
        raise diagnosis.open_failure(path, e) from e
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
    if diagnosis.is_empty_file(path):
        raise diagnosis.empty(path)
    db = _connect(f"{path.as_uri()}?mode=ro", path)
    try:
        diagnosis.check_ours(db, path)
        db.execute("SELECT count(*) FROM schema_migrations").fetchone()
    except sqlite3.DatabaseError as e:
        db.close()
        raise diagnosis.open_failure(path, e) from e
    except StateError:
        db.close()
        raise
    return Store(db, path)
