"""The state database's schema: ordered migrations, each applied in its own transaction.

A schema change is one more entry at the end of MIGRATIONS; never edit or reorder one
that has shipped. Each is recorded in `schema_migrations`.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from collections.abc import Callable
from pathlib import Path

from publisher.core.errors import StateError

_STRICTEST_FIRST = ("unsubscribed", "bounced", "active", "pending")
_MOST_DONE_FIRST = ("sent", "ambiguous", "sending", "failed", "pending")


def _merge_case_duplicates(db: sqlite3.Connection) -> None:
    """Addresses compare case-insensitively after Unicode NFC: re-key every subscriber and
    merge those that now share a key into the first one seen (its spelling is kept), with
    the strictest status of the group. Each merged id and every old key stay usable by
    unsubscribe links already mailed, through subscriber_aliases."""
    db.execute(
        "CREATE TABLE subscriber_aliases (alias_id INTEGER PRIMARY KEY, "
        "subscriber_id INTEGER NOT NULL REFERENCES subscribers (id), old_key TEXT NOT NULL)"
    )
    rows = db.execute("SELECT id, email_key, status FROM subscribers ORDER BY id").fetchall()
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for row in rows:
        groups.setdefault(unicodedata.normalize("NFC", row[1]).lower(), []).append(row)
    for key, members in groups.items():
        keeper = members[0][0]
        for member_id, old_key, _ in members:
            if old_key != key or member_id != keeper:
                db.execute(
                    "INSERT INTO subscriber_aliases (alias_id, subscriber_id, old_key) "
                    "VALUES (?, ?, ?)",
                    (member_id, keeper, old_key),
                )
        if len(members) > 1:
            _merge_into(db, keeper, members)
        db.execute("UPDATE subscribers SET email_key = ? WHERE id = ?", (key, keeper))


def _merge_into(db: sqlite3.Connection, keeper: int, members: list[tuple[int, str, str]]) -> None:
    status = min((m[2] for m in members), key=_STRICTEST_FIRST.index)
    others = [m[0] for m in members if m[0] != keeper]
    for other in others:
        for digest_id, other_status in db.execute(
            "SELECT digest_id, status FROM deliveries WHERE subscriber_id = ?", (other,)
        ).fetchall():
            mine = db.execute(
                "SELECT status FROM deliveries WHERE digest_id = ? AND subscriber_id = ?",
                (digest_id, keeper),
            ).fetchone()
            if mine is None or _MOST_DONE_FIRST.index(other_status) < _MOST_DONE_FIRST.index(
                mine[0]
            ):
                db.execute(
                    "DELETE FROM deliveries WHERE digest_id = ? AND subscriber_id = ?",
                    (digest_id, keeper),
                )
                db.execute(
                    "UPDATE deliveries SET subscriber_id = ? WHERE digest_id = ? "
                    "AND subscriber_id = ?",
                    (keeper, digest_id, other),
                )
        db.execute("DELETE FROM deliveries WHERE subscriber_id = ?", (other,))
        db.execute("DELETE FROM subscribers WHERE id = ?", (other,))
    db.execute("UPDATE subscribers SET status = ? WHERE id = ?", (status, keeper))


Migration = str | Callable[[sqlite3.Connection], None]
"""SQL statements separated by semicolons, or a function for what SQL cannot say."""

MIGRATIONS: tuple[tuple[str, Migration], ...] = (
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
    ("one subscriber per mailbox: addresses compared case-insensitively", _merge_case_duplicates),
    (
        "fingerprints of the token-signing secrets",
        """
        CREATE TABLE signing_keys (
            fingerprint TEXT PRIMARY KEY,
            added_at    TEXT NOT NULL,
            valid_until TEXT
        );
        """,
    ),
    (
        "bounces, complaints and mailed unsubscribe requests",
        """
        CREATE TABLE mail_events (
            id            INTEGER PRIMARY KEY,
            subscriber_id INTEGER NOT NULL REFERENCES subscribers (id),
            digest_id     INTEGER,
            kind          TEXT NOT NULL CHECK (kind IN
                          ('hard_bounce', 'soft_bounce', 'complaint', 'unsubscribe_request')),
            status        TEXT NOT NULL DEFAULT '',
            reason        TEXT NOT NULL DEFAULT '',
            message_id    TEXT NOT NULL,
            message_date  TEXT NOT NULL,
            action        TEXT NOT NULL,
            recorded_at   TEXT NOT NULL,
            UNIQUE (message_id, subscriber_id, kind)
        );
        CREATE INDEX mail_events_by_subscriber ON mail_events (subscriber_id, kind, message_date);
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
    (
        "a subscriber's revision: how many times their status was set",
        """
        ALTER TABLE subscribers ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
        CREATE TRIGGER subscribers_revision AFTER UPDATE OF status ON subscribers
        BEGIN
            UPDATE subscribers SET revision = revision + 1 WHERE id = NEW.id;
        END;
        """,
    ),
    (
        "reader preferences, what each reader was sent, issues and their archive",
        """
        CREATE TABLE preferences (
            subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
            categories    TEXT,
            cadence       TEXT NOT NULL CHECK (cadence IN ('weekly', 'daily', 'each')),
            updated_at    TEXT NOT NULL
        );
        CREATE TABLE site_categories (
            slug TEXT PRIMARY KEY,
            name TEXT NOT NULL
        );
        CREATE TABLE sent_sets (
            id    INTEGER PRIMARY KEY,
            posts TEXT NOT NULL UNIQUE
        );
        CREATE TABLE reader_sent (
            subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
            sent_set      INTEGER NOT NULL REFERENCES sent_sets (id)
        );
        CREATE TABLE issues (
            digest_id    INTEGER PRIMARY KEY REFERENCES digests (id),
            number       INTEGER NOT NULL UNIQUE,
            cadence      TEXT NOT NULL,
            posts        TEXT NOT NULL,
            archive_html TEXT NOT NULL,
            archive_text TEXT NOT NULL
        );
        CREATE TABLE issue_cuts (
            digest_id INTEGER NOT NULL REFERENCES digests (id),
            cut       INTEGER NOT NULL,
            positions TEXT NOT NULL,
            PRIMARY KEY (digest_id, cut)
        );
        ALTER TABLE deliveries ADD COLUMN cut INTEGER
        """,
    ),
    (
        "how far back what readers were sent is remembered, and the posts forgotten past it",
        """
        CREATE TABLE sent_horizon (
            id    INTEGER PRIMARY KEY CHECK (id = 1),
            floor REAL NOT NULL
        );
        CREATE TABLE expired_posts (
            post_id    TEXT PRIMARY KEY,
            expired_at TEXT NOT NULL
        )
        """,
    ),
    (
        "the id each post file was published under, and when it was first published",
        """
        CREATE TABLE post_files (
            id            INTEGER PRIMARY KEY AUTOINCREMENT,
            source_name   TEXT NOT NULL UNIQUE,
            entry_id      TEXT NOT NULL,
            digest        BLOB NOT NULL,
            size          INTEGER NOT NULL,
            visible_since TEXT NOT NULL
        );
        CREATE INDEX post_files_by_id ON post_files (entry_id);
        CREATE TABLE post_files_since (
            id    INTEGER PRIMARY KEY CHECK (id = 1),
            build INTEGER NOT NULL
        );
        INSERT INTO post_files_since (id, build) SELECT 1, coalesce(max(id), 0) FROM builds
        """,
    ),
    (
        "what readers saw of each post file (link, title, date), and which files went away",
        """
        ALTER TABLE post_files ADD COLUMN link TEXT;
        ALTER TABLE post_files ADD COLUMN title TEXT;
        ALTER TABLE post_files ADD COLUMN published TEXT;
        ALTER TABLE post_files ADD COLUMN gone INTEGER NOT NULL DEFAULT 0
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
            if callable(script):
                script(db)
            for statement in _statements(script) if isinstance(script, str) else ():
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name)
            )


def _statements(script: str) -> list[str]:
    """The SQL statements of `script`; a trigger's body (with its own `;`) stays whole."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                statements.append(pending)
            pending = ""
    if pending.strip(" \n;"):
        statements.append(pending)
    return statements
