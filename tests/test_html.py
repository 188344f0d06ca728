"""The syndication-safe HTML pass: absolute URLs, no scripts, well-formed, XML-safe."""

from __future__ import annotations

import frontmatter
import lxml.html
import pytest
from lxml import etree

from publisher.render.html import first_paragraph, plain_text, syndication_html
from publisher.render.text import plain_line, shorten, strip_xml_illegal
from tests.conftest import SAMPLE

PAGE = "https://news.example.org/posts/one/"
SAMPLE_004 = SAMPLE / "content" / "004_5bc091069e92d6b7.txt"


def parse_as_xml(html: str) -> etree._Element:
    """Strict XML parsing: raises on unbalanced tags, `<img>` without `/>` or `&nbsp;`."""
    return etree.fromstring(f"<div>{html}</div>")


def urls_in(html: str) -> list[str]:
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    found = []
    for element in root.iter():
        for attribute in ("href", "src", "poster", "cite"):
            if element.get(attribute) is not None:
                found.append(element.get(attribute))
        if element.get("srcset"):
            found.extend(part.split()[0] for part in element.get("srcset").split(","))
    return found


def sample_004_body() -> str:
    return str(frontmatter.loads(SAMPLE_004.read_text(encoding="utf-8")).content)


def test_sample_004_relative_image_becomes_absolute_against_base_url() -> None:
    body = sample_004_body()
    assert '<img src="/assets/img/newsdao_breakingnews.jpg"' in body  # the seed really is relative
    html = syndication_html(body, "https://news.example.org/004-5bc091069e92d6b7/")
    assert 'src="https://news.example.org/assets/img/newsdao_breakingnews.jpg"' in html
    assert all(url.startswith("https://") for url in urls_in(html))


def test_sample_004_unbalanced_tags_are_repaired_into_well_formed_markup() -> None:
    body = sample_004_body()
    assert body.count("<p") != body.count("</p>")  # the seed really is malformed
    with pytest.raises(etree.XMLSyntaxError):
        parse_as_xml(body)
    html = syndication_html(body, "https://news.example.org/004-5bc091069e92d6b7/")
    root = parse_as_xml(html)
    assert root.findall(".//table/tbody/tr")
    assert "&nbsp;" not in html
    assert "전략적 파트너십" in "".join(root.itertext())


@pytest.mark.parametrize(
    ("attribute_html", "expected"),
    [
        ('<a href="page/2">x</a>', 'href="https://news.example.org/posts/one/page/2"'),
        ('<a href="/about">x</a>', 'href="https://news.example.org/about"'),
        ('<a href="../up">x</a>', 'href="https://news.example.org/posts/up"'),
        ('<a href="#notes">x</a>', 'href="https://news.example.org/posts/one/#notes"'),
        ('<a href="//cdn.example.net/a">x</a>', 'href="https://cdn.example.net/a"'),
        ('<img src=" pic.png ">', 'src="https://news.example.org/posts/one/pic.png"'),
        (
            '<video poster="p.jpg" src="v.mp4"></video>',
            'poster="https://news.example.org/posts/one/p.jpg"',
        ),
        (
            '<img srcset="a.png 1x, /b.png 2x">',
            'srcset="https://news.example.org/posts/one/a.png 1x, '
            'https://news.example.org/b.png 2x"',
        ),
        ('<blockquote cite="/src">q</blockquote>', 'cite="https://news.example.org/src"'),
        ('<a href="mailto:ed@example.org">m</a>', 'href="mailto:ed@example.org"'),
    ],
)
def test_every_url_attribute_is_made_absolute(attribute_html: str, expected: str) -> None:
    assert expected in syndication_html(attribute_html, PAGE)


def test_scripts_event_handlers_and_javascript_urls_are_removed() -> None:
    dirty = (
        '<p onclick="steal()" onmouseover="steal()">Hi</p>'
        "<script>alert(1)</script><SCRIPT src='x.js'></SCRIPT>"
        '<img src="a.png" onerror="steal()">'
        '<a href="javascript:alert(1)">a</a><a href=" JaVaScRiPt:alert(1)">b</a>'
        '<a href="java&#09;script:alert(1)">c</a><a href="vbscript:x">d</a>'
        '<iframe src="https://evil.example"></iframe><style>p{}</style>'
        '<svg onload="steal()"><circle/></svg><form action="/x"><input></form>'
    )
    html = syndication_html(dirty, PAGE)
    lowered = html.lower()
    for banned in ("<script", "alert", "steal", " on", "javascript", "vbscript", "<iframe"):
        assert banned not in lowered, banned
    assert "<style" not in lowered and "<form" not in lowered
    assert "Hi" in html and 'src="https://news.example.org/posts/one/a.png"' in html


def test_javascript_urls_are_removed_from_srcset_cite_and_poster_too() -> None:
    # Regression: ammonia only checks href/src schemes, so these slipped through.
    html = syndication_html(
        '<img srcset="javascript:alert(1) 1x, ok.png 2x">'
        '<img srcset="javascript:alert(2) 1x">'
        '<blockquote cite="javascript:alert(3)">q</blockquote>'
        '<video poster="javascript:alert(4)"></video>',
        PAGE,
    )
    assert "javascript" not in html.lower()
    assert 'srcset="https://news.example.org/posts/one/ok.png 2x"' in html
    assert "<blockquote>q</blockquote>" in html


def test_output_is_both_html_and_xml_compatible() -> None:
    html = syndication_html("<p>a&nbsp;b<br>c</p><p></p><table><tr><td></td></tr></table>", PAGE)
    parse_as_xml(html)
    assert "<br/>" in html
    assert "<p></p>" in html and "<td></td>" in html  # never `<p/>`, which HTML reads as open
    assert "a\u00a0b" in html


def test_characters_illegal_in_xml_are_stripped() -> None:
    html = syndication_html("<p>a\x00b\x01c\x0bd\ufffee\U0001f600</p>", PAGE)
    assert html == "<p>abcde\U0001f600</p>"
    assert strip_xml_illegal("tab\tnew\nline\r ok\x1f") == "tab\tnew\nline\r ok"


def test_empty_body_gives_empty_html() -> None:
    assert syndication_html("", PAGE) == ""
    assert syndication_html("   \n", PAGE) == ""


def test_comments_are_dropped_and_text_is_kept() -> None:
    html = syndication_html("before <!-- secret --> after & <b>bold</b>", PAGE)
    assert html == "before  after &amp; <b>bold</b>"


def test_plain_line_is_one_clean_line() -> None:
    assert plain_line("  Two\n lines\tand\x07 a bell ") == "Two lines and a bell"


def test_plain_text_and_first_paragraph_follow_blocks() -> None:
    html = "<h2>Title</h2><p>First <b>para</b>.</p><ul><li>one</li><li>two</li></ul>"
    assert plain_text(html) == "Title\n\nFirst para.\n\none\n\ntwo"
    assert first_paragraph(html) == "Title"
    assert first_paragraph("") == ""


def test_shorten_cuts_at_a_word_and_marks_the_cut() -> None:
    assert shorten("short", 10) == "short"
    assert shorten("one two three four", 12) == "one two…"
    assert len(shorten("가" * 500, 280)) == 280
