"""Digests as a publisher before per-reader issues stored them: one digest row for every
active subscriber, its posts in mailed_posts, no issue. The package only reads such rows
now (a store upgraded in place still holds them), so tests write them here, in SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from publisher.state.rows import to_text


def legacy_digest(
    state_db: Path, now: datetime, subject: str, html: str, text: str, post_ids: Iterable[str]
) -> int:
    """Store a digest the old way, with a pending delivery per active subscriber; its id."""
    moment = to_text(now)
    with sqlite3.connect(state_db) as db:
        cursor = db.execute(
            "INSERT INTO digests (created_at, subject, html, text) VALUES (?, ?, ?, ?)",
            (moment, subject, html, text),
        )
        digest_id = cursor.lastrowid
        assert digest_id is not None
        db.executemany(
            "INSERT INTO mailed_posts (post_id, digest_id, position, recorded_at) "
            "VALUES (?, ?, ?, ?)",
            [(post_id, digest_id, i, moment) for i, post_id in enumerate(post_ids)],
        )
        db.execute(
            "INSERT INTO deliveries (digest_id, subscriber_id, status, updated_at) "
            "SELECT ?, id, 'pending', ? FROM subscribers WHERE status = 'active'",
            (digest_id, moment),
        )
    return digest_id
