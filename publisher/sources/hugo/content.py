"""Which files of a Hugo site are pages, of which language and section, and which of those
are posts, following Hugo 0.111.3's content model.

- A folder holding an `index.*` content file is a leaf bundle: that file is the page and
  everything else in the folder (Markdown included) is one of its resources.
- `_index.*` files are list pages (home, sections), never posts.
- Root folders are sections; a deeper folder is a section when it has an `_index.*` file.
- A file's language is its name's suffix (`post.ko.md`) when that is a configured language,
  else the language whose `contentDir` holds it, else the default language.
- Posts are the regular pages of `mainSections`; without it, of the root section with the
  most pages (ties go to the first in name order), per language, as Hugo decides it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath

from publisher.sources.hugo.frontmatter import Markup, markup_of, unsupported_markup_note
from publisher.sources.hugo.site_config import HugoSiteConfig

MAX_CONTENT_FILES = 50_000


class PageKind(StrEnum):
    PAGE = "page"
    LIST = "list"
    """`_index.*`: the home page or a section page."""


@dataclass(frozen=True)
class ContentFile:
    path: Path
    content_dir: Path
    relative: str
    """Hugo's `.File.Path`: under the content folder, "/"-separated."""
    lang: str
    kind: PageKind
    markup: Markup
    dir: str
    """Hugo's `.File.Dir`: "/"-separated with a trailing "/", or ""."""
    translation_base_name: str
    content_base_name: str
    section: str
    sections: tuple[str, ...]
    leaf_bundle: bool


@dataclass(frozen=True)
class ContentTree:
    files: tuple[ContentFile, ...]
    notes: tuple[str, ...]

    def pages(self, lang: str | None = None) -> list[ContentFile]:
        return [
            file
            for file in self.files
            if file.kind is PageKind.PAGE and (lang is None or file.lang == lang)
        ]


@dataclass(frozen=True)
class BuildFlags:
    drafts: bool = False
    future: bool = False
    expired: bool = False


def is_built(
    flags: BuildFlags,
    *,
    draft: bool,
    publish_date: datetime | None,
    expiry_date: datetime | None,
    now: datetime,
) -> bool:
    """Hugo's `shouldBuild`: drafts, future (by publish date) and expired pages are left out
    unless their flag is on."""
    if draft and not flags.drafts:
        return False
    if not flags.future and publish_date is not None and publish_date > now:
        return False
    return flags.expired or expiry_date is None or expiry_date >= now


def default_main_section(sections: Iterable[str]) -> str | None:
    """The root section with the most pages (one entry per built page); first by name on ties."""
    counts = Counter(section for section in sections if section)
    if not counts:
        return None
    best = max(counts.values())
    return min(section for section, count in counts.items() if count == best)


def main_sections(config: HugoSiteConfig, built_page_sections: Sequence[str]) -> tuple[str, ...]:
    if config.main_sections is not None:
        return config.main_sections
    default = default_main_section(built_page_sections)
    return (default,) if default else ()


def post_files(config: HugoSiteConfig, tree: ContentTree, *, all_pages: bool) -> list[ContentFile]:
    """The pages that are posts: every regular page, or those of each language's main
    sections. Without `mainSections` that is the section with the most pages on disk (Hugo
    counts the pages it builds, so drafts may tip it the other way: set mainSections)."""
    pages = tree.pages()
    if all_pages:
        return pages
    chosen: dict[str, tuple[str, ...]] = {
        language.code: main_sections(
            config, [page.section for page in pages if page.lang == language.code]
        )
        for language in config.languages
    }
    return [page for page in pages if page.section in chosen.get(page.lang, ())]


def find_content(config: HugoSiteConfig) -> ContentTree:
    """Every content file of every language, classified; unsupported formats noted."""
    files: list[ContentFile] = []
    notes: list[str] = []
    codes = {language.code for language in config.languages}
    ignore = [re.compile(pattern) for pattern in _ignore_patterns(config)]
    seen: set[Path] = set()
    for language in config.languages:
        content_dir = (config.root / language.content_dir).resolve()
        if content_dir in seen or not content_dir.is_dir():
            continue
        seen.add(content_dir)
        dir_language = _dir_language(config, content_dir)
        paths = _walk(content_dir, ignore)
        folders = _Folders(content_dir, paths, config.root)
        for path in paths:
            found = _classify(path, folders, codes, dir_language, notes)
            if found is not None:
                files.append(found)
            if len(files) > MAX_CONTENT_FILES:
                shown = _from_root(content_dir, config.root)
                notes.append(f"{shown}: more than {MAX_CONTENT_FILES} content files; rest skipped")
                return ContentTree(tuple(files), tuple(notes))
    return ContentTree(tuple(files), tuple(notes))


def _from_root(path: Path, root: Path) -> str:
    """A path as notes name it: from the site's root when it is inside it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _ignore_patterns(config: HugoSiteConfig) -> list[str]:
    patterns = config.raw.get("ignorefiles") or []
    return [str(p) for p in patterns] if isinstance(patterns, list) else [str(patterns)]


def _dir_language(config: HugoSiteConfig, content_dir: Path) -> str:
    """The language a content folder belongs to when files carry no suffix."""
    owners = [
        lang.code
        for lang in config.languages
        if (config.root / lang.content_dir).resolve() == content_dir
    ]
    if config.default_content_language in owners or not owners:
        return config.default_content_language
    return owners[0]


def _walk(content_dir: Path, ignore: list[re.Pattern[str]]) -> list[Path]:
    """Every file under the content folder, hidden ones and `ignoreFiles` left out; linked
    folders are not followed (no loops), and the walk stops at MAX_CONTENT_FILES files."""
    found: list[Path] = []
    for folder, subfolders, names in os.walk(content_dir, followlinks=False):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            if name.startswith(".") or any(rx.search(str(path)) for rx in ignore):
                continue
            found.append(path)
            if len(found) > MAX_CONTENT_FILES:
                return found
    return found


def _split_name(name: str, codes: set[str]) -> tuple[str, str | None, str]:
    """("post", "ko", "md") for post.ko.md; the language only when it is a configured one."""
    stem, _, extension = name.rpartition(".")
    base, _, suffix = stem.rpartition(".")
    if base and suffix in codes:
        return base, suffix, extension
    return stem, None, extension


class _Folders:
    """Which folders of one content folder hold `index.*` (leaf bundles) or `_index.*`."""

    def __init__(self, content_dir: Path, paths: Sequence[Path], root: Path) -> None:
        self.content_dir = content_dir
        self.root = root
        self.leaf = self._holding(paths, "index")
        self.branch = self._holding(paths, "_index")

    @staticmethod
    def _holding(paths: Sequence[Path], stem: str) -> frozenset[Path]:
        return frozenset(
            path.parent
            for path in paths
            if path.name.split(".", 1)[0] == stem and markup_of(path) is not None
        )

    def inside_leaf_bundle(self, path: Path) -> bool:
        """True for a bundle's resources: a file below a folder holding an `index.*` page,
        other than that page itself."""
        folder = path.parent
        if path.name.split(".", 1)[0] == "index" and folder != self.content_dir:
            folder = folder.parent
        while folder != self.content_dir and self.content_dir in folder.parents:
            if folder in self.leaf:
                return True
            folder = folder.parent
        return False

    def section_of(self, folder: Path) -> tuple[str, ...]:
        """The deepest section holding `folder`: a root folder, or one with `_index.*`."""
        parts = folder.relative_to(self.content_dir).parts
        for depth in range(len(parts), 0, -1):
            if depth == 1 or self.content_dir.joinpath(*parts[:depth]) in self.branch:
                return tuple(parts[:depth])
        return ()


def _classify(
    path: Path, folders: _Folders, codes: set[str], dir_language: str, notes: list[str]
) -> ContentFile | None:
    content_dir = folders.content_dir
    relative = PurePosixPath(path.relative_to(content_dir).as_posix())
    note = unsupported_markup_note(PurePosixPath(_from_root(path, folders.root)))
    if note is not None:
        notes.append(note)
        return None
    markup = markup_of(relative)
    if markup is None or folders.inside_leaf_bundle(path):
        return None
    base, lang, _ = _split_name(relative.name, codes)
    parent = relative.parent
    folder = "" if str(parent) == "." else f"{parent}/"
    leaf = base == "index"
    content_base = parent.name if leaf and folder else base
    section_parts = folders.section_of(path.parent.parent if leaf else path.parent)
    return ContentFile(
        path=path,
        content_dir=content_dir,
        relative=str(relative),
        lang=lang or dir_language,
        kind=PageKind.LIST if base == "_index" else PageKind.PAGE,
        markup=markup,
        dir=folder,
        translation_base_name=base,
        content_base_name=content_base,
        section=section_parts[0] if section_parts else "",
        sections=section_parts,
        leaf_bundle=leaf,
    )
