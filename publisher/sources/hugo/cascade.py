"""Hugo 0.111.3's `cascade`: front matter a list page (the home page's or a section's
`_index.md`) and the site config hand down to the pages below them.

As Hugo 0.111.3 does it (hugolib/page__meta.go, and checked against the real `hugo` in
tests/test_hugo_cascade.py):

- `cascade` is a map (every key handed down; a `_target` in it is one more key, not a
  target) or a list of maps, each with an optional `_target` (`path`, `kind`, `lang`,
  `environment`: case-insensitive globs; `path` matches "/" + the content file's path with
  its extension, such as `/posts/a.md` or `/posts/_index.md`).
- A page keeps its own value of a key; a missing key comes from the closest list page
  whose cascade has it, then the next one up, then the site config's `cascade`. Keys are
  replaced whole (a page's own `_build` is not merged with a cascaded one).
- A list page's cascade applies to the list page itself too; a list page that is not built
  (a draft, or dated in the future or expired) takes every page below it out of the build.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from publisher.sources.hugo.content import ContentFile, ContentTree, PageKind

PRODUCTION = "production"
MAX_INDEX_BYTES = 1 << 20


@dataclass(frozen=True)
class CascadeEntry:
    params: Mapping[str, Any]
    """Lower-cased top-level keys."""
    path: str = ""
    kind: str = ""
    lang: str = ""
    environment: str = ""

    def matches(self, kind: str, path: str, lang: str) -> bool:
        checks = ((self.kind, kind), (self.path, path.lower()), (self.lang, lang))
        return all(not pattern or glob(pattern).fullmatch(value) for pattern, value in checks) and (
            not self.environment or bool(glob(self.environment).fullmatch(PRODUCTION))
        )


@functools.lru_cache(maxsize=256)
def glob(pattern: str) -> re.Pattern[str]:
    """Hugo's glob (gobwas/glob with "/" as separator), case-insensitive: `*` stays within a
    folder, `**` crosses folders, `?` is one character, `[...]` a class, `{a,b}` either."""
    out, depth, index, text = [], 0, 0, pattern.lower()
    while index < len(text):
        char = text[index]
        if text.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{":
            out.append("(?:")
            depth += 1
        elif char == "}" and depth:
            out.append(")")
            depth -= 1
        elif char == "," and depth:
            out.append("|")
        elif char == "[" and (end := text.find("]", index + 1)) > index:
            inner = text[index + 1 : end]
            negate = inner.startswith("!")
            body = re.escape(inner[1:] if negate else inner).replace("\\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            index = end
        elif char == "\\" and index + 1 < len(text):
            index += 1
            out.append(re.escape(text[index]))
        else:
            out.append(re.escape(char))
        index += 1
    out.append(")" * depth)
    return re.compile("".join(out), re.S)


def read_cascade(value: Any) -> tuple[CascadeEntry, ...]:
    """A `cascade` value: a map (one entry, every key handed down, `_target` included, as
    Hugo 0.111.3 reads it) or a list of maps with optional `_target`s."""
    if isinstance(value, Mapping):
        return (CascadeEntry(_lowered(value)),)
    if not isinstance(value, list):
        return ()
    entries = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        params = _lowered(item)
        target = params.pop("_target", None)
        target = _lowered(target) if isinstance(target, Mapping) else {}
        entries.append(
            CascadeEntry(
                params,
                **{k: str(target.get(k) or "") for k in ("path", "kind", "lang", "environment")},
            )
        )
    return tuple(entries)


def _lowered(mapping: Mapping[Any, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in mapping.items()}


@dataclass(frozen=True)
class Branch:
    """What a page inherits from the list pages above it."""

    params: Mapping[str, Any] = field(default_factory=dict)
    """Keys the page does not set itself, from the closest cascade that has them."""
    draft: str = ""
    """The list page above it that is a draft ("" for none)."""
    publish_date: datetime | None = None
    """The latest publish date of the list pages above it."""
    expiry_date: datetime | None = None
    """The earliest expiry date of the list pages above it."""

    def under(self, own: Mapping[str, Any]) -> dict[str, Any]:
        """The page's front matter with the inherited keys it lacks."""
        return {**self.params, **own}


NodeDates = Callable[[Mapping[str, Any], ContentFile], tuple[datetime | None, datetime | None]]
"""(publish date, expiry date) of a list page from its front matter."""


@dataclass(frozen=True)
class _Node:
    key: str
    """The folder under the content folder ("" for the home page)."""
    file: ContentFile | None
    entries: tuple[CascadeEntry, ...]
    params: Mapping[str, Any]


class Cascades:
    """Every list page of a site, read when a page first asks what it inherits."""

    def __init__(
        self,
        tree: ContentTree,
        site_cascade: Any,
        read: Callable[[ContentFile], Mapping[str, Any] | None],
    ) -> None:
        self.lists = [file for file in tree.files if file.kind is PageKind.LIST]
        self.site_entries = read_cascade(site_cascade)
        self.read = read
        self.section_keys = {_folder(file) for file in self.lists}
        self._nodes: dict[tuple[str, str], _Node] = {}

    def digest(self) -> str:
        """What every list page says (their bytes), for the build cache's fingerprint."""
        digest = hashlib.sha256()
        for file in sorted(self.lists, key=lambda f: str(f.path)):
            digest.update(str(file.path).encode("utf-8", "surrogateescape") + b"\0")
            try:
                with open(file.path, "rb") as handle:
                    digest.update(handle.read(MAX_INDEX_BYTES))
            except OSError:
                digest.update(b"\0unreadable")
        return digest.hexdigest()

    def branch(self, file: ContentFile, dates: NodeDates) -> Branch:
        """What `file` (a regular page) inherits, and what the list pages above it allow."""
        ancestors = list(self._ancestors(file))
        params = _inherited("page", "/" + file.relative, file.lang, ancestors, self.site_entries)
        draft, publish, expiry = "", None, None
        for index, node in enumerate(ancestors):
            kind = "home" if node.key == "" else "section"
            path = "/" + (node.file.relative if node.file else node.key)
            own = {
                **_inherited(kind, path, file.lang, ancestors[index:], self.site_entries),
                **node.params,
            }
            if node.file is None:
                continue
            if not draft and _truthy(own.get("draft")):
                draft = node.file.relative
            start, end = dates(own, node.file)
            publish = start if publish is None or (start and start > publish) else publish
            expiry = end if expiry is None or (end and end < expiry) else expiry
        return Branch(params, draft, publish, expiry)

    def _ancestors(self, file: ContentFile) -> Iterator[_Node]:
        """List pages above `file`, the closest first, ending with the home page."""
        folder = PurePosixPath(file.relative).parent
        if file.leaf_bundle:
            folder = folder.parent
        while True:
            key = "" if str(folder) == "." else folder.as_posix()
            if key == "" or key in self.section_keys or "/" not in key:
                yield self._node(key, file.lang)
            if key == "":
                return
            folder = folder.parent

    def _node(self, key: str, lang: str) -> _Node:
        if (key, lang) not in self._nodes:
            found = next(
                (f for f in self.lists if _folder(f) == key and f.lang == lang),
                None,
            )
            params = (self.read(found) or {}) if found is not None else {}
            entries = read_cascade(params.get("cascade"))
            self._nodes[(key, lang)] = _Node(key, found, entries, params)
        return self._nodes[(key, lang)]


def _folder(file: ContentFile) -> str:
    parent = PurePosixPath(file.relative).parent
    return "" if str(parent) == "." else parent.as_posix()


def _inherited(
    kind: str, path: str, lang: str, nodes: Sequence[_Node], site: Sequence[CascadeEntry]
) -> dict[str, Any]:
    """Keys from the cascades of `nodes` (closest first), then the site's: the first wins."""
    found: dict[str, Any] = {}
    for entries in [*(node.entries for node in nodes), site]:
        for entry in entries:
            if entry.matches(kind, path, lang):
                for key, value in entry.params.items():
                    found.setdefault(key, value)
    return found


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)
