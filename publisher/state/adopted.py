"""Ids and published dates adopted from the feed subscribers held before switching."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from publisher.state.rows import Queries, maybe_time, to_text


class AdoptedPost(NamedTuple):
    source_id: str
    """The id the source gives the post (before any adoption)."""
    entry_id: str
    """The id the adopted feed gave it."""
    published: datetime | None
    link: str


class AdoptionQueries(Queries):
    def adopted_posts(self) -> list[AdoptedPost]:
        try:
            rows = self._db.execute(
                "SELECT source_id, entry_id, published, link FROM adopted_posts"
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only view of a store not yet migrated
            return []
        return [AdoptedPost(s, e, maybe_time(p), link) for s, e, p, link in rows]

    def adopted_id_scheme(self) -> str | None:
        """The id scheme of the latest adopted feed, or None when none was adopted."""
        try:
            row = self._db.execute(
                "SELECT id_scheme FROM adoptions ORDER BY id DESC LIMIT 1"
            ).fetchone()
        except sqlite3.OperationalError:
            return None
        return str(row[0]) if row else None

    def record_adoption(
        self,
        feed: str,
        now: datetime,
        scheme: str,
        posts: Iterable[AdoptedPost],
        unmatched: int,
    ) -> int:
        """One transaction: the adoption and its posts (a later adoption of a post wins)."""
        posts = list(posts)
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO adoptions (feed, adopted_at, id_scheme, matched, unmatched) "
                "VALUES (?, ?, ?, ?, ?)",
                (feed, to_text(now), scheme, len(posts), unmatched),
            )
            adoption_id = cursor.lastrowid
            db.executemany(
                "INSERT OR REPLACE INTO adopted_posts "
                "(source_id, entry_id, published, link, adoption_id) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        post.source_id,
                        post.entry_id,
                        to_text(post.published) if post.published else None,
                        post.link,
                        adoption_id,
                    )
                    for post in posts
                ],
            )
        assert adoption_id is not None
        return adoption_id
