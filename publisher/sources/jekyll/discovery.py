"""Which files of a Jekyll site are posts (and drafts), found by Jekyll 4.3's walk.

Jekyll walks the site from its root, skipping entries that start with `.`, `_`, `#` or
`~`, end with `~`, or match `exclude:` (unless `include:` names them). In every folder it
visits it reads `_posts/` (files named `YYYY-MM-DD-title.ext`, any depth) and, when
asked, `_drafts/` (any file with an extension). The folders above `_posts` become the
post's first categories.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

DATE_FILENAME = re.compile(r"^(?:.+/)*?(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^./]+)$")
DATELESS_FILENAME = re.compile(r"^(?:.+/)*(.*)(\.[^./]+)$")
SPECIAL_LEADING = (".", "_", "#", "~")
MAX_POST_FILES = 100_000


@dataclass(frozen=True)
class PostFile:
    """One post or draft file, with what its path tells."""

    path: Path
    relative_path: str
    folder_categories: tuple[str, ...]
    draft: bool
    name_date: str | None
    name_slug: str
    ext: str

    @property
    def basename_without_ext(self) -> str:
        return self.path.name[: -len(self.ext)] if self.ext else self.path.name

    @property
    def slug(self) -> str:
        """The file name slug, trailing periods removed (`:title` and `:slug` start here)."""
        return self.name_slug.rstrip(".")

    @property
    def cleaned_relative_path(self) -> str:
        """`:path`: the relative path without extension, `_posts` and trailing periods."""
        stem = self.relative_path[: -len(self.ext)] if self.ext else self.relative_path
        return stem.replace("_posts", "", 1).rstrip(".")


@dataclass(frozen=True)
class EntryRules:
    """Jekyll's `EntryFilter`: `exclude:` and `include:` from the site config."""

    exclude: Sequence[str]
    include: Sequence[str] = (".htaccess",)

    def _matches(self, patterns: Sequence[str], relative: str, is_dir: bool) -> bool:
        for pattern in patterns:
            pattern = pattern.lstrip("/")
            if fnmatch.fnmatchcase(relative, pattern) or relative.startswith(pattern):
                return True
            if is_dir and pattern == relative + "/":
                return True
        return False

    def keeps(self, relative: str, is_dir: bool) -> bool:
        """Whether an entry (path from the site root) is read."""
        name = relative.rsplit("/", 1)[-1]
        if name.endswith("."):
            return False
        included = self._matches(self.include, relative, is_dir) or self._matches(
            self.include, name, is_dir
        )
        excluded = self._matches(
            [p for p in self.exclude if p not in self.include], relative, is_dir
        )
        if excluded and not included:
            return False
        if included:
            return True
        return not (name.startswith(SPECIAL_LEADING) or name.endswith("~"))


def _listing(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        return []


def _site_folders(root: Path, rules: EntryRules, skip: Path | None) -> Iterator[str]:
    """Relative paths ('' for the root) of every folder Jekyll walks."""
    pending = [""]
    while pending:
        relative = pending.pop(0)
        yield relative
        for entry in _listing(root / relative):
            child = f"{relative}/{entry.name}" if relative else entry.name
            if (
                entry.is_dir(follow_symlinks=False)
                and rules.keeps(child, True)
                and (skip is None or (root / child).resolve() != skip)
            ):
                pending.append(child)


def _files_under(root: Path, folder: str, rules: EntryRules) -> Iterator[str]:
    """Files anywhere under `folder` (like Ruby's `Dir["**/*"]`: no dot entries)."""
    count = 0
    for current, dirs, files in os.walk(root / folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            relative = (Path(current) / name).relative_to(root).as_posix()
            inner = relative[len(folder) + 1 :]
            if rules.keeps(relative, False) and not any(
                part.startswith(SPECIAL_LEADING) for part in inner.split("/")[:-1]
            ):
                count += 1
                if count > MAX_POST_FILES:
                    raise ValueError(f"more than {MAX_POST_FILES} files under {folder}")
                yield relative


def _post_file(root: Path, relative: str, magic: str, base: str) -> PostFile | None:
    inner = relative[len(f"{base}/{magic}/".lstrip("/")) :]
    draft = magic == "_drafts"
    match = (DATELESS_FILENAME if draft else DATE_FILENAME).match(inner)
    if match is None:
        return None
    if draft:
        name_date, name_slug, ext = None, match.group(1), match.group(2)
    else:
        name_date, name_slug, ext = match.group(1), match.group(2), match.group(3)
    return PostFile(
        path=root / relative,
        relative_path=relative,
        folder_categories=tuple(p for p in base.split("/") if p),
        draft=draft,
        name_date=name_date,
        name_slug=name_slug,
        ext=ext,
    )


def find_posts(
    root: Path,
    rules: EntryRules,
    *,
    drafts: bool = False,
    destination: Path | None = None,
) -> list[PostFile]:
    """Every post file (and draft file when `drafts`) Jekyll would read, in walk order."""
    skip = (destination or root / "_site").resolve()
    found: list[PostFile] = []
    for base in _site_folders(root, rules, skip):
        for magic in ("_posts", "_drafts") if drafts else ("_posts",):
            folder = f"{base}/{magic}" if base else magic
            if not (root / folder).is_dir():
                continue
            for relative in _files_under(root, folder, rules):
                post = _post_file(root, relative, magic, base)
                if post is not None:
                    found.append(post)
    return found


def published_reason(rules: EntryRules, relative: str, destination: str = "_site") -> str | None:
    """Why `jekyll build` would publish the folder at `relative` (from the site's root, ""
    for the root), or None when it would not."""
    destination = destination.strip("/") or "_site"
    if relative == destination or relative.startswith(f"{destination}/"):
        return f"it is inside {destination}/, which Jekyll empties and refills on every build"
    if not relative:
        return f"Jekyll copies the files of the site's root into {destination}/"
    parts = relative.split("/")
    if all(rules.keeps("/".join(parts[: n + 1]), True) for n in range(len(parts))):
        return f"Jekyll copies it into {destination}/{relative}/"
    return None


def output_ext(ext: str, markdown_ext: Sequence[str]) -> str:
    """The extension Jekyll writes: `.html` for Markdown and HTML, else the file's own."""
    bare = ext.lstrip(".").lower()
    if bare in {e.lower() for e in markdown_ext} or bare == "html":
        return ".html"
    return ext
