"""Our feeds of a Hugo site next to Hugo's own RSS, both made from the same files, Hugo's by
the real Hugo 0.111.3.

Done when, per fixture site and language: every page Hugo's RSS lists is in our feed with
the same link, the same id after `adopt` (Hugo's guid, the permalink) and the same date;
summaries are equal for at least 95 % of pages (whitespace and quote style aside); no
shortcode or template text is left in, but for what Hugo prints itself (an escaped
`{{</* … */>}}` prints as `{{< … >}}`); no draft, future or expired page; the W3C validator
finds no error and feedparser no fault.

Which pages are posts: Hugo's home RSS lists every regular page (an "About" page, docs);
ours, by default, the pages of the main sections (what themes list as posts, and what a
newsletter should mail). So with [source] pages = "main" our feed is Hugo's RSS of those
sections item for item, and Hugo's home RSS less the pages outside them; with "all" it is
Hugo's home RSS item for item.

Deliberate differences, one line each:
- a page without any date is dated when publisher first saw it (Hugo: year 1);
- `highlight`, `tweet` and `gist` render as a plain code block and links (Hugo colours
  code with Chroma and fetches or scripts the others), which shows in automatic summaries;
- a page with `_build.render = never` has no URL and is in no feed of ours (Hugo's RSS
  lists it with an empty link).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import feedparser
import pytest
from click.testing import CliRunner
from lxml import etree

from publisher.cli import cli
from tests.feed_validator import require_validator, validate
from tests.hugo_peer import (
    ALL_PAGES,
    SITES,
    FeedItem,
    HugoBuild,
    HugoBuilds,
    copy_fixture,
    read_feeds,
    run_hugo,
)
from tests.test_feeds import SCHEMAS, check_json_feed

SUMMARY_AGREEMENT = 0.95
UNDATED = {"posts/undated.md"}
"""Pages without a date: Hugo dates them in year 1, we when we first saw them."""
SUMMARY_DIFFERENCES = {"posts/shortcodes.md"}
"""Automatic summaries over `highlight`, `tweet` and `gist`, which render differently."""
TEMPLATE_MARKERS = ("{{<", ">}}", "{{%", "%}}", "{{ ", " }}")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_TAGS = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Ours:
    public: Path
    now: datetime


def ours_for(build: HugoBuild, folder: Path, *, adopt: bool = True, pages: str = "main") -> Ours:
    """Our feeds of the Hugo site Hugo built (the same copy), after adopting each language's
    home RSS when `adopt`."""
    config = folder / "config.toml"
    folder.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[source]\nkind = "hugo"\npath = "{build.source}"\npages = "{pages}"\n'
        "file_mod_time = true\n",
        encoding="utf-8",
    )
    now = datetime.now(UTC).replace(microsecond=0)

    def publisher(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), "--now", now.isoformat(), *args])
        assert result.exit_code == 0, result.output
        return result.output

    if adopt:
        for lang in sorted(build.dumps):
            publisher("adopt", str(build.public / home_rss(build, lang)))
    publisher("build")
    return Ours(folder / "public", now)


def home_rss(build: HugoBuild, lang: str) -> str:
    dump = build.dumps[lang]
    return str(dump["homeRSS"]).removeprefix(str(dump["baseURL"]))


def section_rss(build: HugoBuild, lang: str, section: str) -> str:
    dump = build.dumps[lang]
    (rss,) = [s["rss"] for s in dump["sections"] if s["section"] == section]
    return str(rss).removeprefix(str(dump["baseURL"]))


def pages_by_link(build: HugoBuild) -> dict[str, dict[str, Any]]:
    return {page["permalink"]: page for page in build.pages()}


def in_main_sections(build: HugoBuild, page: dict[str, Any]) -> bool:
    return page["section"] in (build.dumps[page["lang"]]["mainSections"] or [])


def dated_links(build: HugoBuild, items: Sequence[FeedItem]) -> list[str]:
    """The items' links in feed order, but for undated pages (ours: first seen; Hugo's: year
    1), whose place in the order differs on purpose."""
    pages = pages_by_link(build)
    return [i.link for i in items if pages[i.link]["file"]["path"] not in UNDATED]


def plain(html: str) -> str:
    return " ".join(unescape(_TAGS.sub("", unescape(html))).translate(_QUOTES).split())


def differences(
    build: HugoBuild, theirs: list[FeedItem], ours: list[FeedItem]
) -> tuple[list[str], int]:
    """What differs item by item (link, guid, date; summaries outside the known cases), and
    how many summaries agree."""
    pages = pages_by_link(build)
    mine = {item.link: item for item in ours}
    found, summaries = [], 0
    for item in theirs:
        path = pages[item.link]["file"]["path"]
        our_item = mine.get(item.link)
        if our_item is None:
            found.append(f"missing: {item.link}")
            continue
        if our_item.guid != item.guid:
            found.append(f"{path} guid: {our_item.guid!r} != {item.guid!r}")
        if path not in UNDATED and _instant(our_item.pub_date) != _instant(item.pub_date):
            found.append(f"{path} date: {our_item.pub_date} != {item.pub_date}")
        agrees = plain(our_item.description) == plain(item.description)
        summaries += agrees
        if not agrees and path not in SUMMARY_DIFFERENCES:
            found.append(f"{path} summary: {our_item.description!r} != {item.description!r}")
    return found, summaries


def _instant(text: str) -> datetime:
    """An RSS date as an instant (feedparser, which reads year 1 as year 1)."""
    document = f"<rss><channel><item><pubDate>{text}</pubDate></item></channel></rss>"
    year, month, day, hour, minute, second = (
        feedparser.parse(document).entries[0].published_parsed[:6]
    )
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize("site", SITES)
def test_our_feed_is_hugos_rss_of_the_main_sections(
    hugo_builds: HugoBuilds, tmp_path: Path, site: str
) -> None:
    build = hugo_builds.get(site)
    ours = read_feeds(ours_for(build, tmp_path).public)
    theirs = read_feeds(build.public)
    for lang, dump in build.dumps.items():
        home = home_rss(build, lang)
        ours_home = list(ours[home].items)
        # Hugo's home RSS, less the pages outside the main sections, is in ours
        pages = pages_by_link(build)
        posts = [i for i in theirs[home].items if in_main_sections(build, pages[i.link])]
        found, _ = differences(build, posts, ours_home)
        assert found == [], (site, lang)
        # and ours is, item for item, Hugo's RSS of its main section
        (section,) = dump["mainSections"]
        section_items = list(theirs[section_rss(build, lang, section)].items)
        assert dated_links(build, ours_home) == dated_links(build, section_items), (site, lang)
        found, _ = differences(build, section_items, ours_home)
        assert found == [], (site, lang)


@pytest.mark.parametrize("site", SITES)
def test_with_all_pages_our_feeds_are_hugos_rss_item_for_item(
    hugo_builds: HugoBuilds, tmp_path: Path, site: str
) -> None:
    build = hugo_builds.get(site)
    ours = read_feeds(ours_for(build, tmp_path, pages="all").public)
    compared = 0
    for path, feed in read_feeds(build.public).items():
        is_category = re.match(r"(\w+/)?categories/.+/index\.xml$", path)
        if path not in {home_rss(build, lang) for lang in build.dumps} and not is_category:
            continue  # Hugo's section, tag and taxonomy feeds: ours are per category only
        assert dated_links(build, ours[path].items) == dated_links(build, feed.items), path
        assert len(ours[path].items) == len(feed.items), path
        found, _ = differences(build, list(feed.items), list(ours[path].items))
        assert found == [], path
        compared += 1
    assert compared >= 2


def test_summaries_agree_for_at_least_95_percent_of_pages(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    agreed = total = 0
    for site in SITES:
        build = hugo_builds.get(site)
        ours = read_feeds(ours_for(build, tmp_path / site, adopt=False, pages="all").public)
        theirs = read_feeds(build.public)
        for lang in build.dumps:
            items = list(theirs[home_rss(build, lang)].items)
            _, summaries = differences(build, items, list(ours[home_rss(build, lang)].items))
            agreed, total = agreed + summaries, total + len(items)
    print(f"summaries equal for {agreed} of {total} pages ({100 * agreed / total:.1f} %)")
    assert total >= 40
    assert agreed >= SUMMARY_AGREEMENT * total


def test_a_reader_switched_to_our_feed_after_adopt_sees_no_page_as_new(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    for site in ("blog", "babel"):
        build = hugo_builds.get(site)
        public = ours_for(build, tmp_path / site).public
        for lang in build.dumps:
            path = home_rss(build, lang)
            read = {entry.id for entry in feedparser.parse(build.public / path).entries}
            switched = feedparser.parse(public / path).entries
            assert switched, path
            assert [entry.id for entry in switched if entry.id not in read] == [], path


def test_a_reader_of_the_site_before_it_moved_to_https_sees_no_page_as_new_after_adopt(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    # Hugo's guids are permalinks, as ours are, so in the cases above our ids equal Hugo's
    # even without adopt. Here readers hold the guids of the site as it was served before
    # it moved to https: ours differ from them until adopt keeps them.
    before = hugo_builds.get("blog", "--baseURL", "http://example.org/blog/")
    read = {entry.id for entry in feedparser.parse(before.public / "index.xml").entries}
    assert read and all(entry_id.startswith("http://example.org/") for entry_id in read)
    for adopt in (False, True):
        public = ours_for(before, tmp_path / str(adopt), adopt=adopt, pages="all").public
        switched = feedparser.parse(public / "index.xml").entries
        assert len(switched) == len(read)
        assert all(entry.link.startswith("https://example.org/blog/") for entry in switched)
        new = [entry.id for entry in switched if entry.id not in read]
        assert len(new) == (0 if adopt else len(read)), new


def test_no_shortcode_or_template_text_but_what_hugo_prints(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    build = hugo_builds.get("blog")
    public = ours_for(build, tmp_path, pages="all").public
    pages = pages_by_link(build)
    escaped = 0
    for entry in feedparser.parse(public / "feed.atom").entries:
        page = pages[entry.link]
        ours, theirs = unescape(entry.content[0].value), unescape(page["content"])
        summary, their_summary = unescape(entry.summary), unescape(page["summary"])
        for marker in TEMPLATE_MARKERS:
            assert ours.count(marker) == theirs.count(marker), (entry.link, marker)
            assert summary.count(marker) <= their_summary.count(marker), (entry.link, marker)
        escaped += ours.count("{{<")
    assert escaped == 1  # shortcodes.md's `{{</* figure … */>}}`, printed as Hugo prints it


def test_drafts_future_and_expired_pages_are_in_no_feed(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    for site in SITES:
        built = hugo_builds.get(site)
        every = hugo_builds.get(site, *ALL_PAGES)
        public = ours_for(built, tmp_path / site, pages="all").public
        held_back = {p["permalink"] for p in every.pages()} - set(pages_by_link(built))
        assert held_back, site
        links = {item.link for feed in read_feeds(public).values() for item in feed.items}
        assert links and not links & held_back, site


def test_feedparser_the_atom_schema_and_json_feed_find_no_fault_in_any_feed(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    checked = 0
    for site in SITES:
        build = hugo_builds.get(site)
        public = ours_for(build, tmp_path / site).public
        base = next(iter(build.dumps.values()))["baseURL"].rstrip("/")
        for path in sorted(public.rglob("*")):
            if path.suffix in (".xml", ".atom"):
                parsed = feedparser.parse(path)
                assert not parsed.bozo, (path, parsed.get("bozo_exception"))
                assert parsed.entries or "categories" not in path.parts, path
                checked += 1
            if path.suffix == ".atom":
                assert schema.validate(etree.parse(str(path))), (path, schema.error_log)
            elif path.suffix == ".json":
                url = f"{base}/{quote(path.relative_to(public).as_posix())}"
                assert check_json_feed(path.read_bytes(), url)["items"] is not None
    assert checked >= 20


def test_the_w3c_validator_finds_no_error_in_any_feed_we_write(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    require_validator()
    checked = 0
    for site in SITES:
        build = hugo_builds.get(site)
        public = ours_for(build, tmp_path / site).public
        base = next(iter(build.dumps.values()))["baseURL"]
        for path in sorted(public.rglob("*")):
            if path.suffix not in (".xml", ".atom"):
                continue
            url = base.rstrip("/") + "/" + quote(path.relative_to(public).as_posix())
            errors, report = validate(path, url)
            assert errors == 0, report
            checked += 1
    assert checked >= 10


def test_init_config_for_a_hugo_site_builds_its_feeds(tmp_path: Path) -> None:
    from publisher.sources.hugo.scaffold import plan
    from tests.hugo_peer import FIXTURES

    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "babel", site)
    (site / "config.toml").write_text(plan(site, datetime.now(UTC)).files[0].text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(site / "config.toml"), "build"])
    assert result.exit_code == 0, result.output
    assert (site / "feeds" / "index.xml").is_file()
    assert (site / "feeds" / "ko" / "index.xml").is_file()
    assert 'from = "Babel <news@babel.example.com>"' in (site / "config.toml").read_text()


def test_feeds_follow_a_renamed_rss_and_category_permalinks_as_hugo_does(tmp_path: Path) -> None:
    source = copy_fixture("blog", tmp_path / "site")
    config = source / "hugo.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("[permalinks]\n", '[permalinks]\n  categories = "/topics/:slug/"\n')
    rss = '[outputFormats.RSS]\n  baseName = "feed"\n\n'
    text = text.replace("[outputFormats.dump]", rss + "[outputFormats.dump]")
    config.write_text(text, encoding="utf-8")
    run_hugo(source, tmp_path / "hugo", (), tmp_path)
    theirs = read_feeds(tmp_path / "hugo")
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "config.toml").write_text(
        f'[source]\nkind = "hugo"\npath = "{source}"\npages = "all"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "ours" / "config.toml"), "build"])
    assert result.exit_code == 0, result.output
    ours = read_feeds(tmp_path / "ours" / "public")
    compared = [path for path in ours if path in theirs]
    assert sorted(compared) == sorted(ours)  # every RSS feed of ours is where Hugo has one
    assert "feed.xml" in compared and "topics/site-news/feed.xml" in compared
    for path in compared:
        assert {i.link for i in ours[path].items} == {i.link for i in theirs[path].items}, path


BUILD_OPTIONS = {
    "never-listed.md": '[_build]\n  list = "never"',
    "local-list.md": '[_build]\n  list = "local"',
    "never-rendered.md": '[_build]\n  render = "never"',
    "link-only.md": '[_build]\n  render = "link"',
    "headless/index.md": "headless = true",
    "listed-false.md": "[_build]\n  list = false",
}


@pytest.mark.parametrize("pages", ["main", "all"])
def test_build_options_and_headless_bundles_leave_pages_out_as_hugo_does(
    tmp_path: Path, pages: str
) -> None:
    source = copy_fixture("blog", tmp_path / "site")
    for day, (name, options) in enumerate(BUILD_OPTIONS.items(), start=1):
        path = source / "content" / "posts" / name
        path.parent.mkdir(exist_ok=True)
        title = name.split("/")[0].removesuffix(".md")
        path.write_text(f'+++\ntitle = "{title}"\ndate = 2023-05-0{day}\n{options}\n+++\nx\n')
    run_hugo(source, tmp_path / "hugo", (), tmp_path)
    hugo_feed = "index.xml" if pages == "all" else "posts/index.xml"
    theirs = {i.link for i in read_feeds(tmp_path / "hugo")[hugo_feed].items}
    assert "" in theirs  # Hugo lists the page it does not render, without a link
    (tmp_path / "ours").mkdir()
    (tmp_path / "ours" / "config.toml").write_text(
        f'[source]\nkind = "hugo"\npath = "{source}"\npages = "{pages}"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "ours" / "config.toml"), "build"])
    assert result.exit_code == 0, result.output
    ours = {i.link for i in read_feeds(tmp_path / "ours" / "public")["index.xml"].items}
    assert ours == theirs - {""}  # a page without a URL is in no feed of ours
    assert any("/link-only/" in link for link in ours)
    assert any("/local-list/" in link for link in ours) == (pages == "main")


def test_a_bundles_image_is_its_resource_at_the_url_hugo_publishes_it(
    hugo_builds: HugoBuilds, tmp_path: Path
) -> None:
    checked = 0
    for site in SITES:
        build = hugo_builds.get(site)
        public = ours_for(build, tmp_path / site, adopt=False, pages="all").public
        pages = pages_by_link(build)
        for path in public.rglob("feed.atom"):
            for entry in feedparser.parse(path).entries:
                page = pages[entry.link]
                resources = {r["name"]: r["permalink"] for r in page["resources"]}
                images = page["params"].get("images") or []
                if images and images[0] in resources:
                    assert entry.media_thumbnail[0]["url"] == resources[images[0]], entry.link
                    checked += 1
    assert checked >= 3
