"""What the state says about each post before a site is loaded: the ids and dates an
adopted feed gave, the id each file was published under before, first-seen dates.

A post keeps the id it was first published under, whatever changes its URL: readers
hold that id, and the delivery ledger knows the post by it. Its file name is the key;
a file renamed with its bytes unchanged (a Jekyll post whose name is its URL) is found
by its hash among the files that went away, and keeps its id and dates too; one renamed
and edited in the same build is found by its link, or title and date
(publisher/build/renamed.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from publisher.core.config import Config
from publisher.sources.base import LastingId, PostIds, Source
from publisher.sources.files import SourceFile, content_hash, read_bytes
from publisher.state.post_files import PostFile
from publisher.state.store import reading


def id_scheme(config: Config, adopted: str | None) -> str:
    """[source] ids, where "auto" is the adopted feed's scheme, else the source's own."""
    if config.source.ids == "auto":
        return adopted or "source"
    return config.source.ids


@dataclass(frozen=True)
class Remembered:
    """What the state says that a build's output depends on, read without reading every
    post file's row (a build with nothing to do stops at this)."""

    first_seen: dict[str, datetime] = field(default_factory=dict)
    """By the source's id of a post."""
    first_seen_files: dict[str, datetime] = field(default_factory=dict)
    """By source name."""
    ids: PostIds = field(default_factory=PostIds)
    """The adopted ids and dates, and the id scheme; `lasting` is not read yet."""
    files_version: str = ""
    """Changes whenever a build records what a post file was published as."""
    has_issues: bool = False
    """Whether a newsletter issue was made, which index.html then links to."""

    def key(self) -> str:
        """All of it as text, for the build cache's key."""
        ids = self.ids
        return "\n".join(
            [
                *(f"{k}\0{v.isoformat()}" for k, v in sorted(self.first_seen.items())),
                f"ids {ids.scheme}",
                *(f"{k}\0{v}" for k, v in sorted(ids.adopted.items())),
                "adopted dates",
                *(f"{k}\0{v.isoformat()}" for k, v in sorted(ids.adopted_published.items())),
                f"post files {self.files_version}",
                # Only when true, so a site without a newsletter keeps its cache key.
                *(["newsletter issues"] if self.has_issues else []),
            ]
        )


def remembered(config: Config) -> Remembered:
    with reading(config.state_db) as store:
        if store is None:
            return Remembered(ids=PostIds(scheme=id_scheme(config, None)))
        adopted = store.adopted_posts()
        ids = PostIds(
            adopted={p.source_id: p.entry_id for p in adopted},
            scheme=id_scheme(config, store.adopted_id_scheme()),
            adopted_published={p.source_id: p.published for p in adopted if p.published},
        )
        return Remembered(
            store.first_seen_dates(),
            store.first_seen_by_file(),
            ids,
            store.post_files_version(),
            store.has_issues(),
        )


def post_ids(
    config: Config, source: Source, scanned: Sequence[SourceFile], known: Remembered
) -> PostIds:
    """Which ids and dates posts get: `known`'s, and what each file was published as."""
    from publisher.build.renamed import edited_renames  # a build that reads posts only

    with reading(config.state_db) as store:
        files = store.post_files() if store is not None else []
        built = store.built_since_post_files() if store is not None else False
    present = {file.name for file in scanned}
    by_name = {file.source_name: file for file in files}
    lasting = {
        name: LastingId(file.entry_id, file.visible_since, file.digest, None, file.seen_as())
        for name, file in by_name.items()
        if name in present
    }
    new = [file for file in scanned if file.name not in by_name]
    found = renames(files, new, present)
    edited = edited_renames(
        source,
        [file for file in files if file.source_name not in present | set(found.values())],
        [file for file in new if file.name not in found],
        known.ids,
        known.first_seen,
        config.source.max_post_bytes,
    )
    seen_files = dict(known.first_seen_files)
    for new_name, old in (found | edited.found).items():
        file = by_name[old]
        lasting[new_name] = LastingId(file.entry_id, file.visible_since, file.digest, old)
        if old in seen_files:
            seen_files[new_name] = seen_files[old]
    return replace(
        known.ids,
        lasting=lasting,
        first_seen_files=seen_files,
        built_before=built,
        warnings=edited.warnings,
    )


def renames(
    files: Sequence[PostFile], new: Sequence[SourceFile], present: set[str]
) -> dict[str, str]:
    """New name → old name, for each file that went away whose bytes exactly one new file
    has (and no other file that went away). Only new files of a size that went away are
    read."""
    gone = [file for file in files if file.source_name not in present]
    sizes = {file.size for file in gone}
    candidates = [source for source in new if source.size in sizes]
    if not candidates:
        return {}
    gone_by_digest: dict[bytes, list[str]] = {}
    for file in gone:
        gone_by_digest.setdefault(file.digest, []).append(file.source_name)
    new_by_digest: dict[bytes, list[str]] = {}
    for source in candidates:
        try:
            digest = content_hash(read_bytes(source.path, source.size))
        except OSError:
            continue  # loading the site reports it
        new_by_digest.setdefault(digest, []).append(source.name)
    return {
        names[0]: gone_by_digest[digest][0]
        for digest, names in new_by_digest.items()
        if len(names) == 1 and len(gone_by_digest.get(digest, ())) == 1
    }
