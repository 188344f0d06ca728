"""Publishing the frozen issues: the archive's files are written through outputs/files.py
`publish`, with a manifest of their own, so a build never removes them and an archive
moved to another folder leaves nothing behind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from publisher.core.config import Config
from publisher.outputs.files import Publication, publish, read_manifest
from publisher.state.store import IssueRow, Store, reading

if TYPE_CHECKING:
    from publisher.outputs.archive import ArchivedIssue

# The archive's pages and feeds are imported where they are written, so that a build
# with nothing to do only checks that the archive's files are in place.

ARCHIVE_MANIFEST = "archive-files.json"
"""In the state folder: the archive files publisher wrote in the output folder."""


def archived(row: IssueRow) -> ArchivedIssue:
    from publisher.outputs.archive import ArchivedIssue

    titles = tuple(post["title"] for post in json.loads(row.posts))
    return ArchivedIssue(
        row.number, row.cadence, row.created_at, row.subject, row.archive_html, titles
    )


def publish_issues(config: Config, store: Store) -> Publication | None:
    """Write every issue's page, the index of issues and its feeds; None when there is no
    archive yet (or [digest] archive turns it off and it never had files)."""
    issues = [archived(row) for row in store.issues()]
    manifest = config.paths.state / ARCHIVE_MANIFEST
    if not issues and not manifest.exists():
        return None
    from publisher.outputs.archive import archive_files

    files = archive_files(config, issues) if issues else {}
    return publish(config.paths.output, files, manifest)


def publish_archive(config: Config) -> Publication | None:
    """`publish_issues` from the state database, read-only; nothing before it exists."""
    with reading(config.state_db) as store:
        if store is None:
            return None
        return publish_issues(config, store)


def archive_in_place(config: Config) -> bool:
    """Whether every file the archive wrote is still there (no rendering, no parsing)."""
    listed = read_manifest(config.paths.state / ARCHIVE_MANIFEST)
    if listed is None:
        with reading(config.state_db) as store:
            return store is None or next(store.issues(), None) is None
    return all((config.paths.output / name).is_file() for name in listed)
