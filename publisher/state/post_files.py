"""What each post file was published as: the id it keeps, when it was first published,
and what readers saw of it (its link, title and date).

A file keeps the entry id a build first published it under, so that renaming its
permalink settings, fixing a typo in a title a URL is made from, or renaming the file
itself (same bytes, or edited but with the link, or the title and date, readers know)
does not make it a new post to feed readers or mail it again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import NamedTuple

from publisher.state.rows import Queries, from_text, maybe_time, to_text

_COLUMNS = "source_name, entry_id, digest, size, visible_since, link, title, published, gone"
_BEFORE_LINKS = "source_name, entry_id, digest, size, visible_since"


class PostFile(NamedTuple):
    source_name: str
    entry_id: str
    digest: bytes
    """The hash of its bytes when last built: a renamed file is found by it."""
    size: int
    visible_since: datetime
    """When a build first published it."""
    link: str | None = None
    """What readers saw: its URL, title and date (None in rows kept before they were)."""
    title: str | None = None
    published: datetime | None = None
    gone: bool = False
    """The file was missing at a build since: it did not go away in this one."""

    def seen_as(self) -> tuple[str | None, str | None, datetime | None]:
        return self.link, self.title, self.published


class PostFileQueries(Queries):
    def post_files(self) -> list[PostFile]:
        for columns in (_COLUMNS, _BEFORE_LINKS):
            try:
                rows = self._db.execute(f"SELECT {columns} FROM post_files").fetchall()  # noqa: S608
            except sqlite3.OperationalError:  # a read-only view of a store not yet migrated
                continue
            return [_post_file(*row) for row in rows]
        return []

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
                    f"INSERT INTO post_files ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",  # noqa: S608
                    (
                        file.source_name,
                        file.entry_id,
                        file.digest,
                        file.size,
                        found[0] if found else to_text(file.visible_since),
                        file.link,
                        file.title,
                        None if file.published is None else to_text(file.published),
                    ),
                )

    def record_gone_post_files(self, present: Collection[str]) -> None:
        """Files not among `present` went away: a later build does not take a new file for
        one of them renamed and edited (only for one renamed with its bytes unchanged)."""
        with self.transaction() as db:
            names = db.execute("SELECT source_name FROM post_files WHERE gone = 0").fetchall()
            db.executemany(
                "UPDATE post_files SET gone = 1 WHERE source_name = ?",
                [(name,) for (name,) in names if name not in present],
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


def _post_file(
    name: str,
    entry_id: str,
    digest: bytes,
    size: int,
    visible_since: str,
    link: str | None = None,
    title: str | None = None,
    published: str | None = None,
    gone: int = 0,
) -> PostFile:
    return PostFile(
        name,
        entry_id,
        digest,
        size,
        from_text(visible_since),
        link,
        title,
        maybe_time(published),
        bool(gone),
    )
