"""Goldmark-like Markdown: every fixture page's HTML against the real Hugo's (canonical form:
attribute order, entities and whitespace aside; code blocks compared by language and text),
then each feature on its own.

Deliberate differences, one line each:
- fenced code: `<pre><code class="language-x">`, not Chroma's coloured spans (same text);
- typographer output: characters (’ “ – …), where Goldmark writes entities (same text).
"""

from __future__ import annotations

import pytest

from publisher.render.attributes import parse_attributes
from publisher.render.goldmark import (
    RAW_HTML_OMITTED,
    GoldmarkOptions,
    HeadingIds,
    heading_id,
    render_goldmark,
)
from tests.hugo_html import canonical_blocks, canonical_html
from tests.hugo_ours import our_page, our_site
from tests.hugo_peer import ALL_PAGES, SITES, HugoBuilds

SHORTCODE_PAGES = {("blog", "posts/shortcodes.md")}
"""Compared block by block in test_hugo_shortcodes.py (tweet, gist and site shortcodes differ)."""


def test_every_page_renders_as_hugo_renders_it(hugo_builds: HugoBuilds) -> None:
    equal, differing = 0, []
    for site in SITES:
        hugo = hugo_builds.get(site, *ALL_PAGES)
        ours = our_site(hugo)
        for lang in hugo.dumps:
            for theirs in hugo.pages(lang):
                if (site, theirs["file"]["path"]) in SHORTCODE_PAGES:
                    continue
                page = our_page(ours, lang, theirs["file"]["path"])
                if canonical_blocks(page.content_html) == canonical_blocks(theirs["content"]):
                    equal += 1
                else:
                    differing.append(theirs["file"]["path"])
    print(f"goldmark: {equal}/{equal + len(differing)} pages render to Hugo's HTML")
    assert differing == []
    assert equal > 40


def test_the_markdown_tour_uses_every_feature(hugo_builds: HugoBuilds) -> None:
    hugo = hugo_builds.get("blog")
    html = our_page(our_site(hugo), "en", "posts/markdown-tour.md").content_html
    for needle in (
        "<table>",
        "<del>wrong</del>",
        'class="footnote-ref"',
        "<dl>",
        "\u201cQuotes\u201d",
        "\u2013 short and \u2014 long",
        "\u00ablike this\u00bb",
        'id="repeated-heading-1"',
        'id="한국어-제목"',
        'class="section-title"',
        'type="checkbox"',
        RAW_HTML_OMITTED,
        'href="https://www.example.com"',
    ):
        assert needle in html, needle
    assert canonical_html(html) == canonical_html(hugo.page("posts/markdown-tour.md")["content"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Héllo Wörld & *em* [link](http://x.org)", "héllo-wörld--em-linkhttpxorg"),
        ("한국어 제목", "한국어-제목"),
        ('Code `span` and "quotes"', "code-span-and-quotes"),
        ("snake_case-and-dash", "snake_case-and-dash"),
        ("  padded  ", "padded"),
        ("!!!", ""),
    ],
)
def test_heading_ids_are_githubs(text: str, expected: str) -> None:
    assert heading_id(text) == expected


def test_heading_ids_are_unique_per_document_and_explicit_ids_count() -> None:
    ids = HeadingIds()
    ids.put("intro")
    assert [ids.generate(t) for t in ("Intro", "Intro", "", "")] == [
        "intro-1",
        "intro-2",
        "heading",
        "heading-1",
    ]
    html = render_goldmark("## x {#dup}\n\n## x {#dup}\n\n## dup\n\n## Ascii é\n")
    assert html.count('id="dup"') == 2 and 'id="dup-1"' in html
    ascii_only = render_goldmark("## Ascii é ü\n", GoldmarkOptions(ascii_heading_ids=True))
    assert 'id="ascii-e-u"' in ascii_only


def test_heading_attributes() -> None:
    assert parse_attributes('#top .a .b data-x="1 2" k=v').pairs == [
        ("id", "top"),
        ("class", "a b"),
        ("data-x", "1 2"),
        ("k", "v"),
    ]
    html = render_goldmark("# Title {#top .big}\n\nPara\n{.not-applied}\n")
    assert '<h1 id="top" class="big">Title</h1>' in html
    assert "{.not-applied}" in html
    off = render_goldmark("# Title {#top}\n", GoldmarkOptions(heading_attributes=False))
    assert "{#top}" in off


def test_footnotes_use_goldmarks_markup() -> None:
    html = render_goldmark("A[^1] and B[^1].\n\n[^1]: Note.\n")
    assert (
        '<sup id="fnref:1"><a href="#fn:1" class="footnote-ref" role="doc-noteref">1</a></sup>'
        in html
    )
    assert '<sup id="fnref1:1">' in html
    assert '<div class="footnotes" role="doc-endnotes">\n<hr>\n<ol>\n<li id="fn:1">' in html
    assert html.count('class="footnote-backref"') == 2


def test_raw_html_is_omitted_unless_unsafe() -> None:
    source = "<div>block</div>\n\nInline <b>bold</b>.\n"
    assert render_goldmark(source).count(RAW_HTML_OMITTED) == 3
    unsafe = render_goldmark(source, GoldmarkOptions(unsafe=True))
    assert "<div>block</div>" in unsafe and "<b>bold</b>" in unsafe


def test_linkify_links_www_scheme_and_mail_only() -> None:
    html = render_goldmark("www.a.org, https://b.org/x, c@d.org, and e.org stay.\n")
    assert '<a href="https://www.a.org">www.a.org</a>' in html
    assert '<a href="https://b.org/x">https://b.org/x</a>' in html
    assert '<a href="mailto:c@d.org">c@d.org</a>' in html
    assert "e.org stay" in html and 'href="http://e.org"' not in html
    off = render_goldmark("www.a.org\n", GoldmarkOptions(linkify=False))
    assert "<a" not in off


def test_typographer_and_its_switch() -> None:
    assert render_goldmark('"a" -- b --- c... <<d>>\n') == (
        "<p>\u201ca\u201d \u2013 b \u2014 c\u2026 \u00abd\u00bb</p>\n"
    )
    plain = render_goldmark('"a" -- b...\n', GoldmarkOptions(typographer=False))
    assert plain == "<p>&quot;a&quot; -- b...</p>\n"
    assert render_goldmark("`a -- b`\n") == "<p><code>a -- b</code></p>\n"


def test_options_from_hugo_config() -> None:
    options = GoldmarkOptions.from_hugo(
        {
            "renderer": {"unsafe": True, "hardwraps": True},
            "extensions": {"typographer": {"disable": True}, "linkify": False},
            "parser": {"autoheadingidtype": "github-ascii", "attribute": {"title": False}},
        }
    )
    assert options.unsafe and options.hard_wraps
    assert not options.typographer and not options.linkify
    assert options.ascii_heading_ids and not options.heading_attributes
    assert GoldmarkOptions.from_hugo({}) == GoldmarkOptions()


def test_documents_are_bounded() -> None:
    with pytest.raises(ValueError, match="larger than"):
        render_goldmark("a" * 2_000_001)
