"""Every issue archived as it was sent: its page, the page of past issues, and the feeds of
them, read with lxml and feedparser, validated against RFC 4287's schema and by the W3C
Feed Validator when it is installed (see tests/feed_validator.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path

import feedparser
import lxml.html
import pytest
from click.testing import CliRunner
from lxml import etree

from publisher.build.pipeline import build
from publisher.cli import cli
from publisher.core.config import Config
from publisher.newsletter.archive import publish_archive
from publisher.newsletter.delivery import send_digests
from publisher.state.store import reading
from tests.conftest import NOW, ROOT
from tests.feed_validator import require_validator, validate
from tests.smtp_sink import SmtpSink
from tests.test_preferences import LATER, READERS, copies, sections_site, subscribe_readers

SCHEMAS = ROOT / "tests" / "schemas"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def sent(tmp_path: Path, smtp_sink: SmtpSink) -> Config:
    """The sections site after two runs to three readers: issues 1-5, then 6-8."""
    config = smtp_sink.configure(sections_site(tmp_path / "site"))
    build(config, NOW)
    subscribe_readers(config)
    send_digests(config, NOW)
    send_digests(config, LATER)
    return config


def archive_folder(config: Config) -> Path:
    return config.paths.output / "newsletter"


def test_every_issue_is_published_exactly_as_frozen_with_no_reader_in_it(
    sent: Config, smtp_sink: SmtpSink
) -> None:
    with reading(sent.state_db) as store:
        assert store is not None
        issues = list(store.issues())
    assert [issue.number for issue in issues] == [8, 7, 6, 5, 4, 3, 2, 1]
    assert [issue.cadence for issue in issues[-5:]] == ["each", "each", "each", "daily", "weekly"]
    for issue in issues:
        page = archive_folder(sent) / str(issue.number) / "index.html"
        assert page.read_text(encoding="utf-8") == issue.archive_html
        html = issue.archive_html
        assert "__publisher_" not in html + issue.archive_text
        assert "token=" not in html and "token=" not in issue.archive_text
        assert not any(address in html for address in READERS)
        document = lxml.html.document_fromstring(html)
        assert not document.find_class("browser-link"), "no link to itself"
        assert "발송된 그대로의 웹 사본입니다" in html
        posts = [a.get("href") for a in document.find_class("post-link")]
        assert len(posts) == len(json.loads(issue.posts))
    weekly = lxml.html.document_fromstring(issues[-1].archive_html)
    assert len(weekly.find_class("post-link")) == 4, "the whole issue, not one reader's cut"
    (economy, _) = copies(smtp_sink, "eco@example.org")
    assert "https://news.example.org/newsletter/2/" in economy.text


def test_the_page_of_past_issues_lists_them_newest_first(sent: Config) -> None:
    page = lxml.html.parse(str(archive_folder(sent) / "index.html")).getroot()
    assert page.get("lang") == "ko"
    links = page.xpath("//ol[@class='issues']/li/a/@href")
    assert links == [f"{n}/" for n in range(8, 0, -1)]
    assert "제1호 · 주간" in page.text_content()
    feeds = page.xpath("//link[@rel='alternate']/@href")
    assert feeds == [
        f"https://news.example.org/newsletter/feed.{f}" for f in ("atom", "rss", "json")
    ]


def test_the_feed_of_issues_is_clean_for_feedparser_and_valid_rfc_4287(sent: Config) -> None:
    data = (archive_folder(sent) / "feed.atom").read_bytes()
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.feed.title == "뉴스다오 속보 · 뉴스레터"
    ids = [entry.id for entry in parsed.entries]
    assert ids == [f"tag:news.example.org,2024:newsletter/{n}" for n in range(8, 0, -1)]
    first = parsed.entries[-1]
    assert first.link == "https://news.example.org/newsletter/1/"
    assert first.title == "뉴스다오 속보: 배터리 업계, 북미 공장 투자 확대"
    assert "한국은행, 기준금리 동결" in first.content[0].value
    schema = etree.RelaxNG(etree.parse(str(SCHEMAS / "atom.rng")))
    assert schema.validate(etree.fromstring(data)), schema.error_log
    rss = feedparser.parse((archive_folder(sent) / "feed.rss").read_bytes())
    assert rss.bozo == 0 and [e.id for e in rss.entries] == ids
    feed = json.loads((archive_folder(sent) / "feed.json").read_bytes())
    assert [item["id"] for item in feed["items"]] == ids
    assert feed["feed_url"] == "https://news.example.org/newsletter/feed.json"


@pytest.mark.parametrize("name", ["feed.atom", "feed.rss"])
def test_the_w3c_feed_validator_finds_no_error(sent: Config, name: str) -> None:
    require_validator()
    errors, report = validate(
        archive_folder(sent) / name, f"https://news.example.org/newsletter/{name}"
    )
    assert errors == 0, report


def test_the_archive_is_deterministic_and_frozen_against_later_edits(sent: Config) -> None:
    folder = archive_folder(sent)
    before = {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    post = sent.paths.content / "p2-rates.md"
    post.write_text(
        post.read_text(encoding="utf-8").replace("기준금리 동결", "기준금리 인하"), encoding="utf-8"
    )

    build(sent, LATER + timedelta(hours=1))  # a build republishes the archive, and keeps it
    again = publish_archive(sent)

    assert again is not None and again.files.written == () and again.files.removed == ()
    after = {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    assert after == before
    assert "기준금리 동결" in (folder / "1" / "index.html").read_text(encoding="utf-8")


def test_a_moved_archive_leaves_nothing_behind_and_an_empty_one_is_off(sent: Config) -> None:
    moved = dataclasses.replace(sent, digest=dataclasses.replace(sent.digest, archive="issues"))
    publish_archive(moved)
    assert not archive_folder(sent).exists()
    assert (sent.paths.output / "issues" / "8" / "index.html").is_file()

    off = dataclasses.replace(sent, digest=dataclasses.replace(sent.digest, archive=""))
    publish_archive(off)
    assert not (sent.paths.output / "issues").exists()
    assert (sent.paths.output / "feed.atom").is_file(), "the build's own files stay"


def test_index_html_links_the_archive_once_it_holds_an_issue(
    tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    """Reproduces a review finding: the site's index.html never linked the archive."""
    config = smtp_sink.configure(sections_site(tmp_path / "site"))
    index = config.paths.output / "index.html"

    def archive_links() -> list[tuple[str, str]]:
        page = lxml.html.parse(str(index)).getroot()
        return [(a.get("href"), a.text_content()) for a in page.xpath("//a[@class='archive']")]

    build(config, NOW)
    before = index.read_bytes()
    assert archive_links() == [], "no archive yet: no link"
    assert build(config, NOW).nothing_changed and index.read_bytes() == before

    subscribe_readers(config)
    send_digests(config, NOW)
    assert build(config, NOW).files.written == ("index.html",)
    assert archive_links() == [("https://news.example.org/newsletter/", "지난 뉴스레터 보기")]
    linked = index.read_bytes()
    again = build(config, NOW)
    assert again.nothing_changed and index.read_bytes() == linked

    english = dataclasses.replace(config, site=dataclasses.replace(config.site, language="en"))
    build(english, NOW)
    assert archive_links() == [("https://news.example.org/newsletter/", "Past newsletters")]
    unarchived = dataclasses.replace(config, digest=dataclasses.replace(config.digest, archive=""))
    build(unarchived, NOW)
    assert archive_links() == [], "an archive turned off is not linked"


@pytest.mark.parametrize(
    ("web", "archive", "warned"),
    [
        ("https://news.example.org/newsletter", "newsletter", True),
        ("https://news.example.org", "newsletter", True),
        ("https://news.example.org/newsletter", "archive", False),
        ("https://news.example.org/newsletters", "newsletter", False),
        ("https://news.example.org/newsletter", "", False),
    ],
)
def test_check_warns_when_the_endpoint_would_hide_the_archive(
    site_dir: Path, web: str, archive: str, warned: bool
) -> None:
    """Reproduces a review finding: docs/web.md's [web] base_url and proxy example put
    `publisher serve` at /newsletter/, where the archive (and every "view in browser"
    link) is published by default; serve answers /newsletter/ with the subscribe form and
    /newsletter/2/ with 404, and `check` said nothing."""
    path = site_dir / "config.toml"
    text = path.read_text(encoding="utf-8").replace(
        "[digest]\n", f'[digest]\narchive = "{archive}"\n', 1
    )
    path.write_text(text + f'\n[web]\nbase_url = "{web}"\n', encoding="utf-8")

    result = CliRunner().invoke(cli, ["--config", str(path), "check"])

    assert result.exit_code == 0, result.output
    assert ("is under [web] base_url" in result.output) is warned, result.output
