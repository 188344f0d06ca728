"""The build cache in state/cache.sqlite3: what one build can spare the next.

Two things are kept:
- per post file, its parsed front matter, and per file hash and URL, its
  rendered content (see publisher/sources/loading.py), so a build reads and renders only what
  changed;
- a note of the last build: a hash of all its inputs and of every file it
  wrote. When the inputs are the same and public/ still holds those files, the
  build has nothing to do.

Nothing in it is trusted blindly:
- a post file is taken from the cache only when its size and mtime are the
  ones cached, or, when they changed, when its bytes hash to the cached hash;
- a file changed less than RACY_SECONDS before it was cached is hashed again
  next time, since a second change in the same clock tick keeps its mtime;
- everything else the output depends on (the cache format, publisher's code,
  the libraries, the settings, the templates, first-seen dates, the time zone
  data, and `now` against the posts' dates) is hashed in too, and a cache made
  with other code, libraries or [site] settings is emptied; what the code and
  libraries hash to is remembered beside the cache with the stats of every file
  it was made from (publisher/build/process.py), so that a build with nothing
  to do need not import the libraries to tell;
- a file that is not an SQLite database is replaced, and one that cannot be
  opened means a build without the cache, with a warning.
Deleting the files is always safe: the next build is a cold one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from publisher.build.process import files_below, this_process
from publisher.build.process import sha256 as _sha256
from publisher.core.config import Config
from publisher.core.errors import StateError
from publisher.render.template_files import template_folders
from publisher.sources.base import CachedSource, CacheUpdate, LoadedSite, Source
from publisher.sources.files import SourceFile
from publisher.state.cache_db import CacheDatabase, RenderedRow, SourceRow, open_cache_database

CACHE_NAME = "cache.sqlite3"
RACY_SECONDS = 2
_RACY_NS = RACY_SECONDS * 1_000_000_000
_LAST_BUILD = "last build"


def cache_path(config: Config) -> Path:
    return config.paths.state / CACHE_NAME


def _this_process(config: Config, *, writable: bool = False) -> dict[str, Any]:
    """The code and libraries this process runs, worked out once (see build/process.py)."""
    return this_process(config.paths.state, write=writable)


def fingerprint(source: Source, process: Mapping[str, Any]) -> str:
    """A hash of everything besides a post's own file that its cached parts depend on,
    given what `_this_process` found."""
    parts = {
        **{key: process[key] for key in ("publisher", "post code", "python", "post libraries")},
        "libxml2": process["libxml2"],
        "yaml_loader": process["yaml_loader"],
        "source": [type(source).__name__, source.fingerprint()],
    }
    return _sha256(json.dumps(parts, sort_keys=True).encode("utf-8"))


@functools.cache
def _zone_data(key: str) -> bytes:
    """The zone's data file, read once, like ZoneInfo, which keeps what it loaded."""
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / key
        if path.is_file():
            return path.read_bytes()
    return b""  # from the tzdata package, whose version is hashed


def _templates(site_templates: Path) -> str:
    """A hash of every template a build may read: the site's own and the built-ins."""
    return _sha256(
        *(
            chunk
            for folder in template_folders(site_templates)
            for path in files_below(folder)
            for chunk in (path.relative_to(folder).as_posix().encode(), path.read_bytes())
        )
    )


class BuildInputs:
    """Hashes every input of a build but `now` and the bytes of the post files, which
    stand in by name, size and mtime. What does not change during a build (settings,
    code, libraries, time zone data) is read once, when it is made."""

    def __init__(self, config: Config, source: Source) -> None:
        self._folder = config.paths.templates
        self.templates = _templates(self._folder)
        process = _this_process(config)
        settings = {
            "posts": fingerprint(source, process),
            "config": repr(config),
            "process": process,
            "zone": _sha256(_zone_data(config.site.timezone)),
            "templates": self.templates,
        }
        self._fixed = json.dumps(settings, sort_keys=True).encode("utf-8")

    def templates_unchanged(self) -> bool:
        """Whether the templates are still the ones hashed: one edited during the build
        may or may not be in what it wrote."""
        return _templates(self._folder) == self.templates

    def key(self, sources: Sequence[SourceFile], remembered: str) -> str:
        """The inputs' hash: `remembered` is what the state says (first-seen dates, adopted
        ids, the version of the post files' ids: publisher/build/lasting.py)."""
        listing = "\n".join(f"{s.name}\0{s.size}\0{s.mtime_ns}" for s in sources)
        return _sha256(
            self._fixed,
            listing.encode("utf-8", "surrogateescape"),
            remembered.encode("utf-8", "surrogateescape"),
        )


@dataclass(frozen=True)
class LastBuild:
    """What a build needs to know to tell that the next one would change nothing."""

    inputs: str
    """`build_inputs` as the next build will find them if nothing changes."""
    valid_from: str | None
    """ISO time of the newest published post: `now` before it would hide that post."""
    valid_until: str | None
    """ISO time of the next post dated in the future: from then on, it is published."""
    recheck: dict[str, str]
    """Post files changed too recently for their mtime to vouch for them: name → sha256."""
    outputs: dict[str, str]
    """Every file written under the output folder: name → sha256."""
    posts: int

    @classmethod
    def of(
        cls,
        inputs: str,
        site: LoadedSite,
        sources: Sequence[SourceFile],
        files: Mapping[str, bytes],
    ) -> LastBuild:
        racy_after = time.time_ns() - _RACY_NS  # the file system's clock, not the build's `now`
        digests = site.cache_update.digests
        newest = max((post.published for post in site.posts), default=None)
        return cls(
            inputs=inputs,
            valid_from=newest.isoformat() if newest else None,
            valid_until=site.next_publication.isoformat() if site.next_publication else None,
            recheck={s.name: digests[s.name].hex() for s in sources if s.mtime_ns >= racy_after},
            outputs={name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
            posts=len(site.posts),
        )

    def to_text(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> LastBuild | None:
        """The note `to_text` wrote; None for anything else."""
        try:
            note = cls(**json.loads(text))
            datetime.fromisoformat(note.valid_from or "2000-01-01T00:00:00+00:00")
            datetime.fromisoformat(note.valid_until or "2000-01-01T00:00:00+00:00")
        except (ValueError, TypeError):
            return None
        shapes = (
            isinstance(note.inputs, str),
            isinstance(note.posts, int),
            all(isinstance(k, str) and isinstance(v, str) for k, v in _items(note.recheck)),
            all(isinstance(k, str) and isinstance(v, str) for k, v in _items(note.outputs)),
        )
        return note if all(shapes) else None

    def holds(self, inputs: str, now: datetime, config: Config, root: Path) -> bool:
        """Whether a build with these inputs at `now` would write exactly what is there."""
        if inputs != self.inputs:
            return False
        if self.valid_from is not None and now < datetime.fromisoformat(self.valid_from):
            return False
        if self.valid_until is not None and now >= datetime.fromisoformat(self.valid_until):
            return False
        for name, digest in self.recheck.items():
            if _file_sha256(root / name) != digest:
                return False
        return all(
            _file_sha256(config.paths.output / name) == digest
            for name, digest in self.outputs.items()
        )

    def without_settled(self, sources: Sequence[SourceFile]) -> LastBuild:
        """The same, minus the rechecks whose mtime is now old enough to vouch for them."""
        racy_after = time.time_ns() - _RACY_NS
        recent = {s.name for s in sources if s.mtime_ns >= racy_after}
        recheck = {name: digest for name, digest in self.recheck.items() if name in recent}
        return dataclasses.replace(self, recheck=recheck)


def _items(value: object) -> list[tuple[object, object]]:
    return list(value.items()) if isinstance(value, dict) else [(None, None)]


def _file_sha256(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


class BuildCache:
    """A `SourceCache` over the cache database; empty when there is none."""

    def __init__(
        self, database: CacheDatabase | None, path: Path, key: str, problem: str = ""
    ) -> None:
        self._database = database
        self.path = path
        self.key = key
        self.problem = problem
        """Why the cache is not used, for a warning; empty when it is fine."""
        self._damaged = False
        self._failure: str | None = None

    def sources(self) -> Mapping[str, CachedSource]:
        if self._database is None:
            return {}
        try:
            rows = self._database.sources()
        except StateError:
            self._damaged = True
            return {}
        return {
            name: CachedSource(size, mtime, digest, record)
            for name, size, mtime, digest, record in rows
            if isinstance(size, int) and isinstance(mtime, int) and isinstance(digest, bytes)
        }

    def rendered(self, digest: bytes, reader: str, url: str) -> tuple[str, str] | None:
        if self._database is None or self._damaged:
            return None
        try:
            return self._database.rendered(digest, reader, url)
        except StateError:
            self._damaged = True
            return None

    def last_build(self) -> LastBuild | None:
        if self._database is None or self._damaged:
            return None
        try:
            text = self._database.note(_LAST_BUILD)
        except StateError:
            self._damaged = True
            return None
        return LastBuild.from_text(text) if text else None

    def save_sources(self, update: CacheUpdate) -> None:
        """Remember the post files read (a build calls it while content renders)."""
        racy_after = time.time_ns() - _RACY_NS
        sources = [
            (name, e.size, e.mtime_ns if e.mtime_ns < racy_after else -1, e.digest, e.record)
            for name, e in update.sources.items()
        ]
        self._write(sources, update.removed, [], {})
        update.sources_saved = True

    def save(self, update: CacheUpdate, last_build: LastBuild | None = None) -> str | None:
        """Remember what this build learned; a warning when that failed."""
        if not update.sources_saved:
            self.save_sources(update)
        self._write(
            [], [], update.rendered, {_LAST_BUILD: last_build.to_text() if last_build else None}
        )
        return self._failure

    def _write(
        self,
        sources: list[SourceRow],
        removed: list[str],
        rendered: list[RenderedRow],
        notes: dict[str, str | None],
    ) -> None:
        if self._database is None or self._failure:
            return
        try:
            if self._damaged:
                self._database.close()
                self._database = open_cache_database(
                    self.path, self.key, writable=True, start_over=True
                )
                self._damaged = False
                if self._database is None:
                    return
            self._database.save(sources, removed, rendered, notes)
        except (StateError, OSError) as e:
            self._failure = (
                f"cannot update the build cache: {e}; the next build reads the posts again"
            )

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None


def open_cache(config: Config, source: Source, *, writable: bool) -> BuildCache:
    """The build cache; read-only never creates or changes it."""
    path = cache_path(config)
    key = fingerprint(source, _this_process(config, writable=writable))
    try:
        database = open_cache_database(path, key, writable=writable)
    except StateError as e:
        return BuildCache(None, path, key, f"{e}; building without the cache")
    return BuildCache(database, path, key)
