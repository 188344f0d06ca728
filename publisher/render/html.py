"""The one syndication-safe HTML pass, shared by feeds and email.

nh3 (html5ever + ammonia) parses like a browser, which repairs malformed
markup, and keeps only an allow-list of tags and attributes, which removes
scripts, `on*` handlers and `javascript:` URLs. Every URL attribute is made
absolute on the way through and checked against the one URL policy
(publisher/core/url_policy.py).

lxml then writes the markup as XML. It parses with libxml2's "huge" option, so a
text of more than 10 MB is kept whole; a body nested deeper than MAX_HTML_DEPTH
is refused (`HtmlTooDeep`), because libxml2 without that option (lxml, premailer
and many feed readers) silently drops everything after 255 levels.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urljoin

import lxml.html
import nh3
from lxml import etree

from publisher.core.errors import UnrenderableContent
from publisher.core.url_policy import LINK_SCHEMES, allowed_url
from publisher.render.text import plain_line, strip_xml_illegal

URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite", "action"})
SAFE_SCHEMES = LINK_SCHEMES
MAX_HTML_DEPTH = 200
"""Deepest element nesting of a post's body: well below the 255 levels at which libxml2
without its "huge" option (lxml's default, premailer, many feed readers) stops reading."""

_TOO_DEEP = "boolean(" + "/".join(["*"] * (MAX_HTML_DEPTH + 1)) + ")"
_PER_THREAD = threading.local()  # lxml parsers and XPath objects are not shared by threads

_EXTRA_TAGS = {"video", "audio", "source", "picture", "figcaption", "figure", "tfoot"}
_EXTRA_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"title", "lang", "dir"},
    "a": {"href", "hreflang", "title"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "loading"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "srcset", "sizes", "type", "media"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
}
_EXTRA_ATTRIBUTES.update(
    {tag: {"id"} for tag in ("h1", "h2", "h3", "h4", "h5", "h6", "sup", "li")}
)  # heading anchors and footnotes (their links point at the site's page: see rewrite)
_EXTRA_ATTRIBUTES["code"] = {"class"}  # only `language-…`, which readers highlight by
ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS | _EXTRA_TAGS)
ALLOWED_ATTRIBUTES = {
    tag: set(nh3.ALLOWED_ATTRIBUTES.get(tag, set())) | _EXTRA_ATTRIBUTES.get(tag, set())
    for tag in set(nh3.ALLOWED_ATTRIBUTES) | set(_EXTRA_ATTRIBUTES)
}

_SAFE_ID = re.compile(r"[\w.:-]{1,200}")
_LANGUAGE_CLASS = re.compile(r"language-[\w+#.-]{1,40}")
_INPUT = re.compile(r"<input\b[^>]*>[ \t]?", re.I)
_CHECKBOX = re.compile(r"""\btype\s*=\s*["']?checkbox\b""", re.I)
_CHECKED = re.compile(r"\schecked(?=[\s=/>])", re.I)
CHECKED_BOX, EMPTY_BOX = "\u2611 ", "\u2610 "
"""What a task list's checkbox becomes: a form control has no place in a feed or email."""

_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "source", "track", "wbr"})
_BLOCKS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "blockquote",
        "pre",
        "figure",
        "hr",
        "section",
        "article",
    ]
)


def absolute_url(url: str, base: str) -> str:
    return urljoin(base, url.strip())


def _safe_absolute_url(url: str, base: str) -> str | None:
    """The URL made absolute, or None when its scheme is not a safe one (javascript:, data:)."""
    return allowed_url(url, base, schemes=LINK_SCHEMES)


class HtmlTooDeep(UnrenderableContent):
    """A body whose elements nest deeper than MAX_HTML_DEPTH."""

    def __init__(self) -> None:
        super().__init__(
            f"its HTML nests elements more than {MAX_HTML_DEPTH} levels deep, which feed "
            "readers and mail programs cut short",
            "flatten the nested tags in the post's body",
        )


def _fragment(html: str) -> lxml.html.HtmlElement:
    """`html` parsed into a <div>; HtmlTooDeep when it nests too deeply to travel."""
    if not hasattr(_PER_THREAD, "parser"):
        _PER_THREAD.parser = lxml.html.HTMLParser(huge_tree=True)
        _PER_THREAD.too_deep = etree.XPath(_TOO_DEEP)
    root = lxml.html.fragment_fromstring(html, create_parent="div", parser=_PER_THREAD.parser)
    if _PER_THREAD.too_deep(root):
        raise HtmlTooDeep()
    return root


def _absolute_srcset(value: str, base: str) -> str | None:
    candidates = []
    for candidate in value.split(","):
        parts = candidate.split(None, 1)
        if parts and (url := _safe_absolute_url(parts[0], base)):
            candidates.append(" ".join([url, *parts[1:]]))
    return ", ".join(candidates) or None


def syndication_html(html: str, page_url: str) -> str:
    """Sanitised, repaired HTML whose URLs are absolute against `page_url`.

    HtmlTooDeep when the body nests deeper than MAX_HTML_DEPTH."""

    # ammonia checks the scheme of href and src only; srcset, cite and poster are checked here.
    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES:
            return _safe_absolute_url(value, page_url)
        if attribute == "srcset":
            return _absolute_srcset(value, page_url)
        if attribute == "id":
            return value if _SAFE_ID.fullmatch(value) else None
        if attribute == "class":
            return " ".join(c for c in value.split() if _LANGUAGE_CLASS.fullmatch(c)) or None
        return value

    cleaned = nh3.clean(
        _checkboxes(strip_xml_illegal(html)),
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=rewrite,
        url_schemes=set(SAFE_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )
    return _xml_compatible(cleaned.strip())


def _checkboxes(html: str) -> str:
    """Each checkbox (a task list's) as ☑ or ☐ and a space."""
    if "<input" not in html.lower():
        return html

    def box(match: re.Match[str]) -> str:
        tag = match.group(0)
        if not _CHECKBOX.search(tag):
            return tag
        return CHECKED_BOX if _CHECKED.search(tag) else EMPTY_BOX

    return _INPUT.sub(box, html)


def _xml_compatible(html: str) -> str:
    """The same markup written so that it also parses as XML: `<br/>`, no `&nbsp;`.

    nh3 writes HTML5 (`<img …>`, `&nbsp;`), which is not well-formed XML; readers
    that treat feed content as XHTML choke on it.
    """
    if not html:
        return ""
    root = _fragment(html)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag not in _VOID and element.text is None:
            element.text = ""  # keeps `<p></p>` from becoming `<p/>`, which HTML reads as open
    text = str(etree.tostring(root, encoding="unicode", method="xml"))
    return text.removeprefix("<div>").removesuffix("</div>")


def _text_blocks(html: str, *, line_breaks: bool = True) -> list[str]:
    """The text of each block; a line break inside a paragraph's source is a space, and
    a <br> ends a block only with `line_breaks`."""
    if not html.strip():
        return []
    root = _fragment(html)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        element.text = element.text.replace("\n", " ") if element.text else element.text
        element.tail = element.tail.replace("\n", " ") if element.tail else element.tail
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag in _BLOCKS:
            if element.tag == "br" and not line_breaks:
                continue
            element.tail = "\n" + (element.tail or "")
            if element.tag != "br":
                element.text = "\n" + (element.text or "")
    text = root.text_content()
    return [line for line in (plain_line(part) for part in text.split("\n")) if line]


def plain_text(html: str) -> str:
    """The readable text of an HTML fragment, one block per paragraph."""
    return "\n\n".join(_text_blocks(html))


def first_paragraph(html: str) -> str:
    """The text of the first block, whole: never cut at a line break inside it."""
    blocks = _text_blocks(html, line_breaks=False)
    return blocks[0] if blocks else ""
