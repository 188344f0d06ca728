"""Real Hugo as the reference: build a fixture site with the `hugo` binary and read back
what it made.

Each fixture under tests/fixtures/hugo/ has a `dump` output format
(layouts/index.dump.json) that writes every regular page Hugo lists as JSON, one file per
language, next to Hugo's own RSS feeds. `HugoBuild` holds both, parsed.

Builds are cached for the session: each (site, flags) pair is built once per run.
Without `hugo` on PATH the tests using these fixtures skip, or fail when
PUBLISHER_REQUIRE_PEERS=1 (as CI sets it).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "hugo"
SITES = ("blog", "babel", "almanac", "cascade")
ALL_PAGES = ("--buildDrafts", "--buildFuture", "--buildExpired")
CONTENT_MTIME = datetime(2023, 8, 1, 12, 0, 0, tzinfo=UTC)
"""Every fixture file's modification time in the temp copy, for `:fileModTime`."""
HUGO_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class FeedItem:
    title: str
    link: str
    guid: str
    pub_date: str
    description: str


@dataclass(frozen=True)
class Feed:
    path: str
    """Relative to the publish folder, with forward slashes, e.g. "ko/tags/x/index.xml"."""
    link: str
    self_link: str
    items: tuple[FeedItem, ...]


@dataclass(frozen=True)
class HugoBuild:
    site: str
    flags: tuple[str, ...]
    source: Path
    """The temp copy Hugo built (our code reads the same copy)."""
    public: Path
    dumps: dict[str, dict[str, Any]]
    """Language code → the site's JSON dump."""
    feeds: dict[str, Feed]
    log: str = field(repr=False)

    def pages(self, lang: str | None = None) -> list[dict[str, Any]]:
        """Regular pages Hugo lists, for one language or all of them."""
        langs = [lang] if lang is not None else sorted(self.dumps)
        return [page for code in langs for page in self.dumps[code]["pages"]]

    def page(self, content_path: str, lang: str | None = None) -> dict[str, Any]:
        for page in self.pages(lang):
            if page["file"]["path"] == content_path:
                return page
        raise KeyError(f"{self.site}: Hugo listed no page from {content_path}")


def hugo_binary() -> str:
    """The `hugo` to compare with; skips (or fails, with PUBLISHER_REQUIRE_PEERS=1) without it."""
    found = shutil.which("hugo")
    if found:
        return found
    message = (
        "hugo is not installed: the Hugo conformance tests need the real peer (apt install hugo)"
    )
    if os.environ.get("PUBLISHER_REQUIRE_PEERS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def copy_fixture(site: str, destination: Path) -> Path:
    """A fixture site copied to `destination`, every file's mtime set to CONTENT_MTIME."""
    shutil.copytree(FIXTURES / site, destination)
    stamp = CONTENT_MTIME.timestamp()
    for path in destination.rglob("*"):
        os.utime(path, (stamp, stamp))
    return destination


def run_hugo(source: Path, public: Path, flags: tuple[str, ...], cache: Path) -> str:
    """Build `source` into `public`; returns Hugo's log; fails the test when Hugo fails."""
    command = [hugo_binary(), "--source", str(source), "--destination", str(public)]
    command += ["--noBuildLock", "--environment", "production", *flags]
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cache),
        "HUGO_CACHEDIR": str(cache / "hugo"),
        "TZ": "UTC",
        "LANG": "C.UTF-8",
        # Nothing here may reach the network: any request Hugo tried would fail at once.
        "HTTP_PROXY": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
    }
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=environment,
        timeout=HUGO_TIMEOUT_SECONDS,
        check=False,
    )
    log = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"hugo failed on {source.name} (exit {done.returncode}):\n{log}")
    return log


def read_dumps(public: Path) -> dict[str, dict[str, Any]]:
    dumps: dict[str, dict[str, Any]] = {}
    for path in sorted(public.rglob("dump.json")):
        dump = json.loads(path.read_text(encoding="utf-8"))
        dumps[dump["lang"]] = dump
    return dumps


def read_feeds(public: Path) -> dict[str, Feed]:
    feeds: dict[str, Feed] = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for path in sorted(public.rglob("*.xml")):
        root = etree.parse(str(path), parser).getroot()
        if root.tag != "rss":
            continue
        channel = root.find("channel")
        assert channel is not None
        relative = path.relative_to(public).as_posix()
        feeds[relative] = Feed(
            path=relative,
            link=_text(channel, "link"),
            self_link=_self_link(channel),
            items=tuple(_item(item) for item in channel.iterfind("item")),
        )
    return feeds


def _text(element: Any, tag: str) -> str:
    found = element.find(tag)
    return "" if found is None or found.text is None else str(found.text)


def _self_link(channel: Any) -> str:
    found = channel.find("{http://www.w3.org/2005/Atom}link")
    return "" if found is None else str(found.get("href", ""))


def _item(item: Any) -> FeedItem:
    return FeedItem(
        title=_text(item, "title"),
        link=_text(item, "link"),
        guid=_text(item, "guid"),
        pub_date=_text(item, "pubDate"),
        description=_text(item, "description"),
    )


class HugoBuilds:
    """Session cache: one Hugo build per (site, flags)."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.built: dict[tuple[str, tuple[str, ...]], HugoBuild] = {}

    def get(self, site: str, *flags: str) -> HugoBuild:
        key = (site, tuple(flags))
        if key not in self.built:
            self.built[key] = self.build(site, key[1])
        return self.built[key]

    def build(self, site: str, flags: tuple[str, ...]) -> HugoBuild:
        hugo_binary()
        folder = self.base / f"{site}{len(self.built)}"
        source = copy_fixture(site, folder / "site")
        public = folder / "public"
        log = run_hugo(source, public, flags, folder)
        dumps = read_dumps(public)
        if not dumps:
            pytest.fail(f"hugo built {site} but wrote no dump.json: is the dump output format set?")
        return HugoBuild(site, flags, source, public, dumps, read_feeds(public), log)


@pytest.fixture(scope="session")
def hugo_builds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HugoBuilds]:
    yield HugoBuilds(tmp_path_factory.mktemp("hugo-peer"))


def parse_hugo_time(text: str) -> datetime | None:
    """A time from the dump ("" for Hugo's zero time)."""
    return datetime.fromisoformat(text) if text else None


BUILDS = [(site, ()) for site in SITES] + [(site, ALL_PAGES) for site in SITES]
"""Every fixture as Hugo builds it by default, and with drafts, future and expired pages."""


def build_id(build: tuple[str, tuple[str, ...]]) -> str:
    site, flags = build
    return f"{site}-all" if flags else site


def hugo_config(source: Path, cache: Path) -> dict[str, str]:
    """`hugo config` for a site: each top-level key (lower-cased by Hugo) → its printed value,
    quotes removed from strings."""
    command = [hugo_binary(), "config", "--source", str(source), "--environment", "production"]
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cache),
        "HUGO_CACHEDIR": str(cache / "hugo"),
        "TZ": "UTC",
    }
    done = subprocess.run(
        command, capture_output=True, text=True, env=environment, timeout=60, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"hugo config failed on {source}:\n{done.stdout}{done.stderr}")
    values: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, separator, value = line.partition(" = " if " = " in line else ": ")
        if separator and key.isidentifier():
            value = value.strip()
            values[key] = value[1:-1] if value.startswith('"') and value.endswith('"') else value
    return values
