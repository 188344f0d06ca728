"""`publisher adopt`: a site keeps the ids its subscribers' readers hold, and mails only
what is new. Real files, real HTTP on 127.0.0.1, real SQLite, real feedparser."""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from click.testing import CliRunner, Result

from publisher.cli import cli
from tests.jekyll_peer import FIXTURES

NOW = "2024-06-20T09:00:00+00:00"
OLD_SITE = "https://news.example.org"


def folder_site(tmp_path: Path) -> Path:
    (tmp_path / "content").mkdir()
    for day, slug in ((1, "first"), (2, "second"), (3, "third")):
        (tmp_path / "content" / f"{slug}.md").write_text(
            f"---\ntitle: The {slug} post\ndate: 2024-06-{day:02d}\n---\nAbout {slug}.\n",
            encoding="utf-8",
        )
    config = tmp_path / "config.toml"
    config.write_text(
        '[site]\ntitle = "News"\nbase_url = "https://news.example.org"\n'
        'id_authority = "news.example.org,2024"\n[feeds]\nformats = ["atom", "rss", "json"]\n'
        '[mail]\nfrom = "News <news@example.org>"\n',
        encoding="utf-8",
    )
    return config


def publisher(config: Path, *args: str, now: str = NOW) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", now, *args])


def hugo_style_rss(entries: list[tuple[str, str, str]]) -> bytes:
    """An RSS feed whose guids are the posts' links, as Hugo writes them."""
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
        f'<guid isPermaLink="true">{link}</guid></item>'
        for title, link, date in entries
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<link>{OLD_SITE}/</link><description>x</description>{items}</channel></rss>"
    ).encode()


OLD_FEED = [
    ("The first post", f"{OLD_SITE}/the-first-post/", "Sat, 01 Jun 2024 00:00:00 +0000"),
    ("The second post", f"{OLD_SITE}/the-second-post/", "Sun, 02 Jun 2024 00:00:00 +0000"),
    ("The  Third Post", f"{OLD_SITE}/old-url-of-third/", "Mon, 03 Jun 2024 00:00:00 +0000"),
    ("Gone", f"{OLD_SITE}/gone/", "Mon, 03 Jun 2024 00:00:00 +0000"),
]


def ids_in(path: Path) -> dict[str, str]:
    if path.suffix == ".json":
        items = json.loads(path.read_bytes())["items"]
        return {item["url"]: item["id"] for item in items}
    return {entry.link: entry.id for entry in feedparser.parse(path.read_bytes()).entries}


def test_a_link_id_feed_is_adopted_and_new_posts_continue_its_scheme(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    old = tmp_path / "old.xml"
    old.write_bytes(hugo_style_rss(OLD_FEED))
    result = publisher(config, "adopt", str(old))
    assert result.exit_code == 0, result.output
    assert "adopted 3 of 4 entries" in result.output
    assert f"not matched: Gone <{OLD_SITE}/gone/>" in result.output
    (tmp_path / "content" / "fourth.md").write_text(
        "---\ntitle: Fourth\ndate: 2024-06-10\n---\nNew.\n", encoding="utf-8"
    )
    assert publisher(config, "build").exit_code == 0
    for name in ("feed.atom", "feed.rss", "feed.json"):
        ids = ids_in(tmp_path / "public" / name)
        assert ids[f"{OLD_SITE}/the-first-post/"] == f"{OLD_SITE}/the-first-post/", name
        third = ids[f"{OLD_SITE}/the-third-post/"]
        assert third == f"{OLD_SITE}/old-url-of-third/", name  # matched by title and date
        assert ids[f"{OLD_SITE}/fourth/"] == f"{OLD_SITE}/fourth/", name  # the link scheme


def test_source_ids_continue_when_the_feed_ids_are_not_links(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "News",
        "items": [
            {"id": "urn:old:1", "url": f"{OLD_SITE}/the-first-post/", "title": "x"},
            {"id": "urn:old:2", "url": f"{OLD_SITE}/the-second-post/", "title": "y"},
        ],
    }
    (tmp_path / "old.json").write_text(json.dumps(feed), encoding="utf-8")
    result = publisher(config, "adopt", str(tmp_path / "old.json"))
    assert result.exit_code == 0, result.output
    assert publisher(config, "build").exit_code == 0
    ids = ids_in(tmp_path / "public" / "feed.atom")
    assert ids[f"{OLD_SITE}/the-first-post/"] == "urn:old:1"
    assert ids[f"{OLD_SITE}/the-third-post/"] == "tag:news.example.org,2024:third"


def test_every_build_writes_the_adopted_published_dates_readers_hold(tmp_path: Path) -> None:
    config = folder_site(tmp_path)  # its posts are dated by day, at midnight UTC
    held = [
        ("The first post", f"{OLD_SITE}/the-first-post/", "Sat, 01 Jun 2024 07:30:00 +0000"),
        ("The second post", f"{OLD_SITE}/the-second-post/", "Sun, 02 Jun 2024 18:05:00 +0200"),
    ]
    (tmp_path / "old.xml").write_bytes(hugo_style_rss(held))
    assert publisher(config, "adopt", str(tmp_path / "old.xml")).exit_code == 0
    for moment in (NOW, "2024-06-21T09:00:00+00:00"):  # and every later build
        assert publisher(config, "build", now=moment).exit_code == 0
        atom = feedparser.parse((tmp_path / "public" / "feed.atom").read_bytes())
        rss = feedparser.parse((tmp_path / "public" / "feed.rss").read_bytes())
        items = json.loads((tmp_path / "public" / "feed.json").read_bytes())["items"]
        for feed in (atom, rss):
            published = {e.link: e.published_parsed[:6] for e in feed.entries}
            assert published[f"{OLD_SITE}/the-first-post/"] == (2024, 6, 1, 7, 30, 0)
            assert published[f"{OLD_SITE}/the-second-post/"] == (2024, 6, 2, 16, 5, 0)
            assert published[f"{OLD_SITE}/the-third-post/"] == (2024, 6, 3, 0, 0, 0)  # its own
        dates = {item["url"]: item["date_published"] for item in items}
        assert dates[f"{OLD_SITE}/the-first-post/"] == "2024-06-01T07:30:00+00:00"


class _FeedHandler(http.server.BaseHTTPRequestHandler):
    body = b""
    requests = 0

    def do_GET(self) -> None:  # the stdlib's name
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def feed_server() -> Iterator[tuple[str, type[_FeedHandler]]]:
    handler = type("Handler", (_FeedHandler,), {"body": hugo_style_rss(OLD_FEED), "requests": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.xml", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_feed_url_is_fetched_once(
    tmp_path: Path, feed_server: tuple[str, type[_FeedHandler]]
) -> None:
    url, handler = feed_server
    result = publisher(folder_site(tmp_path), "adopt", url, "--timeout", "5")
    assert result.exit_code == 0, result.output
    assert "adopted 3 of 4 entries" in result.output
    assert handler.requests == 1


def test_an_unreachable_feed_or_one_matching_nothing_is_an_error(tmp_path: Path) -> None:
    config = folder_site(tmp_path)
    result = publisher(config, "adopt", "http://127.0.0.1:9/feed.xml", "--timeout", "2")
    assert result.exit_code == 1 and "cannot read the feed" in result.output
    (tmp_path / "other.xml").write_bytes(hugo_style_rss([("Else", "https://e.x/a", "")]))
    result = publisher(config, "adopt", str(tmp_path / "other.xml"))
    assert result.exit_code == 1 and "no entry of" in result.output
    result = publisher(config, "adopt", str(tmp_path / "missing.xml"))
    assert result.exit_code == 1 and "cannot read the feed" in result.output


def digests(outbox: Path) -> list[str]:
    """The text part of the first message of every digest in the outbox, in order."""
    texts = []
    for folder in sorted(outbox.glob("digest-*")):
        message = email.message_from_bytes(
            sorted(folder.glob("*.eml"))[0].read_bytes(), policy=email.policy.default
        )
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        texts.append(str(body.get_content()))
    return texts


def test_adopted_posts_count_as_mailed_so_the_first_digest_holds_only_new_ones(
    tmp_path: Path,
) -> None:
    config = folder_site(tmp_path)
    (tmp_path / "old.xml").write_bytes(hugo_style_rss(OLD_FEED))
    assert publisher(config, "adopt", str(tmp_path / "old.xml")).exit_code == 0
    assert publisher(config, "subscribers", "add", "reader@example.org").exit_code == 0
    (tmp_path / "content" / "fourth.md").write_text(
        "---\ntitle: Fourth\ndate: 2024-06-19\n---\nNew.\n", encoding="utf-8"
    )
    result = publisher(config, "digest")
    assert result.exit_code == 0, result.output
    (text,) = digests(tmp_path / "outbox")
    assert "Fourth" in text and "The first post" not in text and "The second post" not in text


def test_a_draft_moved_to_posts_is_mailed_once_when_published(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "blog", tmp_path / "site")
    config = tmp_path / "config.toml"
    config.write_text(
        '[source]\nkind = "jekyll"\npath = "site"\n[mail]\nfrom = "N <n@example.org>"\n',
        encoding="utf-8",
    )
    assert publisher(config, "build").exit_code == 0
    assert publisher(config, "adopt", str(tmp_path / "public" / "feed.xml")).exit_code == 0
    assert publisher(config, "subscribers", "add", "reader@example.org").exit_code == 0
    assert publisher(config, "build", "--drafts").exit_code == 0
    result = publisher(config, "digest")
    assert "nothing sent" in result.output, result.output
    draft = tmp_path / "site" / "_drafts" / "draft-without-date.md"
    draft.rename(tmp_path / "site" / "_posts" / "2024-06-19-draft-without-date.md")
    for moment in ("2024-06-20T09:00:00+00:00", "2024-06-27T09:00:00+00:00"):
        result = publisher(config, "digest", now=moment)
        assert result.exit_code == 0, result.output
    (text,) = digests(tmp_path / "outbox")  # one digest, at the first run after the move
    assert "A draft without a date" in text
    assert "Guide one" not in text and "Only with --drafts" not in text
