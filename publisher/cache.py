"""The build cache in state/cache.sqlite3: parsed posts and rendered content between builds.

It is never trusted blindly:
- a file is taken from the cache only when its size and mtime are the ones
  cached, or, when they changed, when its bytes hash to the cached hash;
- a file changed less than RACY_SECONDS before it was cached is hashed again
  next time, since a second change in the same clock tick keeps its mtime;
- everything else a post depends on (the cache format, publisher's content
  code, the libraries that parse and render, [site] and [paths] content) is in
  a fingerprint; a cache with another fingerprint is emptied;
- a file that is not an SQLite database is replaced, and one that cannot be
  opened at all just means a build without the cache, with a warning.
Deleting the file is always safe: the next build is a cold one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from lxml import etree

import publisher
from publisher import content, html, models
from publisher.config import Config
from publisher.content import CachedSource, CacheUpdate
from publisher.errors import StateError
from publisher.store import CacheDatabase, open_cache_database

CACHE_NAME = "cache.sqlite3"
RACY_SECONDS = 2
_LIBRARIES = (
    "markdown-it-py",
    "mdurl",
    "nh3",
    "lxml",
    "PyYAML",
    "python-frontmatter",
    "python-slugify",
    "text-unidecode",
    "Unidecode",
)


def cache_path(config: Config) -> Path:
    return config.paths.state / CACHE_NAME


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return ""


def fingerprint(config: Config) -> str:
    """A hash of everything besides a post's own file that its cached parts depend on."""
    code = hashlib.sha256()
    for module in (content, html, models):
        code.update(Path(module.__file__ or "").read_bytes())
    parts = {
        "publisher": publisher.__version__,
        "code": code.hexdigest(),
        "python": sys.version,
        "libraries": {name: _version(name) for name in _LIBRARIES},
        "libxml2": etree.LIBXML_VERSION,
        "yaml_loader": content._Loader.__mro__[1].__name__,
        "site": dataclasses.asdict(config.site),
        "content": str(config.paths.content),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


class BuildCache:
    """A `content.SourceCache` over the cache database; empty when there is none."""

    def __init__(
        self, database: CacheDatabase | None, path: Path, key: str, problem: str = ""
    ) -> None:
        self._database = database
        self.path = path
        self.key = key
        self.problem = problem
        """Why the cache is not used, for a warning; empty when it is fine."""
        self._damaged = False

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
        }

    def rendered(self, digest: bytes, markdown: bool, url: str) -> tuple[str, str] | None:
        if self._database is None or self._damaged:
            return None
        try:
            return self._database.rendered(digest, markdown, url)
        except StateError:
            self._damaged = True
            return None

    def save(self, update: CacheUpdate) -> str | None:
        """Remember what this build learned; a warning when that failed."""
        if self._database is None:
            return None
        # A file changed within RACY_SECONDS of now may change again in the same mtime tick.
        trusted_before = time.time_ns() - RACY_SECONDS * 1_000_000_000
        sources = [
            (
                name,
                entry.size,
                entry.mtime_ns if entry.mtime_ns < trusted_before else -1,
                entry.digest,
                entry.record,
            )
            for name, entry in update.sources.items()
        ]
        try:
            if self._damaged:
                self._database.close()
                self.path.unlink(missing_ok=True)
                self._database = open_cache_database(self.path, self.key, writable=True)
                assert self._database is not None
            self._database.save(sources, update.removed, update.rendered)
        except (StateError, OSError) as e:
            return f"cannot update the build cache: {e}; the next build reads the posts again"
        return None

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None


def open_cache(config: Config, *, writable: bool) -> BuildCache:
    """The build cache; read-only never creates or changes it."""
    path = cache_path(config)
    key = fingerprint(config)
    try:
        database = open_cache_database(path, key, writable=writable)
    except StateError as e:
        return BuildCache(None, path, key, f"{e}; building without the cache")
    return BuildCache(database, path, key)
