"""Comparing our HTML with Hugo's: both parsed with lxml and written back in one canonical
form (attributes sorted, entities decoded, whitespace runs collapsed, comments dropped).

Code blocks become `<pre><code class="language-x">text</code></pre>` on both sides:
Hugo colours them with Chroma (inline styles, spans, a line-number table), we do not.
"""

from __future__ import annotations

import html
import re
from typing import Any

from lxml import etree
from lxml import html as lxml_html

_SPACES = re.compile(r"\s+")


def _code_language(element: Any) -> str:
    for code in element.iter("code"):
        for name in (code.get("class") or "").split():
            if name.startswith("language-"):
                return name
    return ""


def _code_text(element: Any) -> str:
    codes = list(element.iter("code"))
    with_language = [c for c in codes if "language-" in (c.get("class") or "")]
    chosen = with_language[-1] if with_language else (codes[-1] if codes else element)
    return str(chosen.text_content()).strip("\n")


def _plain_code_block(element: Any) -> Any:
    block = etree.Element("pre")
    code = etree.SubElement(block, "code")
    language = _code_language(element)
    if language:
        code.set("class", language)
    code.text = _code_text(element)
    block.tail = element.tail
    return block


def _replace_code_blocks(root: Any) -> None:
    for element in list(root.iter("div", "pre")):
        if element.getparent() is None:
            continue
        is_highlight = element.tag == "div" and "highlight" in (element.get("class") or "")
        if is_highlight or (element.tag == "pre" and element.find("code") is not None):
            if element.tag == "pre" and _inside_highlight(element):
                continue
            element.getparent().replace(element, _plain_code_block(element))


def _inside_highlight(element: Any) -> bool:
    parent = element.getparent()
    while parent is not None:
        if parent.tag == "div" and "highlight" in (parent.get("class") or ""):
            return True
        parent = parent.getparent()
    return False


def _write(element: Any, out: list[str]) -> None:
    if not isinstance(element.tag, str):
        _text(element.tail, out)
        return
    attributes = "".join(
        f' {name}="{html.escape(_SPACES.sub(" ", value).strip())}"'
        for name, value in sorted(element.attrib.items())
    )
    out.append(f"<{element.tag}{attributes}>")
    if element.tag == "code":
        out.append(html.escape(element.text or ""))
    else:
        _text(element.text, out)
        for child in element:
            _write(child, out)
    out.append(f"</{element.tag}>")
    _text(element.tail, out)


def _text(text: str | None, out: list[str]) -> None:
    if text and text.strip():
        out.append(html.escape(_SPACES.sub(" ", text).strip()))


def canonical_blocks(fragment: str) -> list[str]:
    """One canonical string per top-level element of an HTML fragment."""
    root = lxml_html.fragment_fromstring(f"<div>{fragment}</div>")
    _replace_code_blocks(root)
    blocks: list[str] = []
    lead: list[str] = []
    _text(root.text, lead)
    blocks.extend(lead)
    for child in root:
        out: list[str] = []
        _write(child, out)
        if out:
            blocks.append("".join(out))
    return blocks


def canonical_html(fragment: str) -> str:
    return "\n".join(canonical_blocks(fragment))
