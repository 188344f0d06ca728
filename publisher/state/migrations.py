"""The state database's schema: ordered migrations, each applied in its own transaction.

A schema change is one more entry at the end of MIGRATIONS; never edit or reorder one
that has shipped. Each is recorded in `schema_migrations`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from publisher.core.errors import StateError

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
    (
        "ids and dates adopted from the feed subscribers held before",
        """
        CREATE TABLE adoptions (
            id         INTEGER PRIMARY KEY,
            feed       TEXT NOT NULL,
            adopted_at TEXT NOT NULL,
            id_scheme  TEXT NOT NULL CHECK (id_scheme IN ('source', 'link')),
            matched    INTEGER NOT NULL,
            unmatched  INTEGER NOT NULL
        );
        CREATE TABLE adopted_posts (
            source_id   TEXT PRIMARY KEY,
            entry_id    TEXT NOT NULL,
            published   TEXT,
            link        TEXT NOT NULL,
            adoption_id INTEGER NOT NULL REFERENCES adoptions (id)
        );
        """,
    ),
)


def migrate(db: sqlite3.Connection, path: Path) -> None:
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
