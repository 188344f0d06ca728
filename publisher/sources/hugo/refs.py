"""`ref` and `relref` targets: which page a content path names, as Hugo 0.111.3 looks it up.

By content path, with or without its extension, relative to the linking page first, then
from the content root, then by file name when only one page has it; in the linking page's
language.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from dataclasses import dataclass

from publisher.sources.hugo.content import ContentFile


@dataclass(frozen=True)
class RefTarget:
    file: ContentFile
    permalink: str
    rel_permalink: str


class RefIndex:
    def __init__(self, targets: Iterable[RefTarget]) -> None:
        self.by_path: dict[tuple[str, str], RefTarget] = {}
        self.by_name: dict[tuple[str, str], list[RefTarget]] = {}
        for target in targets:
            for key in ref_keys(target.file):
                self.by_path.setdefault((target.file.lang, key), target)
            name = posixpath.basename(target.file.relative).lower()
            self.by_name.setdefault((target.file.lang, name), []).append(target)

    def find(self, target: str, origin: ContentFile) -> RefTarget | None:
        path = target.split("#", 1)[0].strip().lower()
        candidates = (
            [path.lstrip("/")]
            if path.startswith("/")
            else [posixpath.normpath(posixpath.join(origin.dir.lower(), path)), path]
        )
        for candidate in candidates:
            found = self.by_path.get((origin.lang, candidate.strip("/")))
            if found is not None:
                return found
        named = self.by_name.get((origin.lang, posixpath.basename(path)), [])
        return named[0] if len(named) == 1 else None

    def link(self, target: str, origin: ContentFile, absolute: bool) -> str | None:
        """The permalink (or relative link) `target` names from `origin`, anchor kept."""
        found = self.find(target, origin)
        if found is None:
            return None
        anchor = "#" + target.split("#", 1)[1] if "#" in target else ""
        return (found.permalink if absolute else found.rel_permalink) + anchor


def ref_keys(file: ContentFile) -> list[str]:
    relative = file.relative.lower()
    stem = relative.rsplit(".", 1)[0]
    keys = [relative, stem]
    if "." in posixpath.basename(stem):
        keys.append(stem.rsplit(".", 1)[0] + "." + relative.rsplit(".", 1)[1])
        keys.append(stem.rsplit(".", 1)[0])
    if file.leaf_bundle:
        keys.append(file.dir.lower().rstrip("/"))
    return keys
