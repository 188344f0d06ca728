"""What each post file was published as: the id it keeps, and when it was first published.

A file keeps the entry id a build first published it under, so that renaming its
permalink settings, fixing a typo in a title a URL is made from, or renaming the file
itself (same bytes) does not make it a new post to feed readers or mail it again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from publisher.state.rows import Queries, from_text, to_text


class PostFile(NamedTuple):
    source_name: str
    entry_id: str
    digest: bytes
    """The hash of its bytes when last built: a renamed file is found by it."""
    size: int
    visible_since: datetime
    """When a build first published it."""


class PostFileQueries(Queries):
    def post_files(self) -> list[PostFile]:
        try:
            rows = self._db.execute(
                "SELECT source_name, entry_id, digest, size, visible_since FROM post_files"
            ).fetchall()
        except sqlite3.OperationalError:  # a read-only view of a store not yet migrated
            return []
        return [PostFile(n, i, d, s, from_text(v)) for n, i, d, s, v in rows]

    def record_post_files(self, files: Iterable[PostFile]) -> None:
        """New and changed files, each as a new row (so `post_files_version` changes); a
        file keeps the first `visible_since` recorded for it. A row whose id another file
        takes now (the file it was renamed to, a new post at a deleted one's URL) goes."""
        with self.transaction() as db:
            for file in files:
                found = db.execute(
                    "SELECT visible_since FROM post_files WHERE source_name = ?",
                    (file.source_name,),
                ).fetchone()
                db.execute(
                    "DELETE FROM post_files WHERE source_name = ? OR entry_id = ?",
                    (file.source_name, file.entry_id),
                )
                db.execute(
                    "INSERT INTO post_files "
                    "(source_name, entry_id, digest, size, visible_since) VALUES (?, ?, ?, ?, ?)",
                    (
                        file.source_name,
                        file.entry_id,
                        file.digest,
                        file.size,
                        found[0] if found else to_text(file.visible_since),
                    ),
                )

    def built_since_post_files(self) -> bool:
        """Whether a build ran since post files were first kept (this state's first build,
        or the first after upgrading to a publisher that keeps them, is not one)."""
        try:
            row = self._db.execute(
                "SELECT EXISTS (SELECT 1 FROM builds WHERE id > "
                "(SELECT build FROM post_files_since))"
            ).fetchone()
        except sqlite3.OperationalError:  # a read-only view of a store not yet migrated
            return False
        return bool(row[0])

    def post_files_version(self) -> str:
        """Changes whenever `record_post_files` records something (ids only grow)."""
        try:
            row = self._db.execute("SELECT count(*), coalesce(max(id), 0) FROM post_files")
        except sqlite3.OperationalError:  # a read-only view of a store not yet migrated
            return "none"
        count, newest = row.fetchone()
        return f"{count} {newest}"

    def first_seen_by_file(self) -> dict[str, datetime]:
        """The earliest first-seen date recorded for each source name."""
        rows = self._db.execute(
            "SELECT source_name, min(first_seen) FROM posts_seen GROUP BY source_name"
        )
        return {name: from_text(seen) for name, seen in rows}
