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

from publisher.errors import StateError

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
)


def to_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the store")
    return moment.astimezone(UTC).isoformat()


def from_text(text: str) -> datetime:
    return datetime.fromisoformat(text)


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
        db = sqlite3.connect(uri, uri=True, timeout=30, isolation_level="DEFERRED")
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
