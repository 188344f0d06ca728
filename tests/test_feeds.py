"""The feeds as readers see them: parsed with feedparser, validated with lxml, pinned as bytes."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import feedparser
import frontmatter
import lxml.html
import pytest
from lxml import etree

from publisher.build.pipeline import build
from publisher.core.config import Config
from publisher.core.errors import ConfigError
from publisher.site_config import load_config
from tests.conftest import NOW, ROOT, SAMPLE, SEOUL, SHARED
from tests.feed_validator import require_validator, validate
from tests.test_content import make_site, post, write_config

ATOM = "{http://www.w3.org/2005/Atom}"
MEDIA = "{http://search.yahoo.com/mrss/}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMAS = ROOT / "tests" / "schemas"
GOLDEN = ROOT / "tests" / "golden" / "sample"
SAMPLE_FEEDS = [
    "feed.atom",
    "feed.rss",
    "feed.json",
    "categories/news/feed.atom",
    "categories/news/feed.rss",
    "categories/news/feed.json",
]
RFC_822 = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$"
)


@pytest.fixture
def sample(site_dir: Path) -> Path:
    """The sample site built at NOW; its output folder."""
    build(load_config(site_dir / "config.toml"), NOW)
    return site_dir / "public"


def feed_files(public: Path) -> dict[str, bytes]:
    return {
        p.relative_to(public).as_posix(): p.read_bytes()
        for p in sorted(public.rglob("*"))
        if p.is_file()
    }


def parse(data: bytes) -> Any:
    result = feedparser.parse(data)
    assert result.bozo == 0, result.get("bozo_exception")
    return result


def xml(path: Path) -> etree._Element:
    return etree.fromstring(path.read_bytes())


def sample_titles() -> set[str]:
    return {
        str(frontmatter.loads(p.read_text(encoding="utf-8"))["title"])
        for p in (SAMPLE / "content").iterdir()
    }


def check_json_feed(data: bytes, feed_url: str) -> dict[str, Any]:
    """The JSON Feed 1.1 rules (https://jsonfeed.org/version/1.1) that a reader relies on."""
    feed = json.loads(data)
    top_level = {
        "version", "title", "home_page_url", "feed_url", "description", "user_comment",
        "next_url", "icon", "favicon", "authors", "language", "expired", "hubs", "items",
    }  # fmt: skip
    item_keys = {
        "id", "url", "external_url", "title", "content_html", "content_text", "summary",
        "image", "banner_image", "date_published", "date_modified", "authors", "tags",
        "language", "attachments",
    }  # fmt: skip
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(feed["title"], str) and feed["title"]
    assert isinstance(feed["items"], list)
    assert set(feed) <= top_level, set(feed) - top_level
    assert feed["feed_url"] == feed_url
    assert feed["home_page_url"].startswith("https://")
    for author in feed.get("authors", []):
        assert set(author) & {"name", "url", "avatar"}
    for hub in feed.get("hubs", []):
        assert isinstance(hub["type"], str) and hub["url"].startswith("http")
    for item in feed["items"]:
        assert set(item) <= item_keys, set(item) - item_keys
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_html"), str) or isinstance(
            item.get("content_text"), str
        )
        for key in ("date_published", "date_modified"):
            if key in item:
                assert datetime.fromisoformat(item[key]).utcoffset() is not None
        for key in ("url", "image"):
            if key in item:
                assert item[key].startswith("https://")
        assert all(isinstance(tag, str) for tag in item.get("tags", []))
    return dict(feed)


# the sample site --------------------------------------------------------------


def test_sample_site_writes_every_feed_and_the_index(sample: Path) -> None:
    assert sorted(feed_files(sample)) == sorted([*SAMPLE_FEEDS, "index.html"])


@pytest.mark.parametrize("name", [n for n in SAMPLE_FEEDS if not n.endswith(".json")])
def test_feedparser_reads_atom_and_rss_cleanly_with_korean_titles_intact(
    sample: Path, name: str
) -> None:
    result = parse((sample / name).read_bytes())
    assert result.version == ("atom10" if name.endswith(".atom") else "rss20")
    assert len(result.entries) == 5
    assert {entry.title for entry in result.entries} == sample_titles()
    assert result.feed.title.startswith("뉴스다오 속보")
    for entry in result.entries:
        assert entry.id.startswith("tag:news.example.org,2024:")
        assert entry.link.startswith("https://news.example.org/")
        assert entry.published_parsed is not None
        assert "<script" not in entry.content[0].value


@pytest.mark.parametrize("name", [n for n in SAMPLE_FEEDS if n.endswith(".json")])
def test_json_feed_follows_version_1_1(sample: Path, name: str) -> None:
    feed = check_json_feed((sample / name).read_bytes(), f"https://news.example.org/{name}")
    assert len(feed["items"]) == 5
    assert {item["title"] for item in feed["items"]} == sample_titles()
    assert feed["language"] == "ko"


def test_atom_schema_copy_matches_the_shared_one() -> None:
    shared = SHARED / "schemas" / "atom.rng"
    if not shared.exists():
        pytest.skip("../shared is not checked out next to the repository")
    assert (SCHEMAS / "atom.rng").read_bytes() == shared.read_bytes()


@pytest.mark.parametrize("name", [n for n in SAMPLE_FEEDS if n.endswith(".atom")])
def test_atom_validates_against_the_rfc_4287_relax_ng_schema(sample: Path, name: str) -> None:
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    document = etree.parse(str(sample / name))
    assert schema.validate(document), schema.error_log


def test_atom_content_is_escaped_html_that_also_parses_as_xml(sample: Path) -> None:
    root = xml(sample / "feed.atom")
    contents = root.findall(f"{ATOM}entry/{ATOM}content")
    assert len(contents) == 5
    for content in contents:
        assert content.get("type") == "html"
        fragment = etree.fromstring(f"<div>{content.text}</div>")  # sample 004 is repaired
        assert fragment.findall(".//p")
    assert b"CDATA" not in (sample / "feed.atom").read_bytes()


def test_every_link_and_image_url_is_absolute(sample: Path) -> None:
    for name in SAMPLE_FEEDS:
        data = (sample / name).read_bytes()
        if name.endswith(".json"):
            feed = json.loads(data)
            urls = [feed["home_page_url"], feed["feed_url"]]
            for item in feed["items"]:
                urls += [item["url"], item["image"]]
                urls += _content_urls(item["content_html"])
        else:
            root = etree.fromstring(data)
            urls = [e.get("href") for e in root.iter(f"{ATOM}link")]
            urls += [e.get("url") for e in root.iter(f"{MEDIA}content", f"{MEDIA}thumbnail")]
            urls += [e.text for e in root.iter("link")]
            for content in root.iter(f"{ATOM}content", f"{CONTENT}encoded"):
                urls += _content_urls(content.text)
        assert urls and all(url.startswith("https://") for url in urls), (name, urls)


def _content_urls(html: str) -> list[str]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    return [v for e in root.iter() for k, v in e.attrib.items() if k in ("href", "src")]


def test_sample_004_relative_image_is_resolved_against_base_url(sample: Path) -> None:
    image = "https://news.example.org/assets/img/newsdao_breakingnews.jpg"
    entry = next(
        e
        for e in xml(sample / "feed.atom").iter(f"{ATOM}entry")
        if e.findtext(f"{ATOM}id", "").endswith(":004_5bc091069e92d6b7")
    )
    assert entry.find(f"{MEDIA}thumbnail").get("url") == image
    assert entry.find(f"{MEDIA}content").get("url") == image
    assert f'src="{image}"' in entry.findtext(f"{ATOM}content", "")
    items = json.loads((sample / "feed.json").read_bytes())["items"]
    item = next(i for i in items if i["id"].endswith(":004_5bc091069e92d6b7"))
    assert item["image"] == image
    assert f'src="{image}"' in item["content_html"]


def test_entry_links_keep_rel_and_type_despite_feedgen_issue_135(sample: Path) -> None:
    # feedgen 1.0.0 writes entry <link> with href only; feeds.py puts rel and type back.
    data = (sample / "feed.atom").read_bytes()
    written = re.findall(rb"<entry>.*?</entry>", data, flags=re.S)
    assert len(written) == 5
    for entry in written:
        (link,) = re.findall(rb"<link [^>]*/>", entry)
        assert b'rel="alternate"' in link and b'type="text/html"' in link
        assert b'href="https://news.example.org/' in link


def test_rss_guid_dates_and_links(sample: Path) -> None:
    channel = xml(sample / "feed.rss").find("channel")
    assert channel.findtext("link") == "https://news.example.org/"  # the site, not the feed
    (self_link,) = channel.findall(f"{ATOM}link")
    assert self_link.attrib == {
        "href": "https://news.example.org/feed.rss",
        "rel": "self",
        "type": "application/rss+xml",
    }
    assert RFC_822.match(channel.findtext("lastBuildDate", ""))
    for item in channel.findall("item"):
        guid = item.find("guid")
        assert guid.text.startswith("tag:") and guid.get("isPermaLink") == "false"
        assert RFC_822.match(item.findtext("pubDate", ""))
        assert parsedate_to_datetime(item.findtext("pubDate", "")) == NOW
        assert item.findtext(f"{DC}creator") == "뉴스다오 편집부"
        assert item.findtext("description") and not item.findtext("description").startswith("<")
        assert item.findtext(f"{CONTENT}encoded").startswith("<p>")


def test_atom_rss_and_json_agree_on_ids_links_and_dates(sample: Path) -> None:
    atom = parse((sample / "feed.atom").read_bytes()).entries
    rss = parse((sample / "feed.rss").read_bytes()).entries
    items = json.loads((sample / "feed.json").read_bytes())["items"]
    assert [e.id for e in atom] == [e.id for e in rss] == [i["id"] for i in items]
    assert [e.link for e in atom] == [e.link for e in rss] == [i["url"] for i in items]
    assert [e.published_parsed for e in atom] == [e.published_parsed for e in rss]
    assert all(datetime.fromisoformat(i["date_published"]) == NOW for i in items)


def test_feed_language_is_on_the_feed(sample: Path) -> None:
    assert xml(sample / "feed.atom").get(XML_LANG) == "ko"
    assert xml(sample / "feed.rss").findtext("channel/language") == "ko"


def test_index_page_has_autodiscovery_for_every_feed(sample: Path) -> None:
    page = lxml.html.fromstring((sample / "index.html").read_bytes())
    links = page.xpath("//head/link[@rel='alternate']")
    found = {(link.get("type"), link.get("href")) for link in links}
    types = {"atom": "application/atom+xml", "rss": "application/rss+xml"}
    types["json"] = "application/feed+json"
    assert found == {
        (types[name.rsplit(".", 1)[1]], f"https://news.example.org/{name}") for name in SAMPLE_FEEDS
    }
    assert all(link.get("title") for link in links)
    assert page.findtext(".//title") == "뉴스다오 속보"
    inputs = {i.get("value") for i in page.xpath("//input[@readonly]")}
    assert inputs == {href for _, href in found}
    listed = {a.text for a in page.xpath("//main//li/a")}
    assert listed == sample_titles()
    assert (
        not page.xpath("//script") and b"xml-stylesheet" not in (sample / "feed.atom").read_bytes()
    )


# determinism ------------------------------------------------------------------


def test_a_second_build_writes_nothing(sample: Path, site_dir: Path) -> None:
    old = 1_000_000_000_000_000_000
    before = feed_files(sample)
    for name in before:
        os.utime(sample / name, ns=(old, old))
    inodes = {name: (sample / name).stat().st_ino for name in before}

    report = build(load_config(site_dir / "config.toml"), NOW + timedelta(hours=1))

    assert report.files.written == ()
    assert sorted(report.files.unchanged) == sorted(before)
    assert feed_files(sample) == before
    for name in before:
        stat = (sample / name).stat()
        assert stat.st_mtime_ns == old, name
        assert stat.st_ino == inodes[name], name
    assert not [p for p in sample.rglob("*.tmp")]


def test_no_build_time_appears_in_the_output(tmp_path: Path) -> None:
    files = {
        "a.md": post("A", date="2024-06-01T10:00:00+09:00"),
        "b.md": post("B", date="2024-06-02T10:00:00+09:00", categories="[One]"),
        "c.md": post("C"),  # dated by first sight
    }
    config = make_site(tmp_path, files)
    build(config, NOW)
    first = feed_files(tmp_path / "public")
    shutil.rmtree(tmp_path / "public")
    build(config, datetime(2031, 1, 2, 3, 4, 5, tzinfo=SEOUL))
    assert feed_files(tmp_path / "public") == first
    for data in first.values():
        assert b"2031" not in data


def test_feed_updated_is_the_newest_entry_updated_never_now(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "old.md": post("Old", date="2024-01-01", updated="2024-03-05T06:07:08+09:00"),
            "new.md": post("New", date="2024-02-01"),
        },
    )
    build(config, NOW)
    newest = datetime(2024, 3, 5, 6, 7, 8, tzinfo=SEOUL)
    atom = xml(tmp_path / "public" / "feed.atom")
    assert datetime.fromisoformat(atom.findtext(f"{ATOM}updated", "")) == newest
    entry_updates = [datetime.fromisoformat(u.text) for u in atom.iter(f"{ATOM}updated")][1:]
    assert max(entry_updates) == newest
    rss = xml(tmp_path / "public" / "feed.rss")
    assert parsedate_to_datetime(rss.findtext("channel/lastBuildDate", "")) == newest
    dates = [datetime.fromisoformat(e.text) for e in atom.iter(f"{ATOM}published")]
    assert dates == sorted(dates, reverse=True)  # newest first, not prepended


def test_an_empty_site_still_writes_valid_deterministic_feeds(tmp_path: Path) -> None:
    config = make_site(tmp_path, {})
    build(config, NOW)
    first = feed_files(tmp_path / "public")
    assert sorted(first) == ["feed.atom", "feed.json", "feed.rss", "index.html"]
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    assert schema.validate(etree.parse(str(tmp_path / "public" / "feed.atom")))
    assert parse(first["feed.rss"]).entries == []
    check_json_feed(first["feed.json"], "https://example.org/feed.json")
    shutil.rmtree(tmp_path / "public")
    build(config, NOW + timedelta(days=9))
    assert feed_files(tmp_path / "public") == first


def test_changing_base_url_changes_no_id_in_any_feed(site_dir: Path) -> None:
    def ids(public: Path) -> dict[str, list[str]]:
        return {
            "atom": [e.id for e in parse((public / "feed.atom").read_bytes()).entries],
            "rss": [e.id for e in parse((public / "feed.rss").read_bytes()).entries],
            "json": [i["id"] for i in json.loads((public / "feed.json").read_bytes())["items"]],
            "feed": [xml(public / "feed.atom").findtext(f"{ATOM}id", "")],
        }

    build(load_config(site_dir / "config.toml"), NOW)
    before = ids(site_dir / "public")
    toml = (site_dir / "config.toml").read_text(encoding="utf-8")
    toml = toml.replace(
        'base_url = "https://news.example.org"', 'base_url = "http://moved.example"'
    )
    (site_dir / "config.toml").write_text(toml, encoding="utf-8")
    build(load_config(site_dir / "config.toml"), NOW + timedelta(days=2))
    assert b"http://moved.example/" in (site_dir / "public" / "feed.atom").read_bytes()
    assert ids(site_dir / "public") == before


# golden files -------------------------------------------------------------------


def test_sample_output_matches_the_golden_files(
    sample: Path, request: pytest.FixtureRequest
) -> None:
    built = feed_files(sample)
    if request.config.getoption("--update-golden"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for name, data in built.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    golden = feed_files(GOLDEN)
    assert sorted(built) == sorted(golden)
    for name, data in built.items():
        assert data == golden[name], f"{name} differs; rerun with --update-golden if intended"


# settings ---------------------------------------------------------------------


def two_posts(tmp_path: Path, **feeds: Any) -> Config:
    return make_site(
        tmp_path,
        {
            "a.md": post(
                "A",
                "<p>Full <b>body</b> A</p>",
                date="2024-06-01",
                excerpt="Sum A",
                categories="[북한, World]",
                lang="en-GB",
                author="Kim",
                image="/a.png",
            ),
            "b.md": post("B", "<p>Full body B</p>", date="2024-06-02", categories="[World]"),
        },
        feeds=feeds or None,
    )


def test_hub_links_in_all_three_formats(tmp_path: Path) -> None:
    config = two_posts(tmp_path, hub="https://hub.example.com/")
    build(config, NOW)
    public = tmp_path / "public"
    for name in ("feed.atom", "categories/world/feed.atom"):
        hubs = [e for e in xml(public / name).findall(f"{ATOM}link") if e.get("rel") == "hub"]
        assert [h.get("href") for h in hubs] == ["https://hub.example.com/"]
    rss_links = xml(public / "feed.rss").findall(f"channel/{ATOM}link")
    assert {(e.get("rel"), e.get("href")) for e in rss_links} == {
        ("self", "https://example.org/feed.rss"),
        ("hub", "https://hub.example.com/"),
    }
    feed = check_json_feed((public / "feed.json").read_bytes(), "https://example.org/feed.json")
    assert feed["hubs"] == [{"type": "WebSub", "url": "https://hub.example.com/"}]
    assert parse((public / "feed.rss").read_bytes()).bozo == 0


def test_no_hub_link_without_a_hub(tmp_path: Path) -> None:
    build(two_posts(tmp_path), NOW)
    for name in ("feed.atom", "feed.rss", "feed.json"):
        assert b"hub" not in (tmp_path / "public" / name).read_bytes().lower()


def test_entry_language_author_categories_and_media(tmp_path: Path) -> None:
    build(two_posts(tmp_path), NOW)
    public = tmp_path / "public"
    atom = xml(public / "feed.atom")
    assert atom.get(XML_LANG) == "en"
    a = atom.findall(f"{ATOM}entry")[1]
    assert a.get(XML_LANG) == "en-GB"
    assert a.find(f"{ATOM}link").get("hreflang") == "en-GB"
    assert a.findtext(f"{ATOM}author/{ATOM}name") == "Kim"
    assert [c.get("term") for c in a.findall(f"{ATOM}category")] == ["북한", "World"]
    assert a.find(f"{MEDIA}thumbnail").get("url") == "https://example.org/a.png"
    rss_items = xml(public / "feed.rss").findall("channel/item")
    assert [i.findtext(f"{DC}creator") for i in rss_items] == ["Editor", "Kim"]
    assert [c.text for c in rss_items[1].findall("category")] == ["북한", "World"]
    item = json.loads((public / "feed.json").read_bytes())["items"][1]
    assert item["language"] == "en-GB" and item["authors"] == [{"name": "Kim"}]
    assert item["tags"] == ["북한", "World"]


def test_korean_category_gets_its_own_feeds(tmp_path: Path) -> None:
    build(two_posts(tmp_path), NOW)
    folder = tmp_path / "public" / "categories" / "북한"
    assert sorted(p.name for p in folder.iterdir()) == ["feed.atom", "feed.json", "feed.rss"]
    result = parse((folder / "feed.atom").read_bytes())
    assert result.feed.title == "Test site · 북한"
    assert [e.title for e in result.entries] == ["A"]
    assert [e.title for e in parse((folder / "feed.rss").read_bytes()).entries] == ["A"]
    encoded = "https://example.org/categories/%EB%B6%81%ED%95%9C/feed"
    check_json_feed((folder / "feed.json").read_bytes(), f"{encoded}.json")
    assert result.feed.links[-1].href == f"{encoded}.atom"  # a URI, not a raw IRI
    page = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert f'href="{encoded}.rss"' in page
    world = parse((tmp_path / "public" / "categories" / "world" / "feed.atom").read_bytes())
    assert [e.title for e in world.entries] == ["B", "A"]


def test_limit_keeps_the_newest_posts(tmp_path: Path) -> None:
    build(two_posts(tmp_path, limit=1), NOW)
    public = tmp_path / "public"
    assert [e.title for e in parse((public / "feed.atom").read_bytes()).entries] == ["B"]
    assert [e.title for e in parse((public / "feed.rss").read_bytes()).entries] == ["B"]
    assert [i["title"] for i in json.loads((public / "feed.json").read_bytes())["items"]] == ["B"]
    korean = parse((public / "categories" / "북한" / "feed.atom").read_bytes())
    assert [e.title for e in korean.entries] == ["A"]


def test_full_content_false_gives_summaries_only(tmp_path: Path) -> None:
    build(two_posts(tmp_path, full_content=False), NOW)
    public = tmp_path / "public"
    atom = (public / "feed.atom").read_bytes()
    assert b"<content" not in atom and b"&lt;b&gt;" not in atom
    assert [s.text for s in xml(public / "feed.atom").iter(f"{ATOM}summary")] == [
        "Full body B",
        "Sum A",
    ]
    rss = (public / "feed.rss").read_bytes()
    assert b"content:encoded" not in rss
    assert [d.text for d in xml(public / "feed.rss").iter("description")][1:] == [
        "Full body B",
        "Sum A",
    ]
    items = json.loads((public / "feed.json").read_bytes())["items"]
    assert [i.get("content_html") for i in items] == [None, None]
    assert [i["content_text"] for i in items] == ["Full body B", "Sum A"]
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    assert schema.validate(etree.parse(str(public / "feed.atom")))


def test_full_content_true_has_summary_and_content(tmp_path: Path) -> None:
    build(two_posts(tmp_path), NOW)
    entry = parse((tmp_path / "public" / "feed.atom").read_bytes()).entries[1]
    assert entry.summary == "Sum A"
    assert entry.content[0].value == "<p>Full <b>body</b> A</p>"


def test_formats_subset_writes_only_those(tmp_path: Path) -> None:
    build(two_posts(tmp_path, formats=["json", "atom"]), NOW)
    names = sorted(feed_files(tmp_path / "public"))
    assert names == [
        "categories/world/feed.atom",
        "categories/world/feed.json",
        "categories/북한/feed.atom",
        "categories/북한/feed.json",
        "feed.atom",
        "feed.json",
        "index.html",
    ]
    page = (tmp_path / "public" / "index.html").read_text(encoding="utf-8")
    assert "application/rss+xml" not in page and "feed.rss" not in page


def test_categories_false_writes_only_the_site_feeds(tmp_path: Path) -> None:
    build(two_posts(tmp_path, categories=False), NOW)
    assert sorted(feed_files(tmp_path / "public")) == [
        "feed.atom",
        "feed.json",
        "feed.rss",
        "index.html",
    ]


def test_dangerous_markup_never_reaches_a_feed(tmp_path: Path) -> None:
    body = (
        '<p onclick="steal()">Hi</p><script>steal()</script>'
        '<a href="javascript:steal()">x</a><img src="i.png" onerror="steal()">'
    )
    config = make_site(tmp_path, {"x.html": post("X", body), "y.md": post("Y", "Hello <script>")})
    build(config, NOW)
    for name, data in feed_files(tmp_path / "public").items():
        text = data.decode("utf-8").lower()
        for banned in ("steal", "<script", "&lt;script", "javascript", "onclick", "onerror"):
            assert banned not in text, (name, banned)


def test_titles_are_plain_text_made_typographic_as_jekyll_feed_shows_them(
    tmp_path: Path,
) -> None:
    raw = r'"<b>Bold</b> &\n \"quoted\"\a --- Special&nbsp;Characters &amp;c."'
    config = make_site(tmp_path, {"t.md": post(raw)})
    build(config, NOW)
    expected = "Bold & \u201cquoted\u201d \u2014 Special Characters &c."
    entry = parse((tmp_path / "public" / "feed.atom").read_bytes()).entries[0]
    assert entry.title == expected
    item = json.loads((tmp_path / "public" / "feed.json").read_bytes())["items"][0]
    assert item["title"] == expected


def test_a_moved_site_rewrites_links_but_keeps_ids(tmp_path: Path) -> None:
    config = two_posts(tmp_path)
    build(config, NOW)
    first = parse((tmp_path / "public" / "feed.atom").read_bytes())
    write_config(tmp_path, site={"base_url": "https://example.org/blog"})
    build(load_config(tmp_path / "config.toml"), NOW)
    moved = parse((tmp_path / "public" / "feed.atom").read_bytes())
    assert [e.id for e in moved.entries] == [e.id for e in first.entries]
    assert moved.entries[0].link == "https://example.org/blog/b/"


def test_front_matter_control_characters_and_spaces_never_break_a_feed(tmp_path: Path) -> None:
    # Regression: YAML escapes like "\x01" reached lxml, which refused them mid-build.
    config = make_site(
        tmp_path,
        {
            "a.md": post(
                "A",
                categories='"War\\x01 News"',
                id='"tag:example.org,2024:a\\x02"',
                image='"/pics/a b\\x03.png"',
                permalink='"/a\\x04 b/"',
                excerpt='"Sum\\x05mary"',
            )
        },
    )
    build(config, NOW)
    public = tmp_path / "public"
    entry = parse((public / "feed.atom").read_bytes()).entries[0]
    assert entry.id == "tag:example.org,2024:a"
    assert entry.link == "https://example.org/a%20b/"
    assert entry.summary == "Summary"
    assert [t.term for t in entry.tags] == ["War", "News"]
    assert entry.media_thumbnail[0]["url"] == "https://example.org/pics/a%20b.png"
    assert parse((public / "feed.rss").read_bytes()).entries[0].id == entry.id
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    assert schema.validate(etree.parse(str(public / "feed.atom")))


def test_a_category_named_dot_dot_cannot_overwrite_the_site_feed(tmp_path: Path) -> None:
    # Regression: the slug of '..' was '..', so its feeds landed on public/feed.*.
    config = make_site(
        tmp_path,
        {"a.md": post("A", date="2024-06-01", categories="['..']"), "b.md": post("B")},
    )
    build(config, NOW)
    public = tmp_path / "public"
    assert [e.title for e in parse((public / "feed.atom").read_bytes()).entries] == ["B", "A"]
    assert (public / "categories" / "%2E%2E" / "feed.atom").is_file()
    assert [p.name for p in (public / "categories").iterdir()] == ["%2E%2E"]


def test_a_set_of_feeds_per_language_under_its_folder(tmp_path: Path) -> None:
    languages = {"en": "", "en-GB": "uk/"}
    build(two_posts(tmp_path, languages=languages, titles={"en-GB": "Test site (UK)"}), NOW)
    public = tmp_path / "public"
    assert [e.title for e in parse((public / "feed.atom").read_bytes()).entries] == ["B"]
    british = parse((public / "uk" / "feed.atom").read_bytes())
    assert (british.feed.title, [e.title for e in british.entries]) == ("Test site (UK)", ["A"])
    assert xml(public / "uk" / "feed.atom").get(XML_LANG) == "en-GB"
    channel = xml(public / "uk" / "feed.rss").find("channel")
    assert (channel.findtext("link"), channel.findtext("language")) == (
        "https://example.org/uk/",
        "en-GB",
    )
    home = json.loads((public / "uk" / "feed.json").read_bytes())
    assert (home["home_page_url"], home["language"]) == ("https://example.org/uk/", "en-GB")
    world = parse((public / "uk" / "categories" / "world" / "feed.atom").read_bytes())
    assert world.feed.title == "Test site (UK) · World"
    assert [e.title for e in world.entries] == ["A"]
    assert [
        e.title for e in parse((public / "categories/world/feed.atom").read_bytes()).entries
    ] == ["B"]
    page = (public / "index.html").read_text(encoding="utf-8")
    assert 'href="https://example.org/uk/feed.atom"' in page


def test_a_post_in_a_language_without_feeds_of_its_own_is_in_the_sites(tmp_path: Path) -> None:
    build(two_posts(tmp_path, languages={"ko": "ko"}), NOW)
    public = tmp_path / "public"
    assert [e.title for e in parse((public / "feed.atom").read_bytes()).entries] == ["B", "A"]
    assert parse((public / "ko" / "feed.atom").read_bytes()).entries == []


def test_languages_must_not_put_two_sets_at_the_top(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        two_posts(tmp_path, languages={"ko": ""})
    assert "[feeds] languages" in str(caught.value.problems)
    with pytest.raises(ConfigError) as caught:
        two_posts(tmp_path / "b", languages={"ko": "x", "ja": "x/"})
    assert "two languages share one folder" in str(caught.value.problems)


def test_limit_zero_keeps_every_post(tmp_path: Path) -> None:
    build(two_posts(tmp_path, limit=0), NOW)
    entries = parse((tmp_path / "public" / "feed.atom").read_bytes()).entries
    assert [e.title for e in entries] == ["B", "A"]


SUMMARY_ABOUT_TAGS = "Use the <script> tag, and a < b & c."


def test_a_summary_about_html_tags_reads_as_written_in_every_format(tmp_path: Path) -> None:
    body = "Use the `<script>` tag, and `a < b & c`.\n\nMore."
    config = make_site(tmp_path, {"a.md": post("Tags", body, date="2024-06-01")})
    build(config, NOW)
    public = tmp_path / "public"
    for name in ("feed.rss", "feed.atom"):
        (entry,) = parse((public / name).read_bytes()).entries
        # RSS's description is HTML, Atom's summary text: a reader shows the same words
        shown = entry.summary
        if entry.summary_detail.type == "text/html":
            shown = lxml.html.fragment_fromstring(shown, create_parent="p").text_content()
        assert shown == SUMMARY_ABOUT_TAGS, name
    (item,) = json.loads((public / "feed.json").read_bytes())["items"]
    assert item["summary"] == SUMMARY_ABOUT_TAGS  # JSON Feed's summary is plain text


def test_the_w3c_validator_reads_an_escaped_summary_as_html(tmp_path: Path) -> None:
    require_validator()
    body = "Use the `<script>` tag, and `a < b & c`.\n\nMore."
    config = make_site(tmp_path, {"a.md": post("Tags", body, date="2024-06-01")})
    build(config, NOW)
    for name in ("feed.rss", "feed.atom"):
        url = f"{config.site.base_url}/{name}"
        errors, report = validate(tmp_path / "public" / name, url)
        assert errors == 0, report
        assert "NotHtml" not in report and "not HTML" not in report.lower(), report
