"""Real Jekyll 4.3 + jekyll-feed as a test peer: build a fixture site, read back its truth.

Each fixture site under tests/fixtures/jekyll/ carries `posts.json` (served at
/debug/posts.json), a Liquid page that dumps every post Jekyll knows. A build returns that
dump and every Atom feed jekyll-feed wrote, parsed with lxml. Builds are cached for the
whole test session: each (site, variant, drafts) is built once.

Without `jekyll` on PATH the tests that need it skip, or fail when
PUBLISHER_REQUIRE_PEERS=1 (CI sets it, so a missing peer is never a silent pass).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

FIXTURES = Path(__file__).parent / "fixtures" / "jekyll"
ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
BUILD_TIMEOUT_SECONDS = 120

# Pinned so a build reads the same on every machine: UTF-8 file names and text, no
# inherited time zone (each fixture sets `timezone:`), production mode for jekyll-feed.
PEER_ENV = {
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "TZ": "UTC",
    "JEKYLL_ENV": "production",
    "JEKYLL_NO_BUNDLER_REQUIRE": "true",
}


@dataclass(frozen=True)
class FeedEntry:
    """One <entry> of a jekyll-feed Atom feed, as a reader sees it."""

    link: str
    id: str
    published: str
    updated: str
    title: str
    categories: tuple[str, ...]
    summary: str | None
    content: str | None
    image: str | None


@dataclass(frozen=True)
class JekyllBuild:
    """What real Jekyll made of one fixture site."""

    name: str
    source: Path
    output: Path
    config_files: tuple[Path, ...]
    posts: list[dict[str, Any]]
    feeds: dict[str, list[FeedEntry]]
    log: str
    by_path: dict[str, dict[str, Any]] = field(default_factory=dict)

    def post(self, relative_path: str) -> dict[str, Any]:
        return self.by_path[relative_path]


def jekyll_available() -> bool:
    return shutil.which("jekyll") is not None


def require_jekyll() -> None:
    """Skip (or fail under PUBLISHER_REQUIRE_PEERS=1) when the peer is not installed."""
    if jekyll_available():
        return
    message = (
        "real Jekyll is not installed (`jekyll` not on PATH); install the Debian packages "
        "`jekyll` and `ruby-jekyll-feed` to run the Jekyll conformance tests"
    )
    if os.environ.get("PUBLISHER_REQUIRE_PEERS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def parse_feed(path: Path) -> list[FeedEntry]:
    """Every entry of an Atom feed, in document order.

    jekyll-feed does not escape `&` in link hrefs (a post file named `a&b.md` makes the feed
    ill-formed XML): a bare `&` is read as the `&amp;` it should have been, and the parser
    recovers from anything else the way a lenient feed reader does.
    """
    data = re.sub(
        rb"&(?![A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)", b"&amp;", path.read_bytes()
    )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    root = etree.fromstring(data, parser)
    return [_entry(node) for node in root.iter(f"{ATOM}entry")]


def _entry(node: Any) -> FeedEntry:
    def text(tag: str) -> str | None:
        found = node.find(tag)
        return None if found is None else (found.text or "")

    link = node.find(f"{ATOM}link[@rel='alternate']")
    thumbnail = node.find(f"{MEDIA}thumbnail")
    return FeedEntry(
        link=link.get("href"),
        id=text(f"{ATOM}id") or "",
        published=text(f"{ATOM}published") or "",
        updated=text(f"{ATOM}updated") or "",
        title=text(f"{ATOM}title") or "",
        categories=tuple(c.get("term") for c in node.findall(f"{ATOM}category")),
        summary=text(f"{ATOM}summary"),
        content=text(f"{ATOM}content"),
        image=None if thumbnail is None else thumbnail.get("url"),
    )


def _atom_feeds(output: Path) -> dict[str, list[FeedEntry]]:
    feeds: dict[str, list[FeedEntry]] = {}
    for path in sorted(output.rglob("*.xml")):
        head = path.read_bytes()[:400]
        if b"<feed" in head and b"http://www.w3.org/2005/Atom" in head:
            feeds[path.relative_to(output).as_posix()] = parse_feed(path)
    return feeds


def run_jekyll(source: Path, config_files: list[Path], *, drafts: bool) -> str:
    """Run `jekyll build` in `source`; return its log, raise with it on failure."""
    command = [
        "jekyll",
        "build",
        "--disable-disk-cache",
        "--config",
        ",".join(str(c) for c in config_files),
    ]
    if drafts:
        command.append("--drafts")
    env = {**{k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}, **PEER_ENV}
    done = subprocess.run(
        command,
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_SECONDS,
        check=False,
    )
    log = done.stdout + done.stderr
    if done.returncode != 0:
        raise RuntimeError(f"jekyll build failed in {source} ({done.returncode}):\n{log}")
    return log


class JekyllPeer:
    """Builds fixture sites with real Jekyll into a session temp folder, once each."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._builds: dict[tuple[str, str | None, bool], JekyllBuild] = {}

    def build(self, name: str, *, variant: str | None = None, drafts: bool = False) -> JekyllBuild:
        key = (name, variant, drafts)
        if key not in self._builds:
            self._builds[key] = self._build(name, variant, drafts)
        return self._builds[key]

    def _build(self, name: str, variant: str | None, drafts: bool) -> JekyllBuild:
        folder = f"{name}-{variant or 'base'}{'-drafts' if drafts else ''}"
        source = self.workdir / folder
        shutil.copytree(FIXTURES / name, source, symlinks=False)
        config_files = [source / "_config.yml"]
        if variant is not None:
            config_files.append(source / f"_config.{variant}.yml")
        log = run_jekyll(source, config_files, drafts=drafts)
        output = source / "_site"
        posts = json.loads((output / "debug" / "posts.json").read_text(encoding="utf-8"))
        return JekyllBuild(
            name=name,
            source=source,
            output=output,
            config_files=tuple(config_files),
            posts=posts,
            feeds=_atom_feeds(output),
            log=log,
            by_path={post["path"]: post for post in posts},
        )


@pytest.fixture(scope="session")
def jekyll_peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JekyllPeer]:
    """The session's real-Jekyll builder (skips or fails the test when Jekyll is absent)."""
    require_jekyll()
    yield JekyllPeer(tmp_path_factory.mktemp("jekyll-peer"))


def normalise_space(text: str) -> str:
    return " ".join(text.split())


def canonical_html(fragment: str) -> str:
    """HTML reduced to what a reader sees: rouge's wrappers and spans gone, attributes
    sorted, whitespace collapsed. Used to compare our rendering with Jekyll's."""
    from lxml import html as lxml_html

    root = lxml_html.fragment_fromstring(fragment or "", create_parent="div")
    for table in root.xpath("//table[contains(@class, 'rouge-table')]"):
        code = table.xpath(".//td[contains(@class, 'code')]")
        replacement = table.makeelement("span", {})
        replacement.text = code[0].text_content() if code else ""
        table.getparent().replace(table, replacement)
    unwrap = "//span | //div[contains(@class,'highlight')] | //figure[@class='highlight']"
    for node in root.xpath(unwrap):
        node.drop_tag()
    for node in root.xpath("//pre | //code"):
        for name in ("class", "data-lang"):
            node.attrib.pop(name, None)
    return _serialise(root)


def _serialise(node: Any) -> str:
    parts = []
    if node.getparent() is not None:
        attrs = "".join(f' {k}="{v}"' for k, v in sorted(node.attrib.items()))
        parts.append(f"<{node.tag}{attrs}>")
    parts.append(normalise_space(node.text or ""))
    for child in node:
        if isinstance(child.tag, str):
            parts.append(_serialise(child))
        parts.append(normalise_space(child.tail or ""))
    if node.getparent() is not None:
        parts.append(f"</{node.tag}>")
    return " ".join(p for p in parts if p).replace("> <", "><")
