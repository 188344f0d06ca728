"""Markdown rendered the way Hugo 0.111.3's Goldmark renders it by default, built on
markdown-it-py and mdit-py-plugins.

Hugo's defaults: CommonMark plus tables, strikethrough, linkify (`www.` links get https),
task lists, footnotes (Goldmark's markup), definition lists, typographer (curly quotes,
– — … « »), GitHub-style heading ids (per document, duplicates numbered) and `{#id .class}`
attributes on headings; raw HTML is replaced by `<!-- raw HTML omitted -->` unless
`markup.goldmark.renderer.unsafe` is set.

Deliberate differences: fenced code is `<pre><code class="language-x">`, not Chroma's
highlighted HTML; typographer characters are written as characters, not entities.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from publisher.render.attributes import parse_attributes
from publisher.render.task_lists import CHECKBOX, task_lists
from publisher.render.typography import typographic

RAW_HTML_OMITTED = "<!-- raw HTML omitted -->"
MAX_MARKDOWN_CHARS = 2_000_000
_HEADING_ATTRIBUTES = re.compile(r"\s*\{([^{}]*)\}\s*$")
_SCHEMES = ("http://", "https://", "ftp://", "mailto:")


@dataclass(frozen=True)
class GoldmarkOptions:
    unsafe: bool = False
    hard_wraps: bool = False
    xhtml: bool = False
    typographer: bool = True
    footnotes: bool = True
    definition_lists: bool = True
    tables: bool = True
    strikethrough: bool = True
    linkify: bool = True
    linkify_protocol: str = "https"
    task_lists: bool = True
    auto_heading_id: bool = True
    ascii_heading_ids: bool = False
    heading_attributes: bool = True

    @classmethod
    def from_hugo(cls, goldmark: Mapping[str, Any]) -> GoldmarkOptions:
        """Options from a site's lower-cased `markup.goldmark` config."""
        extensions = _section(goldmark, "extensions")
        renderer = _section(goldmark, "renderer")
        parser = _section(goldmark, "parser")
        defaults = cls()
        return cls(
            unsafe=_flag(renderer, "unsafe", defaults.unsafe),
            hard_wraps=_flag(renderer, "hardwraps", defaults.hard_wraps),
            xhtml=_flag(renderer, "xhtml", defaults.xhtml),
            typographer=_flag(extensions, "typographer", defaults.typographer),
            footnotes=_flag(extensions, "footnote", defaults.footnotes),
            definition_lists=_flag(extensions, "definitionlist", defaults.definition_lists),
            tables=_flag(extensions, "table", defaults.tables),
            strikethrough=_flag(extensions, "strikethrough", defaults.strikethrough),
            linkify=_flag(extensions, "linkify", defaults.linkify),
            linkify_protocol=str(extensions.get("linkifyprotocol", defaults.linkify_protocol)),
            task_lists=_flag(extensions, "tasklist", defaults.task_lists),
            auto_heading_id=_flag(parser, "autoheadingid", defaults.auto_heading_id),
            ascii_heading_ids=str(parser.get("autoheadingidtype", "")).lower() == "github-ascii",
            heading_attributes=_flag(_section(parser, "attribute"), "title", True),
        )


def _section(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, Mapping) else {}


def _flag(mapping: Mapping[str, Any], key: str, default: bool) -> bool:
    value = mapping.get(key, default)
    if isinstance(value, Mapping):
        return not bool(value.get("disable", False))
    return bool(value)


def heading_id(text: str, *, ascii_only: bool = False) -> str:
    """Goldmark's GitHub-style id for a heading's source text (before de-duplication)."""
    if ascii_only:
        decomposed = unicodedata.normalize("NFD", text)
        text = unicodedata.normalize(
            "NFC", "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
        )
    out = []
    for ch in text.strip():
        if ascii_only and not ch.isascii():
            continue
        if ch in "- ":
            out.append("-")
        elif ch == "_" or unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd":
            low = ch.lower()
            out.append(low if len(low) == 1 else ch)
    return "".join(out)


class HeadingIds:
    """One document's ids: explicit ones are recorded, generated ones numbered when taken."""

    def __init__(self, ascii_only: bool = False) -> None:
        self.taken: set[str] = set()
        self.ascii_only = ascii_only

    def put(self, value: str) -> None:
        self.taken.add(value)

    def generate(self, text: str) -> str:
        base = heading_id(text, ascii_only=self.ascii_only) or "heading"
        candidate = base
        number = 1
        while candidate in self.taken:
            candidate = f"{base}-{number}"
            number += 1
        self.taken.add(candidate)
        return candidate


def _headings_rule(options: GoldmarkOptions) -> Any:
    def headings(state: StateCore) -> None:
        ids = HeadingIds(options.ascii_heading_ids)
        tokens = state.tokens
        for index, token in enumerate(tokens):
            if token.type != "heading_open":
                continue
            inline = tokens[index + 1]
            if options.heading_attributes:
                found = _HEADING_ATTRIBUTES.search(inline.content)
                if found is not None:
                    inline.content = inline.content[: found.start()]
                    for key, value in parse_attributes(found.group(1)).pairs:
                        token.attrSet(key, value)
            explicit = token.attrGet("id")
            if explicit is not None:
                ids.put(str(explicit))
            elif options.auto_heading_id:
                last_line = inline.content.split("\n")[-1]
                token.attrSet("id", ids.generate(last_line))

    return headings


def _definition_looseness(state: StateCore) -> None:
    """Goldmark's per-definition rule: a definition after a blank line has its paragraphs in
    `<p>`; otherwise only its first paragraph loses the `<p>`."""
    lines = state.src.split("\n")
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "dd_open":
            continue
        first = True
        loose = False
        for inner in tokens[index + 1 :]:
            if inner.type == "dd_close" and inner.level == token.level:
                break
            if inner.level != token.level + 1 or inner.type not in (
                "paragraph_open",
                "paragraph_close",
            ):
                continue
            if inner.type == "paragraph_open" and first and inner.map is not None:
                start = inner.map[0]
                loose = start > 0 and lines[start - 1].strip(" \t>") == ""
            inner.hidden = first and not loose
            if inner.type == "paragraph_close":
                first = False


def _angle_quotes(state: StateInline, silent: bool) -> bool:
    pair = state.src[state.pos : state.pos + 2]
    if pair not in ("<<", ">>"):
        return False
    if not silent:
        state.push("text", "", 0).content = "\u00ab" if pair == "<<" else "\u00bb"
    state.pos += 2
    return True


def _typography_rule(state: StateCore) -> None:
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        in_link = 0
        for child in block.children:
            if child.type == "link_open" and child.info == "auto":
                in_link += 1
            elif child.type == "link_close" and in_link:
                in_link -= 1
            elif child.type == "text" and not in_link:
                child.content = typographic(child.content)


def _linkify_rule(protocol: str) -> Any:
    """Goldmark links `www.` hosts (with `protocol`), scheme URLs and e-mail addresses only."""

    def linkify(state: StateCore) -> None:
        for block in state.tokens:
            if block.type != "inline" or not block.children:
                continue
            children: list[Token] = []
            source = block.children
            index = 0
            while index < len(source):
                token = source[index]
                if token.type == "link_open" and token.markup == "linkify":
                    text = source[index + 1].content
                    if text.startswith("www."):
                        token.attrSet("href", f"{protocol}://{text}")
                    elif not text.startswith(_SCHEMES) and "@" not in text:
                        children.append(_text_token(text))
                        index += 3
                        continue
                children.append(token)
                index += 1
            block.children = children

    return linkify


def _text_token(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _render_task_checkbox(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    checked = 'checked="" ' if tokens[idx].meta.get("checked") else ""
    return f'<input {checked}disabled="" type="checkbox">'


def _omitted(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return RAW_HTML_OMITTED + ("\n" if tokens[idx].type == "html_block" else "")


def _footnote_number(token: Token) -> int:
    return int(token.meta["id"]) + 1


def _ref_id(token: Token) -> str:
    number, sub = _footnote_number(token), int(token.meta.get("subId", 0))
    return f"fnref{sub}:{number}" if sub else f"fnref:{number}"


def _footnote_ref(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    number = _footnote_number(token)
    return (
        f'<sup id="{_ref_id(token)}"><a href="#fn:{number}" class="footnote-ref" '
        f'role="doc-noteref">{number}</a></sup>'
    )


def _footnote_anchor(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return (
        f'&#160;<a href="#{_ref_id(tokens[idx])}" class="footnote-backref" '
        'role="doc-backlink">&#x21a9;&#xfe0e;</a>'
    )


def _footnote_open(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return f'<li id="fn:{_footnote_number(tokens[idx])}">\n'


def _fixed(html: str) -> Any:
    def render(
        renderer: RendererHTML,
        tokens: Sequence[Token],
        idx: int,
        options: OptionsDict,
        env: EnvType,
    ) -> str:
        return html

    return render


def _footnotes(md: MarkdownIt) -> None:
    md.use(footnote_plugin, inline=False)
    md.add_render_rule("footnote_ref", _footnote_ref)
    md.add_render_rule("footnote_anchor", _footnote_anchor)
    md.add_render_rule("footnote_open", _footnote_open)
    md.add_render_rule("footnote_close", _fixed("</li>\n"))
    md.add_render_rule(
        "footnote_block_open", _fixed('<div class="footnotes" role="doc-endnotes">\n<hr>\n<ol>\n')
    )
    md.add_render_rule("footnote_block_close", _fixed("</ol>\n</div>\n"))


@functools.lru_cache(maxsize=8)
def goldmark_parser(options: GoldmarkOptions = GoldmarkOptions()) -> MarkdownIt:
    """A markdown-it instance configured like Hugo's Goldmark with these options."""
    md = MarkdownIt(
        "commonmark",
        {
            "html": True,
            "linkify": options.linkify,
            "typographer": options.typographer,
            "breaks": options.hard_wraps,
            "xhtmlOut": options.xhtml,
        },
    )
    md.disable("replacements", ignoreInvalid=True)
    for rule, wanted in (
        ("table", options.tables),
        ("strikethrough", options.strikethrough),
        ("linkify", options.linkify),
        ("smartquotes", options.typographer),
    ):
        if wanted:
            md.enable(rule)
    if options.linkify:
        linkifier = md.linkify
        assert linkifier is not None
        linkifier.set({"fuzzy_link": True, "fuzzy_email": True})
        md.core.ruler.after("linkify", "goldmark_linkify", _linkify_rule(options.linkify_protocol))
    if options.footnotes:
        _footnotes(md)
    if options.definition_lists:
        md.use(deflist_plugin)
        md.core.ruler.after("block", "definition_looseness", _definition_looseness)
    if options.typographer:
        md.inline.ruler.before("html_inline", "angle_quotes", _angle_quotes)
        md.core.ruler.push("goldmark_typography", _typography_rule)
    if options.task_lists:
        md.core.ruler.push("task_lists", task_lists)
        md.add_render_rule(CHECKBOX, _render_task_checkbox)
    md.core.ruler.before("inline", "heading_ids", _headings_rule(options))
    md.add_render_rule("s_open", _fixed("<del>"))
    md.add_render_rule("s_close", _fixed("</del>"))
    if not options.unsafe:
        md.add_render_rule("html_block", _omitted)
        md.add_render_rule("html_inline", _omitted)
    return md


def render_goldmark(markdown: str, options: GoldmarkOptions = GoldmarkOptions()) -> str:
    """HTML for one document (ids de-duplicated within it)."""
    if len(markdown) > MAX_MARKDOWN_CHARS:
        raise ValueError(f"Markdown document larger than {MAX_MARKDOWN_CHARS} characters")
    return str(goldmark_parser(options).render(markdown))
