"""Our kramdown-style Markdown next to real Jekyll's kramdown output of the fixture posts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from publisher.render.kramdown import gfm_heading_id, render_kramdown
from publisher.render.typography import smartify
from publisher.sources.jekyll.front_matter import split_front_matter
from tests.jekyll_peer import JekyllBuild, JekyllPeer, canonical_html

# Deliberate differences, one line each:
# - `<<text>>` is read as an HTML tag by markdown-it; kramdown makes guillemets of it.
KNOWN_DIFFERENCES = {"_posts/2022-01-18-smart-quotes.md"}


def markdown_posts(build: JekyllBuild, names: list[str]) -> Iterator[tuple[str, str, str]]:
    for path, truth in build.by_path.items():
        text = (build.source / path).read_text(encoding="utf-8")
        body = split_front_matter(text)[1]
        if path.endswith((".md", ".markdown")) and "{{" not in body and "{%" not in body:
            names.append(path)
            yield path, body, truth["content"]


def test_markdown_posts_render_like_jekyll(jekyll_peer: JekyllPeer) -> None:
    names: list[str] = []
    differing = []
    for site in ("blog", "kitchen"):
        build = jekyll_peer.build(site)
        for path, body, expected in markdown_posts(build, names):
            if canonical_html(render_kramdown(body)) != canonical_html(expected):
                differing.append(path)
    assert len(names) >= 40
    assert sorted(differing) == sorted(KNOWN_DIFFERENCES)


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("A claim[^1].\n\n[^1]: Note.\n", '<div class="footnotes" role="doc-endnotes">'),
        ("Term\n: Meaning.\n", "<dt>Term</dt>"),
        ("Para.\n{: .notice--info}\n", '<p class="notice--info">Para.</p>'),
        ("Para.\n{:#here}\n", '<p id="here">Para.</p>'),
        ("<div>\n  <p>a</p>\n\n    <span>b</span>\n</div>\n", "    <span>b</span>\n</div>"),
        ("## Hello *World*!\n", '<h2 id="hello-world">'),
        ("* TOC\n{:toc}\n\n## A\n", '<li><a href="#a" id="markdown-toc-a">A</a></li>'),
        ("{: .lead}\nPara.\n", '<p class="lead">Para.</p>'),
        ("A *b*{: .x} c.\n", '<em class="x">b</em>'),
        ("a | b\n--|--\n1 | 2\n{: .t}\n", '<table class="t">'),
        ("X {::nomarkdown}<b>*y*</b>{:/} z.\n", "<b>*y*</b>"),
        ('X {::comment}secret{:/comment} z.\n{::options a="b" /}\n', "<p>X  z.</p>"),
    ],
)
def test_kramdown_features(source: str, needle: str) -> None:
    html = render_kramdown(source)
    assert needle in html
    assert "{:" not in html and "secret" not in html and "<td></td>" not in html


def test_gfm_heading_ids_number_duplicates() -> None:
    from collections import Counter

    seen: Counter[str] = Counter()
    assert [gfm_heading_id("Same", seen) for _ in range(3)] == ["same", "same-1", "same-2"]


def test_smartify_matches_jekyll_titles(jekyll_peer: JekyllPeer) -> None:
    build = jekyll_peer.build("blog")
    titles = {entry.link: entry.title for entry in build.feeds["feed.xml"]}
    from lxml import html as lxml_html

    compared = 0
    for truth in build.posts:
        link = next(k for k in titles if k.endswith(truth["url"]))
        # jekyll-feed: title | smartify | strip_html | normalize_whitespace | xml_escape
        ours = lxml_html.fromstring(f"<p>{smartify(truth['title'])}</p>").text_content()
        expected = lxml_html.fromstring(f"<p>{titles[link]}</p>").text_content()
        assert " ".join(ours.split()) == " ".join(expected.split()), truth["path"]
        compared += 1
    assert compared == len(build.posts)
