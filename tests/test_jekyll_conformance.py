"""Our feeds of a Jekyll site next to jekyll-feed's, built by the real Jekyll 4.3.

Done when, per fixture site: every post jekyll-feed publishes is in our feed with the
same link, the same id after `adopt`, the same published and updated instants, the
same title (up to quote style), the same categories and tags; summaries agree for at
least 95 % of posts; no Liquid leaks; no draft; and the W3C validator finds no error.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from publisher.cli import cli
from tests.feed_validator import require_validator, validate
from tests.jekyll_peer import ATOM, FIXTURES, FeedEntry, JekyllBuild, JekyllPeer, parse_feed

SITES = [
    ("blog", None),
    ("kitchen", None),
    *[("styles", v) for v in ("date", "pretty", "ordinal", "weekdate", "none", "placeholders")],
]
SUMMARY_AGREEMENT = 0.95
# Deliberate differences, one line each:
# - `<<guillemets>>` is an HTML tag to markdown-it and guillemets to kramdown;
# - `{% highlight … linenos %}`: line numbers are left out (Rouge puts them in the text).
SUMMARY_DIFFERENCES = {"2022/01/18/smart-quotes/", "2022/01/13/raw-and-highlight/"}
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def ours_for(build: JekyllBuild, tmp_path: Path, *, adopt: bool = True) -> Path:
    """Our feeds of the same site (its config files merged into one), after adopting
    jekyll-feed's feed; returns the output folder."""
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / build.name, site)
    merged = "\n".join(path.read_text(encoding="utf-8") for path in build.config_files)
    (site / "_config.yml").write_text(merged, encoding="utf-8")  # later keys win, as Jekyll's
    config = tmp_path / "config.toml"
    config.write_text('[source]\nkind = "jekyll"\npath = "site"\n', encoding="utf-8")
    now = datetime.now(UTC).isoformat()

    def publisher(*args: str) -> None:
        result = CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])
        assert result.exit_code == 0, result.output

    if adopt:
        publisher("adopt", str(build.output / _feed_path(build)))
    publisher("build")
    return tmp_path / "public"


def _feed_path(build: JekyllBuild) -> str:
    return "atom.xml" if "atom.xml" in build.feeds else "feed.xml"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _title(text: str) -> str:
    return " ".join(unescape(text).translate(_QUOTES).replace("\xa0", " ").split())


def _text(html: str | None) -> str:
    return " ".join(unescape(html or "").split())


def differences(theirs: list[FeedEntry], ours: list[FeedEntry]) -> tuple[list[str], int]:
    """What differs, field by field, and how many summaries agree."""
    by_link = {entry.link: entry for entry in ours}
    found, summaries = [], 0
    for entry in theirs:
        mine = by_link.get(entry.link)
        if mine is None:
            found.append(f"missing: {entry.link}")
            continue
        pairs = {
            "id": (entry.id, mine.id),
            "published": (_instant(entry.published), _instant(mine.published)),
            "updated": (_instant(entry.updated), _instant(mine.updated)),
            "title": (_title(entry.title), _title(mine.title)),
            "terms": (set(entry.categories), set(mine.categories)),
            "image": (entry.image, mine.image),
        }
        found += [f"{entry.link} {k}: {a!r} != {b!r}" for k, (a, b) in pairs.items() if a != b]
        summary_agrees = _text(entry.summary) == _text(mine.summary)
        summaries += summary_agrees
        if not summary_agrees and not any(entry.link.endswith(p) for p in SUMMARY_DIFFERENCES):
            found.append(f"{entry.link} summary: {entry.summary!r} != {mine.summary!r}")
    return found, summaries


@pytest.mark.parametrize(("name", "variant"), SITES)
def test_every_post_jekyll_feed_publishes_is_in_our_feed_alike(
    jekyll_peer: JekyllPeer, tmp_path: Path, name: str, variant: str | None
) -> None:
    build = jekyll_peer.build(name, variant=variant)
    public = ours_for(build, tmp_path)
    atom = {path.relative_to(public).as_posix() for path in public.rglob("*.xml")}
    assert atom == set(build.feeds)  # no more: `feed.categories` names the category feeds
    for path, theirs in build.feeds.items():
        ours = parse_feed(public / path)
        found, _ = differences(theirs, ours)  # summaries differ only where listed above
        assert found == [], path
        assert len(ours) == len(theirs), path  # no draft, no future or unpublished post


def test_summaries_agree_for_at_least_95_percent_of_all_posts(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    agreed = total = 0
    for index, (name, variant) in enumerate(SITES):
        build = jekyll_peer.build(name, variant=variant)
        public = ours_for(build, tmp_path / str(index), adopt=False)
        theirs = build.feeds[_feed_path(build)]
        _, summaries = differences(theirs, parse_feed(public / _feed_path(build)))
        agreed, total = agreed + summaries, total + len(theirs)
    print(f"summaries equal for {agreed} of {total} posts ({100 * agreed / total:.1f} %)")
    assert agreed >= SUMMARY_AGREEMENT * total


def test_no_liquid_leaks_into_any_of_our_feeds(jekyll_peer: JekyllPeer, tmp_path: Path) -> None:
    build = jekyll_peer.build("kitchen")
    public = ours_for(build, tmp_path)
    theirs = {e.link: e for e in build.feeds["atom.xml"]}
    for entry in parse_feed(public / "atom.xml"):
        expected = theirs[entry.link].content or ""
        for marker in ("{%", "{{", "%}", "}}"):
            # only what Jekyll prints itself ({% raw %} blocks) may hold Liquid's markers
            assert (entry.content or "").count(marker) == expected.count(marker), entry.link


@pytest.mark.parametrize(
    ("name", "variant", "count"),
    [("blog", None, 37), ("styles", "date", 16)],
)
def test_a_reader_switched_to_our_feed_after_adopt_sees_no_post_as_new(
    jekyll_peer: JekyllPeer, tmp_path: Path, name: str, variant: str | None, count: int
) -> None:
    build = jekyll_peer.build(name, variant=variant)
    # What a reader holds of jekyll-feed's feed, which a post link with `&` makes ill-formed
    # XML: Go's, libxml2's and PHP's lenient parsers decode `a&amp;b` in an id to `a&b`, as
    # parse_feed does (feedparser's loose mode alone keeps the `&amp;`).
    read = {entry.id for entry in parse_feed(build.output / "feed.xml")}
    assert len(read) == count
    public = ours_for(build, tmp_path)
    for path in ("feed.xml", "feed.rss"):
        switched = feedparser.parse(public / path).entries
        assert len(switched) == count
        assert [entry.id for entry in switched if entry.id not in read] == [], path
    if name == "styles":
        # jekyll-feed's id keeps the `#` of `hash#tag.md`, ours escapes it: without adopt a
        # reader would see that post as new, so this case fails when adopt does nothing
        unadopted = ours_for(build, tmp_path / "unadopted", adopt=False) / "feed.xml"
        new = [entry.id for entry in feedparser.parse(unadopted).entries if entry.id not in read]
        assert new == ["http://styles.example.net/2021/08/09/hash%23tag"]


def test_drafts_are_in_no_feed_even_when_jekyll_shows_them(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    build = jekyll_peer.build("blog", drafts=True)
    public = ours_for(build, tmp_path, adopt=False)
    drafts = {p["url"] for p in build.posts if p["draft"]}
    assert len(drafts) == 2
    for path in public.rglob("*.xml"):
        links = {entry.link for entry in parse_feed(path)}
        assert not any(link.endswith(url) for link in links for url in drafts), path


def _feeds(public: Path) -> list[Path]:
    return sorted(p for p in public.rglob("*") if p.suffix in (".xml", ".atom", ".rss"))


def test_the_w3c_validator_finds_no_error_in_any_feed_we_write(
    jekyll_peer: JekyllPeer, tmp_path: Path, site_dir: Path
) -> None:
    require_validator()
    result = CliRunner().invoke(cli, ["--config", str(site_dir / "config.toml"), "build"])
    assert result.exit_code == 0, result.output
    outputs = [(site_dir / "public", "https://news.example.org/")]
    for index, name in enumerate(("blog", "kitchen")):
        build = jekyll_peer.build(name)
        root = etree.parse(str(build.output / _feed_path(build))).getroot()
        base = root.find(f"{ATOM}link[@rel='alternate']").get("href")
        outputs.append((ours_for(build, tmp_path / str(index)), base))
    checked = 0
    for public, base in outputs:
        for path in _feeds(public):
            url = base + "/".join(
                re.sub(r" ", "%20", part) for part in path.relative_to(public).parts
            )
            errors, report = validate(path, url)
            assert errors == 0, report
            checked += 1
    assert checked >= 10


def test_no_kramdown_syntax_reaches_any_feed_or_summary(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    written = sum(
        "{:" in path.read_text(encoding="utf-8")
        for path in (FIXTURES / "kitchen" / "_posts").iterdir()
    )
    assert written >= 2  # attribute lists, extensions, a table of contents
    scanned = 0
    for index, (name, variant) in enumerate(SITES):
        build = jekyll_peer.build(name, variant=variant)
        public = ours_for(build, tmp_path / str(index), adopt=False)
        for path in sorted(p for p in public.rglob("*") if p.is_file()):
            assert b"{:" not in path.read_bytes(), path
            scanned += 1
        for item in json.loads((public / "feed.json").read_text(encoding="utf-8"))["items"]:
            assert "{:" not in item.get("summary", ""), item["url"]
    assert scanned >= 20
