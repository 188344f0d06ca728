"""The build cache database (state/cache.sqlite3): disposable, separate from the ledger."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from publisher.core.errors import StateError

CACHE_FORMAT = 2
"""Bumped whenever the cache's tables or records change; any other version is rebuilt."""

_CACHE_TABLES = (
    """CREATE TABLE sources (
        name     TEXT PRIMARY KEY,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        digest   BLOB NOT NULL,
        record   TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE TABLE rendered (
        digest   BLOB NOT NULL,
        reader   TEXT NOT NULL,
        url      TEXT NOT NULL,
        html     TEXT NOT NULL,
        summary  TEXT NOT NULL,
        PRIMARY KEY (digest, reader, url)
    ) WITHOUT ROWID""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

_SIDE_FILES = ("-journal", "-wal", "-shm")
SourceRow = tuple[str, int, int, bytes, str]
"""(name, size, mtime_ns, digest, record)."""
RenderedRow = tuple[bytes, str, str, str, str]
"""(digest, reader, url, html, summary)."""


class CacheDatabase:
    """The build cache: parsed posts by file, rendered content by file hash and URL.

    Use `open_cache_database`. Every method raises StateError on an SQLite error.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    def close(self) -> None:
        self._db.close()

    def _error(self, e: sqlite3.Error) -> StateError:
        return StateError(f"build cache {self.path}: {e}")

    def sources(self) -> list[SourceRow]:
        try:
            return self._db.execute(
                "SELECT name, size, mtime_ns, digest, record FROM sources"
            ).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from e

    def rendered(self, digest: bytes, reader: str, url: str) -> tuple[str, str] | None:
        try:
            row = self._db.execute(
                "SELECT html, summary FROM rendered WHERE digest = ? AND reader = ? AND url = ?",
                (digest, reader, url),
            ).fetchone()
        except sqlite3.Error as e:
            raise self._error(e) from e
        return (str(row[0]), str(row[1])) if row else None

    def note(self, key: str) -> str | None:
        """A value kept with `save(notes=…)`."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", ("note:" + key,))
            found = row.fetchone()
        except sqlite3.Error as e:
            raise self._error(e) from e
        return str(found[0]) if found else None

    def save(
        self,
        sources: Iterable[SourceRow],
        removed: Iterable[str],
        rendered: Iterable[RenderedRow],
        notes: Mapping[str, str | None] | None = None,
    ) -> None:
        """Remember these sources, renderings and notes (None forgets a note); forget the
        removed sources and the renderings no source has any more."""
        try:
            with self._db:
                for key, value in (notes or {}).items():
                    self._db.execute("DELETE FROM meta WHERE key = ?", ("note:" + key,))
                    if value is not None:
                        self._db.execute(
                            "INSERT INTO meta (key, value) VALUES (?, ?)", ("note:" + key, value)
                        )
                changed = self._db.executemany(
                    "INSERT OR REPLACE INTO sources (name, size, mtime_ns, digest, record) "
                    "VALUES (?, ?, ?, ?, ?)",
                    sources,
                ).rowcount
                changed += self._db.executemany(
                    "DELETE FROM sources WHERE name = ?", ((name,) for name in removed)
                ).rowcount
                self._db.executemany(
                    "INSERT OR REPLACE INTO rendered (digest, reader, url, html, summary) "
                    "VALUES (?, ?, ?, ?, ?)",
                    rendered,
                )
                if changed:
                    self._db.execute(
                        "DELETE FROM rendered WHERE digest NOT IN (SELECT digest FROM sources)"
                    )
        except sqlite3.Error as e:
            raise self._error(e) from e


def _cache_matches(db: sqlite3.Connection, fingerprint: str) -> bool:
    if db.execute("PRAGMA user_version").fetchone()[0] != CACHE_FORMAT:
        return False
    row = db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
    return row is not None and row[0] == fingerprint


def _reset_cache(db: sqlite3.Connection, fingerprint: str) -> None:
    with db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            db.execute(f'DROP TABLE "{table}"')
        for statement in _CACHE_TABLES:
            db.execute(statement)
        db.execute("INSERT INTO meta (key, value) VALUES ('fingerprint', ?)", (fingerprint,))
        db.execute(f"PRAGMA user_version = {CACHE_FORMAT}")


def _open_cache_file(path: Path, fingerprint: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"{path.as_uri()}?mode=rwc", uri=True, timeout=30)
    try:
        db.execute("PRAGMA busy_timeout = 30000")
        # A lost last commit only makes the cache older, which it checks; no fsync per build.
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        if not _cache_matches(db, fingerprint):
            _reset_cache(db, fingerprint)
    except BaseException:
        db.close()
        raise
    return db


def open_cache_database(
    path: Path, fingerprint: str, *, writable: bool, start_over: bool = False
) -> CacheDatabase | None:
    """The build cache at `path` if it was made with this `fingerprint` (the format, the
    code and the settings it depends on).

    Writable: one made with another fingerprint is emptied, and a file that is not an
    SQLite database is replaced; StateError when the file cannot be opened or replaced.
    Read-only: None when there is no usable cache; never creates or changes anything.
    `start_over` replaces whatever is there with an empty cache.
    """
    if not writable:
        if not path.exists():
            return None
        try:
            db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
        except sqlite3.Error:
            return None
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            if _cache_matches(db, fingerprint):
                return CacheDatabase(db, path)
        except sqlite3.Error:
            pass
        db.close()
        return None
    if not start_over:
        try:
            return CacheDatabase(_open_cache_file(path, fingerprint), path)
        except sqlite3.DatabaseError as e:
            if "not a database" not in str(e) and "malformed" not in str(e):
                raise StateError(f"cannot open build cache {path}: {e}") from e
    try:  # garbage where the cache should be: start again
        for leftover in [path, *(path.with_name(path.name + end) for end in _SIDE_FILES)]:
            leftover.unlink(missing_ok=True)
        return CacheDatabase(_open_cache_file(path, fingerprint), path)
    except (OSError, sqlite3.Error) as e:
        raise StateError(f"cannot replace the damaged build cache {path}: {e}") from e
