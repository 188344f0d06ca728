"""Reading posts: formats, front matter, dates, identity and every kind of bad input."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.build.pipeline import build, load_posts
from publisher.core.config import Config
from publisher.core.errors import ContentError
from publisher.core.models import DateSource, Post
from publisher.render.template_files import builtin_templates
from publisher.site_config import load_config
from publisher.sources import open_source
from publisher.sources.base import LoadedSite
from publisher.sources.loading import load_site
from tests.conftest import NOW, SEOUL

SITE: dict[str, Any] = {
    "title": "Test site",
    "base_url": "https://example.org",
    "id_authority": "example.org,2024",
    "timezone": "Asia/Seoul",
    "language": "en",
    "author": "Editor",
}


def make_site(
    root: Path,
    files: Mapping[str, str | bytes],
    site: dict[str, Any] | None = None,
    feeds: dict[str, Any] | None = None,
) -> Config:
    """A site folder under `root` with these posts (paths under content/) and settings."""
    root.mkdir(parents=True, exist_ok=True)
    content = root / "content"
    content.mkdir(exist_ok=True)
    for name, body in files.items():
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    if not (root / "templates").exists():
        shutil.copytree(builtin_templates(), root / "templates")
    write_config(root, site, feeds)
    return load_config(root / "config.toml")


def write_config(
    root: Path, site: dict[str, Any] | None = None, feeds: dict[str, Any] | None = None
) -> None:
    lines = ["[site]"]
    lines += [f"{key} = {_toml(value)}" for key, value in {**SITE, **(site or {})}.items()]
    if feeds:
        lines += ["[feeds]"] + [f"{key} = {_toml(value)}" for key, value in feeds.items()]
    (root / "config.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _toml(value: Any) -> str:
    """A TOML value: JSON's spelling, but for tables, which are inline tables."""
    if isinstance(value, dict):
        pairs = ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items())
        return f"{{ {pairs} }}"
    return json.dumps(value)


def post(title: str = "A post", body: str = "<p>Body.</p>", **fields: Any) -> str:
    front = {"title": title, **fields}
    lines = [f"{key}: {value}" for key, value in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


def load(config: Config, now: datetime = NOW, first_seen: dict[str, datetime] | None = None):
    return load_site(config, open_source(config), first_seen or {}, now)


def by_name(site: LoadedSite) -> dict[str, Post]:
    return {p.source_name: p for p in site.posts}


def problems_of(config: Config, now: datetime = NOW) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load(config, now)
    return [f"{p.where}: {p.message} | {p.hint}" for p in caught.value.problems]


# files ----------------------------------------------------------------------


def test_markdown_files_are_rendered_with_commonmark(tmp_path: Path) -> None:
    body = "# Heading\n\nSome *emphasis* and [a link](other/).\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    config = make_site(
        tmp_path, {"one.md": post("One", body), "two.markdown": post("Two", "__strong__")}
    )
    posts = by_name(load(config))
    html = posts["one.md"].content_html
    assert "<h1>Heading</h1>" in html
    assert "<em>emphasis</em>" in html
    assert '<a href="https://example.org/one/other/">a link</a>' in html
    assert "<table>" in html
    assert posts["two.markdown"].content_html == "<p><strong>strong</strong></p>"


@pytest.mark.parametrize("suffix", [".html", ".htm", ".txt", ".HTML"])
def test_html_bodies_are_kept_as_html_not_markdown(tmp_path: Path, suffix: str) -> None:
    config = make_site(tmp_path, {f"page{suffix}": post("Page", "<p>*not emphasis*</p>")})
    (only,) = load(config).posts
    assert only.content_html == "<p>*not emphasis*</p>"


def test_utf8_bom_and_crlf_line_endings_are_accepted(tmp_path: Path) -> None:
    raw = "\ufeff---\r\ntitle: 줄바꿈\r\ndate: 2024-06-01\r\n---\r\n<p>a</p>\r\n<p>b</p>\r\n"
    config = make_site(tmp_path, {"bom.html": raw.encode("utf-8")})
    (only,) = load(config).posts
    assert only.title == "줄바꿈"
    assert only.published == datetime(2024, 6, 1, tzinfo=SEOUL)
    assert "\r" not in only.content_html


def test_subfolders_are_read_recursively(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"2024/06/deep.md": post("Deep"), "top.md": post("Top")})
    posts = by_name(load(config))
    assert set(posts) == {"2024/06/deep.md", "top.md"}
    assert posts["2024/06/deep.md"].id == "tag:example.org,2024:2024/06/deep"


def test_dotfiles_dot_folders_and_other_kinds_of_file_are_ignored(tmp_path: Path) -> None:
    not_a_post = b"\xff\xfe not even UTF-8"
    config = make_site(
        tmp_path,
        {
            "real.md": post("Real"),
            ".hidden.md": not_a_post,
            ".git/objects.md": not_a_post,
            "drafts/.wip/idea.html": not_a_post,
            "notes.rst": not_a_post,
            "photo.jpg": not_a_post,
            "README": not_a_post,
            "real.md~": not_a_post,
            "real.md.bak": not_a_post,
        },
    )
    assert [p.source_name for p in load(config).posts] == ["real.md"]


# front matter ---------------------------------------------------------------


def test_categories_as_a_list_or_a_space_separated_string(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "list.md": post("L", categories="[World, 북한 소식]"),
            "words.md": post("W", categories="World Politics"),
            "single.md": post("S", category="Long Name"),
            "none.md": post("N"),
        },
    )
    posts = by_name(load(config))
    assert [c.name for c in posts["list.md"].categories] == ["World", "북한 소식"]
    assert [c.slug for c in posts["list.md"].categories] == ["world", "북한-소식"]
    assert [c.name for c in posts["words.md"].categories] == ["World", "Politics"]
    assert [c.name for c in posts["single.md"].categories] == ["Long Name"]
    assert posts["none.md"].categories == ()


def test_tags_as_a_list_or_a_string(tmp_path: Path) -> None:
    config = make_site(
        tmp_path, {"a.md": post("A", tags="[x, y z]"), "b.md": post("B", tags="p q")}
    )
    posts = by_name(load(config))
    assert posts["a.md"].tags == ("x", "y z")
    assert posts["b.md"].tags == ("p", "q")


def test_korean_title_takes_its_slug_from_the_filename(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "2024-06-19-putin-visit.md": post("푸틴 방북 이틀간 공식 방문"),
            "english.md": post("Hello, World!"),
            "한글-파일.md": post("북한 소식"),
            "sluggy.md": post("푸틴", slug="custom-slug"),
        },
    )
    posts = by_name(load(config))
    assert posts["2024-06-19-putin-visit.md"].title == "푸틴 방북 이틀간 공식 방문"
    assert posts["2024-06-19-putin-visit.md"].url == "https://example.org/putin-visit/"
    assert posts["english.md"].url == "https://example.org/hello-world/"
    assert posts["한글-파일.md"].slug == "한글-파일"
    assert posts["한글-파일.md"].url == "https://example.org/%ED%95%9C%EA%B8%80-%ED%8C%8C%EC%9D%BC/"
    assert posts["sluggy.md"].url == "https://example.org/custom-slug/"


def test_permalink_front_matter_and_the_site_permalink_pattern(tmp_path: Path) -> None:
    files = {
        "own.md": post("Own", permalink="/news/special/"),
        "full.md": post("Full", permalink="https://elsewhere.example.net/x.html"),
        "plain.md": post("Plain Post", date="2024-03-05"),
    }
    config = make_site(tmp_path, files, site={"permalink": "/:year/:month/:day/:slug/"})
    posts = by_name(load(config))
    assert posts["own.md"].url == "https://example.org/news/special/"
    assert posts["full.md"].url == "https://elsewhere.example.net/x.html"
    assert posts["plain.md"].url == "https://example.org/2024/03/05/plain-post/"


def test_drafts_and_unpublished_posts_are_left_out(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "draft.md": post("Draft", draft="true"),
            "unpublished.md": post("Unpublished", published="false"),
            "kept.md": post("Kept", draft="false", published="true"),
        },
    )
    site = load(config)
    assert [p.source_name for p in site.posts] == ["kept.md"]
    assert dict(site.hidden) == {"draft.md": "draft", "unpublished.md": "published: false"}
    assert site.first_seen_now == site.posts


def test_a_future_post_is_hidden_until_its_time_comes(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"later.md": post("Later", date="2024-06-20T12:00:00+09:00")})
    before = load(config, NOW)  # 09:00 Seoul, three hours early
    assert before.posts == ()
    assert "future" in dict(before.hidden)["later.md"]
    assert load(config, NOW + timedelta(hours=3)).posts[0].title == "Later"


def test_future_cutoff_compares_instants_across_time_zones(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"utc.md": post("UTC", date="2024-06-20T00:30:00Z")})
    # 09:00 Seoul is 00:00 UTC: the post is 30 minutes in the future.
    assert load(config, NOW).posts == ()
    assert len(load(config, NOW + timedelta(minutes=30)).posts) == 1


def test_excerpt_is_the_summary_else_the_first_paragraph(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "ex.md": post("E", "<p>Body</p>", excerpt="'The <b>excerpt</b>.'"),
            "desc.md": post("D", "<p>Body</p>", description="Described"),
            "auto.md": post("A", "<h2>Lead</h2><p>Rest</p>"),
        },
    )
    posts = by_name(load(config))
    assert posts["ex.md"].summary == "The excerpt."
    assert posts["desc.md"].summary == "Described"
    assert posts["auto.md"].summary == "Lead"


def test_author_image_and_lang(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "a.md": post("A", author="Kim", image="pics/a.png", lang="ko"),
            "b.md": post("B", image="{path: /img/b.png}"),
        },
    )
    posts = by_name(load(config))
    assert posts["a.md"].author == "Kim"
    assert posts["a.md"].image == "https://example.org/a/pics/a.png"
    assert posts["a.md"].lang == "ko"
    assert posts["b.md"].author == "Editor"
    assert posts["b.md"].image == "https://example.org/img/b.png"
    assert posts["b.md"].lang is None


# dates ----------------------------------------------------------------------

NINE_THIRTY_SEOUL = datetime(2024, 6, 19, 9, 30, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-06-19T09:30:00+09:00", NINE_THIRTY_SEOUL),  # RFC 3339, a YAML timestamp
        ("'2024-06-19T00:30:00Z'", NINE_THIRTY_SEOUL),  # RFC 3339 as a string
        ("2024-06-19T00:30:00.250Z", NINE_THIRTY_SEOUL),  # fractions are dropped
        ("2024-06-19 09:30:00 +0900", NINE_THIRTY_SEOUL),  # Jekyll
        ("2024-06-19 01:30:00 +0100", NINE_THIRTY_SEOUL),
        ("2024-06-19 09:30 +0900", NINE_THIRTY_SEOUL),
        ("2024-06-19 09:30:00", NINE_THIRTY_SEOUL),  # naive: the site's zone
        ("'2024-06-19T09:30'", NINE_THIRTY_SEOUL),
        ("2024-06-19", datetime(2024, 6, 19, tzinfo=SEOUL)),  # a YAML date object
        ("'2024-06-19'", datetime(2024, 6, 19, tzinfo=SEOUL)),
    ],
)
def test_date_forms(tmp_path: Path, written: str, expected: datetime) -> None:
    config = make_site(tmp_path, {"d.md": post("D", date=written)})
    (only,) = load(config).posts
    assert only.published == expected
    assert only.published.utcoffset() is not None
    assert only.date_source is DateSource.FRONT_MATTER


def test_a_naive_time_is_read_in_the_configured_time_zone(tmp_path: Path) -> None:
    files = {"d.md": post("D", date="2024-06-19 09:30:00")}
    seoul = load(make_site(tmp_path / "seoul", files)).posts[0]
    utc = load(make_site(tmp_path / "utc", files, site={"timezone": "UTC"})).posts[0]
    assert utc.published - seoul.published == timedelta(hours=9)


def test_the_filename_prefix_dates_an_undated_post(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {"2024-05-01-hello.md": post("Hello"), "2024-05-02-dated.md": post("D", date="2024-01-01")},
    )
    posts = by_name(load(config))
    hello = posts["2024-05-01-hello.md"]
    assert hello.published == datetime(2024, 5, 1, tzinfo=SEOUL)
    assert hello.date_source is DateSource.FILENAME
    assert hello.slug == "hello"
    assert posts["2024-05-02-dated.md"].published == datetime(2024, 1, 1, tzinfo=SEOUL)


def test_first_seen_dates_persist_in_sqlite_across_builds(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"old.md": post("Old")})
    first = build(config, NOW)
    assert first.site.posts[0].published == NOW
    assert first.site.posts[0].date_source is DateSource.FIRST_SEEN

    (tmp_path / "content" / "new.md").write_text(post("New"), encoding="utf-8")
    later = NOW + timedelta(days=3, hours=5)
    posts = by_name(build(config, later).site)
    assert posts["old.md"].published == NOW
    assert posts["new.md"].published == later
    assert by_name(build(config, later + timedelta(days=30)).site)["new.md"].published == later

    with sqlite3.connect(config.state_db) as db:
        rows = dict(db.execute("SELECT source_name, first_seen FROM posts_seen").fetchall())
    assert {name: datetime.fromisoformat(seen) for name, seen in rows.items()} == {
        "old.md": NOW,
        "new.md": later,
    }


def test_first_seen_is_not_recorded_by_check_or_for_hidden_posts(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post("A"), "d.md": post("D", draft="true")})
    load_posts(config, NOW)
    assert not config.state_db.exists()
    build(config, NOW)
    (tmp_path / "content" / "d.md").write_text(post("D"), encoding="utf-8")
    later = NOW + timedelta(days=1)
    assert by_name(build(config, later).site)["d.md"].published == later


def test_updated_and_last_modified_at(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "u.md": post("U", date="2024-06-01", updated="2024-06-10T08:00:00+09:00"),
            "m.md": post("M", date="2024-06-01", last_modified_at="2024-06-11 08:00:00"),
            "n.md": post("N", date="2024-06-01"),
            "early.md": post("E", date="2024-06-01", updated="2024-05-01"),
        },
    )
    posts = by_name(load(config))
    assert posts["u.md"].updated == datetime(2024, 6, 10, 8, tzinfo=SEOUL)
    assert posts["m.md"].updated == datetime(2024, 6, 11, 8, tzinfo=SEOUL)
    assert posts["n.md"].updated == posts["n.md"].published
    assert posts["early.md"].updated == posts["early.md"].published  # never before published


def test_posts_are_newest_first(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "b.md": post("B", date="2024-06-02"),
            "a.md": post("A", date="2024-06-03"),
            "c.md": post("C", date="2024-06-01"),
        },
    )
    assert [p.title for p in load(config).posts] == ["A", "B", "C"]


# identity -------------------------------------------------------------------


def test_ids_are_tag_uris_from_the_authority_and_path(tmp_path: Path) -> None:
    config = make_site(
        tmp_path, {"news/first.md": post("First"), "한글.html": post("한글"), "x y.md": post("XY")}
    )
    ids = {p.source_name: p.id for p in load(config).posts}
    assert ids == {
        "news/first.md": "tag:example.org,2024:news/first",
        "한글.html": "tag:example.org,2024:%ED%95%9C%EA%B8%80",
        "x y.md": "tag:example.org,2024:x%20y",
    }


def test_the_front_matter_id_wins(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"p.md": post("P", id="urn:uuid:1b4e28ba-2fa1-11d2-883f")})
    assert load(config).posts[0].id == "urn:uuid:1b4e28ba-2fa1-11d2-883f"


@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "https://other.example.net/blog"},
        {"base_url": "http://example.org"},
        {"permalink": "/:year/:month/:slug.html"},
    ],
)
def test_moving_the_site_or_its_urls_changes_no_id(tmp_path: Path, change: dict[str, str]) -> None:
    files = {
        "a.md": post("A", date="2024-06-01"),
        "sub/b.html": post("B"),
        "c.md": post("C", id="tag:example.org,2024:kept"),
        "d.md": post("D", permalink="/special/"),
    }
    before = load(make_site(tmp_path / "before", files))
    after = load(make_site(tmp_path / "after", files, site=change))
    assert [p.url for p in before.posts] != [p.url for p in after.posts]
    assert {p.source_name: p.id for p in before.posts} == {p.source_name: p.id for p in after.posts}


def test_sample_site_ids_survive_http_to_https(site_dir: Path) -> None:
    config = load_config(site_dir / "config.toml")
    https_ids = [p.id for p in load(config).posts]
    toml = (site_dir / "config.toml").read_text(encoding="utf-8")
    toml = toml.replace('base_url = "https://', 'base_url = "http://')
    (site_dir / "config.toml").write_text(toml, encoding="utf-8")
    http = load(load_config(site_dir / "config.toml"))
    assert http.posts[0].url.startswith("http://news.example.org/")
    assert [p.id for p in http.posts] == https_ids
    assert len(https_ids) == 5


def test_two_posts_with_the_same_id_is_an_error_naming_both(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "one.md": post("One", id="tag:x.org,2024:same"),
            "two.md": post("Two", id="tag:x.org,2024:same"),
        },
    )
    (problem,) = problems_of(config)
    assert "one.md" in problem and "two.md" in problem and "tag:x.org,2024:same" in problem


def test_same_path_with_two_suffixes_clashes_on_id(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"p.md": post("P1", slug="p1"), "p.html": post("P2", slug="p2")})
    (problem,) = problems_of(config)
    assert "p.html" in problem and "p.md" in problem and "same id" in problem


def test_two_posts_at_the_same_url_is_an_error(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post("Same Title"), "b.md": post("Same Title")})
    (problem,) = problems_of(config)
    assert "b.md" in problem and "a.md" in problem and "same URL" in problem


# bad input ------------------------------------------------------------------


def test_undecodable_file_is_named_with_its_line(tmp_path: Path) -> None:
    raw = b"---\ntitle: ok\n---\n<p>caf\xe9</p>\n"
    config = make_site(tmp_path, {"latin1.html": raw})
    (problem,) = problems_of(config)
    assert problem.startswith("content/latin1.html:4: is not valid UTF-8")
    assert "UTF-8" in problem.split("|")[1]


@pytest.mark.parametrize(
    ("front", "line", "words"),
    [
        ("title: a\nfoo: [unclosed\n", 3, "on line 4, while parsing a flow sequence"),
        ("title: a\n\tindented: tab\n", 3, "not valid YAML"),
        ("title: 'open quote\nx: y\n", 2, "on line 4, while scanning a quoted scalar"),
        ("- a\n- list\n", 2, "key: value"),
        ("just a sentence\n", 2, "key: value"),
    ],
)
def test_bad_front_matter_is_named_with_file_and_line(
    tmp_path: Path, front: str, line: int, words: str
) -> None:
    config = make_site(tmp_path, {"bad.md": f"---\n{front}---\nbody\n"})
    (problem,) = problems_of(config)
    assert problem.startswith(f"content/bad.md:{line}: ")
    assert words in problem


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("  \n\n", "is empty"),
        ("\ufeff\r\n", "is empty"),
        ("<p>no front matter</p>\n", "has no front matter"),
        ("---\n---\nbody\n", "`title` is missing"),
        ("---\ntitle: ''\n---\nbody\n", "`title` is missing"),
        ("---\ndate: 2024-06-01\n---\nbody\n", "`title` is missing"),
        ("---\ntitle: t\ndate: next tuesday\n---\n", "`date`: cannot read 'next tuesday'"),
        ("---\ntitle: t\ndate: 2024-13-45\n---\n", "`date`: cannot read '2024-13-45'"),
        ("---\ntitle: t\ndate: 2024-02-30 10:00:00\n---\n", "cannot read '2024-02-30 10:00:00'"),
        ("---\ntitle: t\ndate: 2024-06-19T09:30:00+25:00\n---\n", "`date`: cannot read"),
        ("---\ntitle: t\ndate: 20240619\n---\n", "`date`: cannot read 20240619"),
        ("---\ntitle: t\nupdated: soon\n---\n", "`updated`: cannot read 'soon'"),
        ("---\ntitle: t\nid: not a uri\n---\n", "is not a URI"),
        ("---\ntitle: t\ndraft: maybe\n---\n", "`draft` must be true or false"),
        ("---\ntitle: t\ncategories: {a: 1}\n---\n", "`categories` must be a list"),
        ("---\ntitle: t\nimage: [1, 2]\n---\n", "`image` must be a URL"),
        ("---\ntitle: t\nlang: Korean language\n---\n", "is not a language tag"),
    ],
)
def test_each_bad_post_is_a_clear_error_naming_the_file(
    tmp_path: Path, text: str, words: str
) -> None:
    config = make_site(tmp_path, {"bad.md": text, "good.md": post("Good")})
    (problem,) = problems_of(config)
    assert problem.startswith("content/bad.md")
    assert words in problem
    assert problem.split("|")[1].strip(), "every problem carries a hint"


def test_impossible_yaml_dates_do_not_crash_the_loader(tmp_path: Path) -> None:
    # Regression: PyYAML raised a bare ValueError out of the front-matter parser.
    config = make_site(tmp_path, {"bad.md": "---\ntitle: t\nupdated: 2024-00-10\n---\n"})
    (problem,) = problems_of(config)
    assert "`updated`: cannot read '2024-00-10'" in problem


def test_the_filename_date_must_be_a_real_date(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"2024-02-30-nope.md": post("Nope")})
    (problem,) = problems_of(config)
    assert "'2024-02-30' is not a real date" in problem


def test_every_bad_file_is_reported_in_one_error(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "a-empty.md": "",
            "b-latin1.html": b"---\ntitle: caf\xe9\n---\n",
            "c-yaml.md": "---\ntitle: [\n---\n",
            "d-notitle.md": "---\ndate: 2024-06-01\n---\n",
            "e-date.md": "---\ntitle: t\ndate: yesterday\n---\n",
            "sub/f-dup.md": post("F", id="tag:x.org,2024:dup"),
            "sub/g-dup.md": post("G", id="tag:x.org,2024:dup"),
            "ok.md": post("Fine"),
        },
    )
    with pytest.raises(ContentError) as caught:
        load(config)
    error = caught.value
    assert error.message.endswith("6 problems")
    files = [p.where.split(":")[0] for p in error.problems]
    assert sorted(set(files)) == [
        "content/a-empty.md",
        "content/b-latin1.html",
        "content/c-yaml.md",
        "content/d-notitle.md",
        "content/e-date.md",
        "content/sub/g-dup.md",
    ]
    title_and_date = [p for p in error.problems if p.where == "content/e-date.md"]
    assert len(title_and_date) == 1


def test_a_missing_content_folder_is_an_error_with_a_hint(tmp_path: Path) -> None:
    config = make_site(tmp_path, {})
    (tmp_path / "content").rmdir()
    with pytest.raises(ContentError) as caught:
        load(config)
    assert "no content folder" in caught.value.message
    assert "[paths] content" in caught.value.hint


def test_now_must_be_timezone_aware(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"a.md": post("A")})
    with pytest.raises(ValueError, match="aware"):
        load(config, datetime(2024, 6, 20, 9, 0))  # noqa: DTZ001
