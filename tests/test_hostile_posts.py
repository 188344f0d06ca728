"""Posts written to hurt (issue 12, items 1, 2 and 7): bounded parsing and one URL policy.

Every post here is one a careless or hostile author could commit to a site with many
authors. Each is either refused with a clear problem naming the file (and line), or
published whole; never a crash, a silent loss, or a `javascript:` URL in the output.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import feedparser
import lxml.html
import pytest
from lxml import etree

from publisher.build.pipeline import build
from publisher.core.config import Config, FeedsConfig
from publisher.core.errors import ContentError, Problem
from publisher.core.models import Category, DateSource, Post
from publisher.newsletter.digest import render_digest
from publisher.outputs import FEED_FORMATS
from publisher.outputs.feeds import feed_specs
from publisher.outputs.index_page import index_page
from publisher.render.html import MAX_HTML_DEPTH, syndication_html
from publisher.site_config import load_config
from publisher.sources.files import FileProblems
from publisher.sources.frontmatter import split
from publisher.sources.hugo.frontmatter import split_front_matter as hugo_split
from publisher.sources.jekyll.errors import JekyllInputError
from publisher.sources.jekyll.front_matter import load_yaml as jekyll_yaml
from publisher.sources.yaml_loader import MAX_YAML_CHARS
from tests.conftest import NOW
from tests.test_content import make_site, post, problems_of

ROOT = Path(__file__).resolve().parent.parent


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """Nested anchors, each level `width` aliases of the one before: width**levels values."""
    lines = ["a: &a [" + ",".join(['"lol"'] * width) + "]"]
    names = "abcdefghijklmnopqrstuvwxyz"
    for level in range(1, levels):
        lines.append(
            f"{names[level]}: &{names[level]} [" + ",".join([f"*{names[level - 1]}"] * width) + "]"
        )
    return "\n".join(lines) + "\n"


def add_config(config: Config, text: str) -> Config:
    with config.file.open("a", encoding="utf-8") as file:
        file.write(text)
    return load_config(config.file)


# ------------------------------------------------------------------- item 1: alias bombs


def test_an_alias_bomb_post_is_refused_in_bounded_memory_and_time(tmp_path: Path) -> None:
    """Reproduces item 1: a 399-byte front matter of nested aliases ran `build` out of memory
    (MemoryError after 21 s at a 2 GB cap) because copying the front matter expanded it. Here
    the build runs under a 1 GiB address-space cap and a 60 s timeout, and must end with a
    problem naming the file and the line, not a traceback."""
    bomb = "title: Boom\n" + alias_bomb()
    assert len(bomb) < 400
    make_site(tmp_path, {"bomb.md": f"---\n{bomb}---\nBody.\n", "fine.md": post("Fine")})
    script = textwrap.dedent(
        """
        import resource, sys
        cap = 1 << 30
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        from publisher.cli import main
        sys.argv = ["publisher", "--config", sys.argv[1], "--now", sys.argv[2], "build"]
        main()
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "config.toml"), NOW.isoformat()],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert completed.returncode == 1, completed.stderr
    assert "Traceback" not in completed.stderr and "MemoryError" not in completed.stderr
    assert "content/bomb.md:8: front matter refused" in completed.stderr, completed.stderr
    assert "aliases" in completed.stderr
    assert not (tmp_path / "public").exists()  # nothing half-written


def test_every_source_kind_refuses_the_same_bomb_with_its_line() -> None:
    """Reproduces item 1 for the Jekyll loader, which counted aliases (81 here, under its
    limit of 100) instead of the values they expand to, and shows the Hugo loader agrees."""
    bomb = alias_bomb()
    sink: list[Problem] = []
    assert split(f"---\n{bomb}---\nBody\n", FileProblems(lambda: "p.md", sink)) is None
    assert "too large once its aliases" in str(sink[0])
    with pytest.raises(JekyllInputError, match="too large once its aliases") as jekyll:
        jekyll_yaml(bomb, "_posts/p.md")
    assert jekyll.value.problems[0].line == 6  # f: the level where it passes 100,000 values
    with pytest.raises(ContentError, match="too large once its aliases"):
        hugo_split(f"---\n{bomb}---\nBody\n", "content/p.md")


def test_yaml_nested_thousands_deep_is_refused_not_a_recursion_crash() -> None:
    """Reproduces a crash next to item 1: PyYAML's pure-Python composer (Jekyll, Hugo), and
    the JSON and TOML parsers of Hugo front matter, recursed once per `[` and died with a
    RecursionError traceback on a deep enough list."""
    deep = "a: " + "[" * 10_000 + "]" * 10_000 + "\n"
    with pytest.raises(ContentError, match="nested deeper than 64"):
        hugo_split(f"---\n{deep}---\nBody\n", "content/p.md")
    with pytest.raises(JekyllInputError, match="nested deeper than 64"):
        jekyll_yaml(deep, "_posts/p.md")
    # Hugo's other front matter formats: JSON and TOML parsers recurse too
    json_deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}\nBody\n"
    with pytest.raises(ContentError, match="nested too deeply"):
        hugo_split(json_deep, "content/j.md")
    toml_deep = "+++\na = " + "[" * 100_000 + "]" * 100_000 + "\n+++\nBody\n"
    with pytest.raises(ContentError, match="nested too deeply"):
        hugo_split(toml_deep, "content/t.md")


def test_front_matter_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    """Reproduces item 1's missing cap: front matter of any length was parsed."""
    huge = "title: Long\nnote: '" + "x" * MAX_YAML_CHARS + "'\n"
    config = make_site(tmp_path, {"long.md": f"---\n{huge}---\nBody\n"})
    (problem,) = problems_of(config)
    assert problem.startswith("content/long.md:1: front matter refused: it is 1,048,")
    assert "characters long" in problem and "move long text into the post's body" in problem


def test_a_post_over_the_size_limit_is_a_clear_error_and_the_limit_is_configurable(
    tmp_path: Path,
) -> None:
    """Reproduces item 7's unbounded reads: any post file was read whole, however big.
    The default limit is 5 MB; a site sets its own with [source] max_post_bytes."""
    config = make_site(tmp_path, {"big.html": post("Big", "<p>" + "words " * 400 + "</p>")})
    assert config.source.max_post_bytes == 5_000_000
    config = add_config(config, "[source]\nmax_post_bytes = 1000\n")
    (problem,) = problems_of(config)
    assert problem.startswith("content/big.html: is 0.0 MB; posts may be at most 0.0 MB")
    assert "[source] max_post_bytes" in problem


# ------------------------------------------------------------------- item 7: deep and huge HTML


def nested(levels: int, tail: str = "<p>after the nesting</p>") -> str:
    return "<div>" * levels + "deep" + "</div>" * levels + tail


def test_html_nested_deeper_than_readers_parse_is_an_error_naming_the_file(
    tmp_path: Path,
) -> None:
    """Reproduces item 7: a body nested 300 levels deep lost everything after the nesting in
    the feeds and the email, and the build said nothing."""
    config = make_site(
        tmp_path,
        {"deep.html": post("Deep", nested(300)), "fine.html": post("Fine")},
    )
    (problem,) = problems_of(config)
    assert problem.startswith(
        f"content/deep.html: its HTML nests elements more than {MAX_HTML_DEPTH} levels deep"
    )
    assert "flatten the nested tags" in problem


def test_html_nested_within_the_limit_arrives_whole_in_every_feed(tmp_path: Path) -> None:
    config = make_site(tmp_path, {"deep.html": post("Deep", nested(MAX_HTML_DEPTH - 1))})
    build(config, NOW)
    public = tmp_path / "public"
    for name in ("feed.atom", "feed.rss", "feed.json"):
        assert "after the nesting" in (public / name).read_text(encoding="utf-8"), name


def test_a_post_of_more_than_ten_megabytes_of_text_is_published_whole(config: Config) -> None:
    """Reproduces item 7: a text node over 10 MB crashed `build` with an lxml traceback
    (libxml2's "huge text node" limit) while the feeds were written. The post size limit
    now keeps such posts out by default; a site that raises it still gets them whole."""
    words = "word " * 2_100_000  # 10.5 MB in one paragraph
    html = syndication_html(f"<p>{words}THE-END</p>", "https://example.org/huge/")
    assert html.endswith("THE-END</p>") and len(html) > 10_500_000
    post = dataclasses.replace(hostile_post(config), image=None, content_html=html)
    spec = feed_specs(dataclasses.replace(config, feeds=FeedsConfig(categories=False)), [post])
    atom = FEED_FORMATS["atom"].render(config, spec[0])
    entry = etree.fromstring(atom, etree.XMLParser(huge_tree=True))
    content = entry.find(".//{http://www.w3.org/2005/Atom}content")
    assert content is not None and content.text == html
    rss = etree.fromstring(
        FEED_FORMATS["rss"].render(config, spec[0]), etree.XMLParser(huge_tree=True)
    )
    assert rss.findtext("channel/item/description") == post.summary
    item = json.loads(FEED_FORMATS["json"].render(config, spec[0]))["items"][0]
    assert item["content_html"] == html


# ------------------------------------------------------------------- item 2: one URL policy

UNSAFE_IMAGES = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.domain)",
    "data:image/svg+xml;base64,PHN2Zz48c2NyaXB0PmFsZXJ0KDEpPC9zY3JpcHQ+PC9zdmc+",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("image", UNSAFE_IMAGES)
def test_an_unsafe_image_url_is_a_problem_naming_the_post(tmp_path: Path, image: str) -> None:
    """Reproduces item 2: `image: "javascript:alert(1)"` (or a data: URL) went unchanged into
    Atom and RSS media:content and media:thumbnail and JSON Feed `image`."""
    config = make_site(tmp_path, {"pic.md": post("Pic", image=json.dumps(image))})
    (problem,) = problems_of(config)
    assert problem.startswith("content/pic.md: `image` ")
    assert "is not an http(s) URL or a path on the site" in problem


def test_site_paths_and_https_images_still_publish_absolute(tmp_path: Path) -> None:
    config = make_site(
        tmp_path,
        {
            "a.md": post("A", image="/img/a.png", date="2024-06-01"),
            "b.md": post("B", image="https://cdn.example.net/b.png", date="2024-06-02"),
        },
    )
    build(config, NOW)
    feed = feedparser.parse((tmp_path / "public" / "feed.atom").read_bytes())
    images = sorted(entry.media_thumbnail[0]["url"] for entry in feed.entries)
    assert images == ["https://cdn.example.net/b.png", "https://example.org/img/a.png"]


def hostile_post(config: Config) -> Post:
    """A Post as a source that skipped the checks might hand over."""
    return Post(
        source=config.paths.content / "x.md",
        source_name="x.md",
        id="tag:example.org,2024:x",
        title="X",
        url="https://example.org/x/",
        slug="x",
        published=datetime(2024, 6, 1, tzinfo=NOW.tzinfo),
        updated=datetime(2024, 6, 1, tzinfo=NOW.tzinfo),
        date_source=DateSource.FRONT_MATTER,
        categories=(Category("News", "news"),),
        tags=(),
        author="A",
        summary="Summary",
        content_html='<p><a href="https://example.org/ok">ok</a></p>',
        image="javascript:alert(1)",
        lang=None,
    )


def test_every_output_drops_an_unsafe_image_even_from_an_unchecked_post(
    tmp_path: Path, config: Config
) -> None:
    """Reproduces item 2 at the other end: each writer emitted `post.image` as it was.
    Atom, RSS, JSON Feed, the index page and the digest each apply the URL policy."""
    posts = [hostile_post(config)]
    for spec in feed_specs(config, posts):
        for fmt in config.feeds.formats:
            data = FEED_FORMATS[fmt].render(config, spec)
            assert b"javascript:" not in data, fmt
            assert b"https://example.org/x/" in data, fmt
    assert b"javascript:" not in index_page(config, posts, feed_specs(config, posts))
    digest = render_digest(config, posts, now=NOW)
    assert "javascript:" not in digest.html and "javascript:" not in digest.text
    assert "https://example.org/x/" in digest.html


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "vbscript:x",
    ],
)
def test_body_links_and_images_follow_the_same_policy(link: str) -> None:
    html = syndication_html(
        f'<p><a href="{link}">a</a><img src="{link}" alt="i"><a href="/rel">r</a>'
        '<a href="mailto:editor@example.org">m</a></p>',
        "https://example.org/posts/x/",
    )
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    urls = root.xpath("//@href | //@src")
    assert urls == ["https://example.org/rel", "mailto:editor@example.org"]
