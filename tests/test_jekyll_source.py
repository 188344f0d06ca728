"""The Jekyll source (JekyllSource, through the calls a build makes), proven against real
Jekyll 4.3 builds of our fixture sites, every permalink style variant included."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from publisher.build.pipeline import load_posts
from publisher.core.config import Config
from publisher.core.errors import Problem
from publisher.render.titles import plain_title
from publisher.site_config import load_config
from publisher.sources.files import FileProblems
from publisher.sources.jekyll.dates import DateError, parse_ruby_time, read_date
from publisher.sources.jekyll.defaults import apply_defaults, defaults_for
from publisher.sources.jekyll.errors import JekyllInputError
from publisher.sources.jekyll.excerpts import cut_excerpt, excerpt_source
from publisher.sources.jekyll.front_matter import YamlTimestamp, load_yaml, split_front_matter
from publisher.sources.jekyll.parsing import post_file_for, read_text
from publisher.sources.jekyll.permalinks import absolute_url, escape_path, pattern_problem
from publisher.sources.jekyll.site_config import load_site_config
from publisher.sources.jekyll.slugs import slugify
from publisher.sources.jekyll.source import JekyllSource
from publisher.sources.records import ParsedPost
from tests.jekyll_peer import FIXTURES, JekyllBuild, JekyllPeer, normalise_space

NEW_YORK = ZoneInfo("America/New_York")
STYLE_VARIANTS = [
    "date",
    "pretty",
    "ordinal",
    "weekdate",
    "none",
    "placeholders",
    "underscores",
    "noext",
    "collection",
]


@dataclass(frozen=True)
class Ours:
    """A fixture site as JekyllSource reads it, each file through `parse`, as builds do."""

    source: JekyllSource
    parsed: dict[str, ParsedPost]
    """Source name → what parsing gave, for every post Jekyll publishes (and drafts when
    asked): hidden ones (unpublished) and ones dated after now are left out, as builds do."""
    config: Config


def ours_for(build: JekyllBuild, tmp_path: Path, *, drafts: bool = False) -> Ours:
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / build.name, site)
    merged = "\n".join(path.read_text(encoding="utf-8") for path in build.config_files)
    (site / "_config.yml").write_text(merged, encoding="utf-8")  # later keys win, as Jekyll's
    toml = tmp_path / "config.toml"
    toml.write_text(
        f'[source]\nkind = "jekyll"\npath = "site"\ndrafts = {str(drafts).lower()}\n',
        encoding="utf-8",
    )
    config = load_config(toml)
    source = JekyllSource(config)
    now = datetime.now(UTC)
    parsed: dict[str, ParsedPost] = {}
    for file in source.scan():
        problems: list[Problem] = []
        post = source.parse(Path(file.path).read_bytes(), file, FileProblems(str, problems))
        assert post is not None and problems == [], (file.name, problems)
        published = post.published is not None and (
            post.published <= now or source.publishes_future
        )
        if published and post.hidden in (None, "draft"):
            parsed[file.name] = post
    return Ours(source, parsed, config)


def field_differences(build: JekyllBuild, ours: Ours) -> list[str]:
    assert sorted(ours.parsed) == sorted(build.by_path), "same posts as Jekyll"
    site = ours.source.site
    differences = []
    for path, truth in build.by_path.items():
        post = ours.parsed[path]
        assert post.published is not None
        mine = {
            "url": post.url,
            "id": post.id,
            "date": post.published.isoformat(),
            "title": post.title,
            "categories": [category.name for category in post.categories],
            "tags": list(post.tags),
            "draft": post.hidden == "draft",
        }
        expected = {
            **truth,
            "url": absolute_url(site.url, site.baseurl, truth["url"]),
            "id": absolute_url(site.url, site.baseurl, truth["id"]),
            "title": plain_title(truth["title"]),  # as jekyll-feed shows it
        }
        for key, value in mine.items():
            if value != expected[key]:
                differences.append(f"{path} {key}: ours {value!r}, Jekyll {expected[key]!r}")
    return differences


def test_blog_posts_match_jekyll(jekyll_peer: JekyllPeer, tmp_path: Path) -> None:
    build = jekyll_peer.build("blog")
    ours = ours_for(build, tmp_path)
    assert len(ours.parsed) == 37
    assert field_differences(build, ours) == []


@pytest.mark.parametrize("variant", STYLE_VARIANTS)
def test_every_permalink_style_and_placeholder_matches_jekyll(
    jekyll_peer: JekyllPeer, tmp_path: Path, variant: str
) -> None:
    build = jekyll_peer.build("styles", variant=variant)
    assert field_differences(build, ours_for(build, tmp_path)) == []


def test_drafts_only_when_asked_and_match_jekyll(jekyll_peer: JekyllPeer, tmp_path: Path) -> None:
    without = jekyll_peer.build("blog")
    assert not any(p["draft"] for p in without.posts)
    assert not any(p.hidden == "draft" for p in ours_for(without, tmp_path / "a").parsed.values())
    build = jekyll_peer.build("blog", drafts=True)
    ours = ours_for(build, tmp_path / "b", drafts=True)
    assert sorted(p for p, post in ours.parsed.items() if post.hidden == "draft") == [
        "_drafts/a-draft.md",
        "_drafts/draft-without-date.md",
    ]
    assert field_differences(build, ours) == []


def test_jekyll_feed_links_and_ids_are_our_urls_and_ids(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    build = jekyll_peer.build("blog")
    ours = ours_for(build, tmp_path)
    entries = build.feeds["feed.xml"]
    assert len(entries) == len(ours.parsed)
    by_link = {e.link: e for e in entries}
    for post in ours.parsed.values():
        entry = by_link[str(post.url)]
        assert entry.id == post.id
        assert post.published is not None
        assert entry.published == post.published.isoformat()
        terms = [category.name for category in post.categories] + list(post.tags)
        assert sorted(entry.categories) == sorted(terms)
    assert sorted(build.feeds) == ["feed.xml", "feed/news.xml", "feed/release.xml"]
    assert ours.source.site.feed.categories == ("news", "release")


def test_defaults_author_image_and_last_modified_match_jekyll(
    jekyll_peer: JekyllPeer, tmp_path: Path
) -> None:
    build = jekyll_peer.build("blog")
    ours = ours_for(build, tmp_path)
    site = ours.source.site
    for path, truth in build.by_path.items():
        post = ours.parsed[path]
        text = (ours.source.root / path).read_text(encoding="utf-8")
        post_file = post_file_for(path)
        assert post_file is not None
        assert read_text(text, post_file, site).data.get("byline") == truth["byline"], path
        image = truth["image"]["path"] if isinstance(truth["image"], dict) else truth["image"]
        assert post.image == absolute_url(site.url, site.baseurl, image), path
        author = truth["author"]
        name = author.get("name") if isinstance(author, dict) else author
        assert post.author == (name or ours.config.site.author), path
        modified = post.updated.isoformat() if post.updated is not None else None
        assert modified == truth["last_modified_at"], path


def test_summaries_are_the_excerpts_jekyll_makes(jekyll_peer: JekyllPeer, tmp_path: Path) -> None:
    from lxml import html as lxml_html

    agreed = total = 0
    for index, name in enumerate(("blog", "kitchen")):
        build = jekyll_peer.build(name)
        ours = ours_for(build, tmp_path / str(index))
        config = ours.config
        loaded = load_posts(config, datetime.now(UTC))
        for post in loaded.posts:
            truth = build.by_path[post.source_name]
            if "description:" in (ours.source.root / post.source_name).read_text("utf-8"):
                continue  # jekyll-feed's summary is the description, not the excerpt
            expected = lxml_html.fromstring(f"<div>{truth['excerpt']}</div>").text_content()
            total += 1
            agreed += _loose(post.summary) == _loose(expected)
    assert total >= 50
    assert agreed / total >= 0.95, (agreed, total)


def _loose(text: str) -> str:
    """Words only: quotes and spacing aside, is the summary the same text?"""
    kept = "".join(c if c.isalnum() else " " for c in text)
    return normalise_space(kept)


def test_site_config_reads_every_field() -> None:
    config = load_site_config(FIXTURES / "blog")
    assert config.url == "https://blog.example.org"
    assert config.baseurl == "/notes"
    assert config.site_url == "https://blog.example.org/notes"
    assert config.author is not None and config.author.email == "ada@example.org"
    assert config.timezone == "America/New_York"
    assert config.posts_permalink == "/:categories/:year/:month/:day/:title:output_ext"
    assert "archive-old" in config.exclude and "node_modules" in config.exclude
    assert config.raw["repository"] == "example/notes"
    assert config.lang == "en-US"
    kitchen = load_site_config(FIXTURES / "kitchen")
    assert kitchen.feed.path == "atom.xml"
    assert kitchen.excerpt_separator == "<!--more-->"
    assert "txt" in kitchen.markdown_ext


def test_site_config_reports_every_problem_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "_config.yml").write_text(
        "title: ok\ntimezone: Mars/Olympus\nexclude: vendor\nauthor: [1, 2]\n", encoding="utf-8"
    )
    with pytest.raises(JekyllInputError) as caught:
        load_site_config(tmp_path)
    lines = sorted((p.line, p.message.split(":")[0]) for p in caught.value.problems)
    assert lines == [(2, "`timezone`"), (3, "`exclude`"), (4, "`author`")]
    assert all(p.file.endswith("_config.yml") for p in caught.value.problems)


def test_yaml_errors_name_the_line_and_bombs_are_refused() -> None:
    with pytest.raises(JekyllInputError) as caught:
        load_yaml("a: 1\nb: [unclosed\nc: 3\n", "post.md")
    assert caught.value.problems[0].file == "post.md"
    assert caught.value.problems[0].line >= 2
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 12)}]\n"
        for p, n in zip("abcdefghi", "bcdefghij", strict=True)
    )
    with pytest.raises(JekyllInputError, match="aliases"):
        load_yaml(bomb, "_config.yml")
    assert load_yaml("a: &x 1\nb: *x\n", "ok.yml") == {"a": 1, "b": 1}


def test_yaml_timestamps_keep_their_text_and_front_matter_eats_blank_lines() -> None:
    data = load_yaml("date: 2021-02-03 10:00:00\nday: 2021-02-03\n", "x")
    assert isinstance(data["date"], YamlTimestamp)
    assert data["date"] == "2021-02-03 10:00:00"
    front, body, line = split_front_matter("---\ntitle: x\n---\n\n\nText\n")
    assert front == "---\ntitle: x\n" and body == "Text\n" and line == 6
    assert split_front_matter("No front matter\n") == (None, "No front matter\n", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-02-04 10:00:00", "2021-02-04T10:00:00-05:00"),
        ("2021-02-07T04:05:06Z", "2021-02-06T23:05:06-05:00"),
        ("Feb 9, 2021 10:00 PM", "2021-02-09T22:00:00-05:00"),
        ("10 February 2021 7:15", "2021-02-10T07:15:00-05:00"),
        ("Fri, 12 Feb 2021 03:00:00 GMT", "2021-02-11T22:00:00-05:00"),
        ("2021-02-13 08:00 PST", "2021-02-13T11:00:00-05:00"),
        ("2021-02-14 01:00:00 +0530", "2021-02-13T14:30:00-05:00"),
        ("2019-03-10 02:30:00", "2019-03-10T03:30:00-04:00"),
        ("2020-11-01 01:30:00", "2020-11-01T01:30:00-05:00"),
    ],
)
def test_ruby_time_parse_shapes(text: str, expected: str) -> None:
    # The same values are in the blog fixture and checked against Jekyll above.
    assert parse_ruby_time(text, NEW_YORK).isoformat() == expected


def test_unreadable_dates_are_errors_and_yaml_timestamps_default_to_utc() -> None:
    with pytest.raises(DateError):
        parse_ruby_time("next tuesday-ish", NEW_YORK)
    with pytest.raises(DateError):
        parse_ruby_time("2021-02-30", NEW_YORK)
    stamp = read_date(YamlTimestamp("2021-02-03 10:00:00"), NEW_YORK)
    assert stamp.isoformat() == "2021-02-03T05:00:00-05:00"


def test_unknown_placeholders_are_problems_not_text() -> None:
    assert pattern_problem("/:year/:title/") is None
    assert pattern_problem("/:year_:month_:day/:title/") is None
    problem = pattern_problem("/:year/:titel/")
    assert problem is not None and ":titel" in problem


def test_escape_path_and_slugify_rules() -> None:
    assert escape_path("c++ & rust/big news") == "c++%20&%20rust/big%20news"
    assert escape_path("hash#tag") == "hash%23tag"
    assert escape_path("a?b") == "a?b"  # Addressable reads `?` as the query start
    assert slugify("The _config.yml file!", "pretty") == "the-_config.yml-file!"
    assert slugify("Ça va? Ünïcode", "latin") == "ca-va-unicode"
    assert slugify("Ça va? Ünïcode", "ascii") == "a-va-n-code"
    assert slugify("Keep It", "none") == "keep it"


def test_defaults_most_specific_scope_wins(tmp_path: Path) -> None:
    sets = [
        {"scope": {"path": ""}, "values": {"a": 1, "b": 1}},
        {"scope": {"path": "news", "type": "posts"}, "values": {"a": 2}},
        {"scope": {"path": "news"}, "values": {"a": 3, "c": 3}},
        {"scope": {"path": "", "type": "pages"}, "values": {"b": 9}},
    ]
    values = defaults_for(sets, "news/_posts/x.md", "posts", tmp_path)
    assert values == {"a": 2, "b": 1, "c": 3}
    merged = apply_defaults({"a": None, "categories": "x y"}, {"a": 5, "categories": ["w"]})
    assert merged == {"a": 5, "categories": ["w", "x", "y"]}


def test_excerpt_rules() -> None:
    assert cut_excerpt("One\ntwo.\n\nThree.", "\n\n") == "One\ntwo."
    assert cut_excerpt("{% if a %}x\n\ny{% endif %}", "\n\n") == "{% if a %}x\n{% endif %}"
    with_ref = cut_excerpt("See [it][r].\n\nMore.\n\n[r]: https://e.x/", "\n\n")
    assert with_ref == "See [it][r].\n\n[r]: https://e.x/"
    written = excerpt_source({"excerpt": "Hand *made*"}, "Body", "\n\n")
    assert written is not None and written.from_front_matter and written.text == "Hand *made*"
    assert excerpt_source({"excerpt_separator": ""}, "Body", "\n\n") is None
