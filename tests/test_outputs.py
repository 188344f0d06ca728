"""What a build leaves in the output folder, and the language index.html speaks.

After every build the output folder holds exactly what a cold build of the same
site into an empty folder holds, plus whatever files someone else put there.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import lxml.html
import pytest

from publisher.build.cache import cache_path
from publisher.build.pipeline import BuildReport, build
from publisher.core.config import Config
from publisher.core.errors import ContentError
from publisher.outputs.files import MANIFEST_NAME, read_manifest
from publisher.site_config import load_config
from tests.conftest import NOW
from tests.read_only import read_only
from tests.test_content import make_site, post, write_config

POSTS = {
    "a.md": post("A", date="2024-06-01", categories="[Keep]"),
    "b.md": post("B", date="2024-06-02", categories="[Gone, Keep]"),
}
GONE = ["categories/gone/feed.atom", "categories/gone/feed.json", "categories/gone/feed.rss"]
OTHERS = {
    "robots.txt": b"User-agent: *\n",
    "assets/site.css": b"body { color: black; }\n",
    "feed.xml": b"<rss>an old hand-made feed</rss>\n",
    "categories/gone/README.txt": b"kept by the operator\n",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    make_site(tmp_path / "site", POSTS)
    return tmp_path / "site"


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every file under `folder` with its bytes, and every folder (as None)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def manifest(root: Path) -> dict[str, str] | None:
    return read_manifest(root / "state" / MANIFEST_NAME)


def cold_build(root: Path, others: dict[str, bytes], later: timedelta) -> Path:
    """The site copied with its first-seen dates, but no cache and no output but `others`."""
    copy = root.parent / f"cold-{len(list(root.parent.glob('cold-*')))}"
    for part in ("content", "templates"):
        shutil.copytree(root / part, copy / part)
    shutil.copy(root / "config.toml", copy / "config.toml")
    (copy / "state").mkdir()
    with (
        closing(sqlite3.connect(root / "state" / "publisher.sqlite3")) as source,
        closing(sqlite3.connect(copy / "state" / "publisher.sqlite3")) as target,
    ):
        source.backup(target)
    put(copy / "public", others)
    build(load_config(copy / "config.toml"), NOW + later)
    return copy


def build_like_cold(
    root: Path, now: timedelta = timedelta(0), others: dict[str, bytes] | None = None
) -> BuildReport:
    """Build `root`, and check its output and manifest are those of a cold build."""
    report = build(load_config(root / "config.toml"), NOW + now)
    cold = cold_build(root, others or {}, now)
    assert tree(root / "public") == tree(cold / "public")
    assert manifest(root) == manifest(cold)
    return report


def put(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


def feeds_under(public: Path) -> list[str]:
    return sorted(p.relative_to(public).as_posix() for p in public.rglob("feed.*"))


# removing what is no longer built ----------------------------------------------------


@pytest.mark.parametrize("change", ["deleted", "recategorised"])
def test_a_category_losing_its_last_post_loses_its_feeds_and_folder(
    site: Path, change: str
) -> None:
    build_like_cold(site)
    assert set(GONE) <= set(feeds_under(site / "public"))
    assert build(load_config(site / "config.toml"), NOW).nothing_changed

    if change == "deleted":
        (site / "content" / "b.md").unlink()
    else:
        (site / "content" / "b.md").write_text(post("B", date="2024-06-02", categories="[Keep]"))
    report = build_like_cold(site, timedelta(hours=1))

    assert not report.nothing_changed
    assert report.files.removed == tuple(GONE)
    assert "3 removed" in report.summary()
    assert not (site / "public" / "categories" / "gone").exists()
    assert (site / "public" / "categories" / "keep" / "feed.atom").is_file()
    assert not set(GONE) & set(manifest(site) or {})


def test_dropping_a_format_removes_its_files_in_every_folder(site: Path) -> None:
    build_like_cold(site)
    write_config(site, feeds={"formats": ["atom", "json"]})
    report = build_like_cold(site)
    rss = ["categories/gone/feed.rss", "categories/keep/feed.rss", "feed.rss"]
    assert report.files.removed == tuple(rss)
    assert not [name for name in feeds_under(site / "public") if name.endswith(".rss")]

    write_config(site, feeds={"categories": False})
    report = build_like_cold(site)
    assert feeds_under(site / "public") == ["feed.atom", "feed.json", "feed.rss"]
    assert not (site / "public" / "categories").exists()


def test_files_publisher_did_not_write_survive(site: Path) -> None:
    put(site / "public", OTHERS)
    build_like_cold(site, others=OTHERS)
    (site / "content" / "b.md").unlink()
    report = build_like_cold(site, others=OTHERS)
    assert report.files.removed == tuple(GONE)
    assert sorted(p.name for p in (site / "public" / "categories" / "gone").iterdir()) == [
        "README.txt"
    ]

    write_config(site, feeds={"categories": False, "formats": ["atom"]})
    build_like_cold(site, others=OTHERS)
    public = tree(site / "public")
    assert {name: public[name] for name in OTHERS} == OTHERS
    assert not (site / "public" / "categories" / "keep").exists()


def test_a_file_changed_since_publisher_wrote_it_stays_with_a_warning(site: Path) -> None:
    build_like_cold(site)
    changed = site / "public" / "categories" / "gone" / "feed.atom"
    changed.write_bytes(b"edited by hand")
    (site / "content" / "b.md").unlink()

    report = build(load_config(site / "config.toml"), NOW)
    assert report.files.removed == tuple(name for name in GONE if not name.endswith(".atom"))
    assert changed.read_bytes() == b"edited by hand"
    assert [w for w in report.warnings if "changed since publisher wrote it" in w] == [
        f"{changed}: changed since publisher wrote it; left in place"
    ]

    (site / "content" / "c.md").write_text(post("C", date="2024-06-03"))
    later = build_like_cold(site, others={"categories/gone/feed.atom": b"edited by hand"})
    assert later.warnings == () and later.files.removed == ()


def test_a_failed_build_removes_nothing(site: Path) -> None:
    put(site / "public", OTHERS)
    build(load_config(site / "config.toml"), NOW)
    before = tree(site / "public")
    listed = manifest(site)

    (site / "content" / "b.md").unlink()
    (site / "content" / "bad.md").write_text(post("Bad", date="someday"))
    with pytest.raises(ContentError):
        build(load_config(site / "config.toml"), NOW)
    assert tree(site / "public") == before
    assert manifest(site) == listed

    (site / "content" / "bad.md").unlink()
    assert build_like_cold(site, others=OTHERS).files.removed == tuple(GONE)


def test_a_build_with_nothing_changed_removes_nothing(site: Path) -> None:
    put(site / "public", OTHERS)
    build(load_config(site / "config.toml"), NOW)
    before = tree(site / "public")
    stamps = {p: p.stat().st_mtime_ns for p in (site / "public").rglob("*")}

    again = build(load_config(site / "config.toml"), NOW)
    assert again.nothing_changed
    assert again.files.removed == ()
    cache_path(load_config(site / "config.toml")).unlink()
    cold_cache = build(load_config(site / "config.toml"), NOW)
    assert not cold_cache.nothing_changed
    assert cold_cache.files.removed == () and cold_cache.files.written == ()

    assert tree(site / "public") == before
    assert {p: p.stat().st_mtime_ns for p in (site / "public").rglob("*")} == stamps


# the manifest --------------------------------------------------------------------------


def test_without_its_manifest_a_build_goes_by_the_cache_note_of_the_last_build(
    site: Path,
) -> None:
    build(load_config(site / "config.toml"), NOW)
    (site / "state" / MANIFEST_NAME).unlink()
    again = build(load_config(site / "config.toml"), NOW)
    assert again.nothing_changed
    assert manifest(site) == {
        name: hashlib.sha256((site / "public" / name).read_bytes()).hexdigest()
        for name in again.files.unchanged
    }

    (site / "state" / MANIFEST_NAME).unlink()
    (site / "content" / "b.md").unlink()
    assert build_like_cold(site).files.removed == tuple(GONE)


def test_without_manifest_or_cache_nothing_is_removed_and_the_manifest_starts_over(
    site: Path,
) -> None:
    config = load_config(site / "config.toml")
    build(config, NOW)
    (site / "state" / MANIFEST_NAME).unlink()
    cache_path(config).unlink()
    (site / "content" / "b.md").unlink()

    report = build(config, NOW)
    assert report.files.removed == ()
    assert set(GONE) <= set(feeds_under(site / "public"))
    assert sorted(manifest(site) or {}) == sorted(report.files.written + report.files.unchanged)


def test_a_damaged_manifest_is_reported_and_never_reaches_outside_the_output(
    site: Path,
) -> None:
    config = load_config(site / "config.toml")
    build(config, NOW)
    outside = site / "outside.txt"
    outside.write_bytes(b"not publisher's")
    digest = hashlib.sha256(b"not publisher's").hexdigest()
    note = {"format": 1, "files": {"../outside.txt": digest}}
    (site / "state" / MANIFEST_NAME).write_text(json.dumps(note))
    cache_path(config).unlink()
    (site / "content" / "b.md").unlink()

    report = build(config, NOW)
    assert outside.read_bytes() == b"not publisher's"
    assert report.files.removed == ()
    assert [w for w in report.warnings if MANIFEST_NAME in w] == [
        f"{site / 'state' / MANIFEST_NAME} is not a list of the files publisher wrote; "
        "it is rewritten, and files dropped from the output may stay this time"
    ]
    assert "../outside.txt" not in (manifest(site) or {})


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a//b", "./a", "a/../../b", "a\\b", ""])
def test_a_manifest_naming_a_path_outside_the_output_is_not_read(tmp_path: Path, name: str) -> None:
    path = tmp_path / MANIFEST_NAME
    path.write_text(json.dumps({"format": 1, "files": {name: "0" * 64, "feed.atom": "0" * 64}}))
    assert read_manifest(path) is None
    path.write_text(json.dumps({"format": 1, "files": {"feed.atom": "0" * 64}}))
    assert read_manifest(path) == {"feed.atom": "0" * 64}


def test_a_file_that_cannot_be_removed_is_tried_again_by_the_next_build(site: Path) -> None:
    config = load_config(site / "config.toml")
    build(config, NOW)
    folder = site / "public" / "categories" / "gone"
    (site / "content" / "b.md").unlink()
    with read_only(folder):
        stuck = build(config, NOW)
        again = build(config, NOW)
    assert stuck.files.removed == ()
    assert len([w for w in stuck.warnings if w.startswith("cannot remove")]) == 3
    assert set(GONE) <= set(manifest(site) or {})
    assert not again.nothing_changed
    assert build_like_cold(site).files.removed == tuple(GONE)


# index.html in the site's language -------------------------------------------------


def index_of(config: Config, language: str) -> lxml.html.HtmlElement:
    site = dataclasses.replace(config.site, language=language)
    web = dataclasses.replace(config.web, base_url="https://news.example.org/newsletter")
    built = dataclasses.replace(config, site=site, web=web)
    build(built, NOW)
    return lxml.html.fromstring((built.paths.output / "index.html").read_bytes())


def labels(page: lxml.html.HtmlElement) -> list[str]:
    return [
        *page.xpath("//h2/text()"),
        *page.xpath("//section[@aria-labelledby='subscribe']/p/text()"),
        *page.xpath("//form/label/text()"),
        *page.xpath("//form/button/text()"),
    ]


@pytest.mark.parametrize("language", ["ko", "ko-KR"])
def test_a_korean_site_gets_a_korean_index_page(config: Config, language: str) -> None:
    page = index_of(config, language)
    assert page.get("lang") == language
    assert labels(page) == [
        "구독하기",
        "최근 글",
        "아래 주소 중 하나를 피드 리더에 붙여 넣으세요.",
        "새 글을 이메일로 받아 보세요",
        "이메일로 구독하기",
    ]
    feed_labels = page.xpath("//div[@class='feed']/label/text()")
    assert feed_labels[:3] == [
        "뉴스다오 속보 (Atom 피드)",
        "뉴스다오 속보 (RSS 피드)",
        "뉴스다오 속보 (JSON 피드)",
    ]
    assert page.xpath("//head/link[@rel='alternate']/@title") == feed_labels


@pytest.mark.parametrize("language", ["en", "en-GB", "kok"])
def test_any_other_site_gets_an_english_index_page(config: Config, language: str) -> None:
    page = index_of(config, language)
    assert page.get("lang") == language
    assert labels(page) == [
        "Subscribe",
        "Latest posts",
        "Paste one of these addresses into your feed reader.",
        "Get new posts by email",
        "Subscribe by email",
    ]
    feed_labels = page.xpath("//div[@class='feed']/label/text()")
    assert feed_labels[:3] == [
        "뉴스다오 속보 (Atom)",
        "뉴스다오 속보 (RSS)",
        "뉴스다오 속보 (JSON Feed)",
    ]
    assert page.xpath("//head/link[@rel='alternate']/@title") == feed_labels
