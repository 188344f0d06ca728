"""A post file renamed and edited in one build, found by what readers saw of it.

A file renamed with its bytes unchanged is found by its hash (publisher/build/lasting.py).
One that was edited too is found among the files that went away in this build by its
link, else by its title and published date (the way `publisher adopt` matches a feed's
entries, publisher/core/same_post.py). Only a match that is one to one counts: a new
file that could be either of two that went away, or one of two new files that could be
the same one, is a new post, with a warning naming them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from publisher.core.same_post import comparable_link, comparable_title, same_date
from publisher.sources.base import PostIds, Source
from publisher.sources.files import FileProblems, SourceFile, read_bytes
from publisher.sources.records import ParsedPost
from publisher.state.post_files import PostFile


@dataclass(frozen=True)
class NewFile:
    """A file the state knows nothing of, as readers would see it."""

    name: str
    parsed: ParsedPost
    published: datetime | None
    """None when it is dated by when it is first seen, and not seen yet."""
    link: str | None
    """None when its URL waits for its date."""


@dataclass(frozen=True)
class Renames:
    """Renamed and edited post files matched to the files they replace."""

    found: dict[str, str]
    """New name → the name it was published under."""
    warnings: tuple[str, ...] = ()


Pair = tuple[NewFile, PostFile]


def edited_renames(
    source: Source,
    files: Sequence[PostFile],
    new: Sequence[SourceFile],
    ids: PostIds,
    first_seen: dict[str, datetime],
    max_bytes: int,
) -> Renames:
    """`files`: what the state knows, less the files still there and those found by
    their bytes; `new`: the files it knows nothing of, less those found by their bytes."""
    gone = [file for file in files if not file.gone and file.link is not None]
    if not gone or not new:
        return Renames({})
    candidates = [
        read
        for source_file in new
        if (read := _new_file(source, source_file, ids, first_seen, max_bytes)) is not None
    ]

    def same_link(new_file: NewFile, old: PostFile) -> bool:
        link = new_file.link
        if link is None and old.published is not None:  # what its URL would be as that post
            link = source.permalink(new_file.parsed, old.published)
        return link is not None and comparable_link(link) == comparable_link(old.link or "")

    by_link = _pairs(candidates, gone, same_link)
    involved = {n.name for n, _ in by_link} | {o.source_name for _, o in by_link}
    by_title = _pairs(
        [c for c in candidates if c.name not in involved],
        [g for g in gone if g.source_name not in involved],
        _same_title_and_date,
    )
    found: dict[str, str] = {}
    warnings: list[str] = []
    for pairs, what in ((by_link, "link"), (by_title, "title and date")):
        _one_to_one(pairs, what, found, warnings)
    return Renames(found, tuple(warnings))


def _new_file(
    source: Source, file: SourceFile, ids: PostIds, first_seen: dict[str, datetime], max_bytes: int
) -> NewFile | None:
    if file.size > max_bytes:
        return None
    try:
        raw = read_bytes(file.path, file.size)
    except OSError:
        return None  # loading the site reports it
    parsed = source.parse(raw, file, FileProblems(lambda: file.name, []))
    if parsed is None or parsed.hidden is not None:
        return None
    published = (
        ids.adopted_published.get(parsed.id) or parsed.published or first_seen.get(parsed.id)
    )
    link = parsed.url
    if link is None and published is not None:
        link = source.permalink(parsed, published)
    return NewFile(file.name, parsed, published, link)


def _same_title_and_date(new_file: NewFile, old: PostFile) -> bool:
    if new_file.published is None or old.published is None or old.title is None:
        return False
    return comparable_title(new_file.parsed.title) == comparable_title(old.title) and same_date(
        new_file.published, old.published
    )


def _pairs(
    new: Sequence[NewFile], gone: Sequence[PostFile], same: Callable[[NewFile, PostFile], bool]
) -> list[Pair]:
    return [(n, g) for n in new for g in gone if same(n, g)]


def _one_to_one(pairs: list[Pair], what: str, found: dict[str, str], warnings: list[str]) -> None:
    olds: dict[str, list[str]] = {}
    news: dict[str, list[str]] = {}
    for new_file, old in pairs:
        olds.setdefault(new_file.name, []).append(old.source_name)
        news.setdefault(old.source_name, []).append(new_file.name)
    for new_name, old_names in olds.items():
        if len(old_names) == 1 and len(news[old_names[0]]) == 1:
            found[new_name] = old_names[0]
        elif len(old_names) > 1:
            warnings.append(
                f"{new_name}: published as a new post: it has the {what} of "
                f"{_listed(old_names)}, which went away, and could be either"
            )
    for old_name, new_names in news.items():
        if len(new_names) > 1:
            warnings.append(
                f"{_listed(new_names)}: each published as a new post: each has the {what} "
                f"of {old_name}, which went away, and either could be it"
            )


def _listed(names: Sequence[str]) -> str:
    ordered = sorted(names)
    return ", ".join(ordered[:-1]) + " and " + ordered[-1]
