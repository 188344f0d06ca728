"""Markdown the way Jekyll's kramdown (GFM input) renders it, where readers can tell.

markdown-it-py with mdit-py-plugins, set up and extended for kramdown's habits:
footnotes in kramdown's markup (`fn:label`, a `div.footnotes` section), definition lists,
tables, GFM-style heading ids, block attribute lists (`{: .class}`, `{:#id}`) applied and
never printed, HTML blocks kept whole up to their closing tag (a blank line inside does not
turn the rest into code), and kramdown's typography (smart quotes, `--`, `---`, `...`,
`<<`, `>>`). Code blocks stay `<pre><code>`; kramdown's rouge wrappers are not copied.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_block.html_block import html_block
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin

from publisher.render.kramdown_ials import block_ials, leftover_ials, table_of_contents
from publisher.render.kramdown_syntax import read_extensions
from publisher.render.task_lists import CHECKBOX, task_lists
from publisher.render.typography import GUILLEMETS, typographic

NON_WORD = re.compile(r"[^\w\- \t]")
HTML_BLOCK_OPEN = re.compile(
    r"^<(div|section|article|aside|figure|details|table|blockquote|nav|header|footer|form"
    r"|ul|ol|dl|p|pre|center)(?=[\s>])",
    re.I,
)


def gfm_heading_id(text: str, seen: Counter[str]) -> str:
    """kramdown-parser-gfm's heading id: lower-case, non-word characters gone, spaces to -."""
    result = NON_WORD.sub("", text.lower()).replace(" ", "-").replace("\t", "-")
    seen[result] += 1
    return result if seen[result] == 1 else f"{result}-{seen[result] - 1}"


def _heading_ids(state: StateCore) -> None:
    seen: Counter[str] = Counter()
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and not token.attrGet("id"):
            token.attrSet("id", gfm_heading_id(tokens[index + 1].content, seen))


def _typography(state: StateCore) -> None:
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "text":
                child.content = typographic(child.content)
                for pattern, replacement in GUILLEMETS:
                    child.content = pattern.sub(replacement, child.content)


def _table_alignment(state: StateCore) -> None:
    for token in state.tokens:
        style = token.attrGet("style") if token.type in ("th_open", "td_open") else None
        if isinstance(style, str) and style.startswith("text-align:"):
            token.attrSet("style", style.replace("text-align:", "text-align: "))


def _html_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """An HTML block runs to its matching closing tag, blank lines and indents included."""
    begin = state.bMarks[start] + state.tShift[start]
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    line = state.src[begin : state.eMarks[start]]
    match = HTML_BLOCK_OPEN.match(line)
    if match is None:
        return False
    name = match.group(1).lower()
    opens, closes = re.compile(rf"<{name}(?=[\s>])", re.I), re.compile(rf"</{name}\s*>", re.I)
    depth, current = 0, start
    while current < end:
        text = state.src[state.bMarks[current] : state.eMarks[current]]
        depth += len(opens.findall(text)) - len(closes.findall(text))
        current += 1
        if depth <= 0:
            break
    if silent:
        return True
    token = state.push("html_block", "", 0)
    token.map = [start, current]
    token.content = state.getLines(start, current, state.blkIndent, True)
    state.line = current
    return True


def _html_block_not_breaking_on_comments(
    state: StateBlock, start: int, end: int, silent: bool
) -> bool:
    """As CommonMark, except that a comment line does not end a paragraph (kramdown)."""
    begin = state.bMarks[start] + state.tShift[start]
    if silent and state.src.startswith("<!--", begin):
        return False
    return html_block(state, start, end, silent)


def _footnote_label(token: Token) -> str:
    label = token.meta.get("label")
    return str(label) if label else str(token.meta["id"] + 1)


def _render_ref(self: Any, tokens: Sequence[Token], idx: int, _o: OptionsDict, _e: EnvType) -> str:
    label = escape(_footnote_label(tokens[idx]))
    number = tokens[idx].meta["id"] + 1
    return (
        f'<sup id="fnref:{label}" role="doc-noteref"><a href="#fn:{label}" class="footnote" '
        f'rel="footnote">{number}</a></sup>'
    )


def _render_block_open(*_args: Any) -> str:
    return '<div class="footnotes" role="doc-endnotes">\n<ol>\n'


def _render_block_close(*_args: Any) -> str:
    return "</ol>\n</div>\n"


def _render_open(self: Any, tokens: Sequence[Token], idx: int, _o: OptionsDict, _e: EnvType) -> str:
    return f'<li id="fn:{escape(_footnote_label(tokens[idx]))}" role="doc-endnote">'


def _render_anchor(
    self: Any, tokens: Sequence[Token], idx: int, _o: OptionsDict, _e: EnvType
) -> str:
    label = escape(_footnote_label(tokens[idx]))
    return f' <a href="#fnref:{label}" class="reversefootnote" role="doc-backlink">&#8617;</a>'


def _task_classes(state: StateCore) -> None:
    """kramdown's classes: `task-list` on a list holding a task, `task-list-item` on its
    items."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "list_item_open" or not token.meta.get("task"):
            continue
        for opener in reversed(tokens[:index]):
            if opener.type in ("bullet_list_open", "ordered_list_open") and (
                opener.level == token.level - 1
            ):
                opener.attrSet("class", "task-list")
                opener.meta["task_list"] = True
                break
    for index, token in enumerate(tokens):
        if token.type in ("bullet_list_open", "ordered_list_open") and token.meta.get("task_list"):
            for item in tokens[index + 1 :]:
                if item.level < token.level + 1:
                    break
                if item.type == "list_item_open" and item.level == token.level + 1:
                    item.attrSet("class", "task-list-item")


def _render_checkbox(
    self: Any, tokens: Sequence[Token], idx: int, _o: OptionsDict, _e: EnvType
) -> str:
    checked = ' checked="checked"' if tokens[idx].meta.get("checked") else ""
    return f'<input type="checkbox" class="task-list-item-checkbox" disabled="disabled"{checked} />'


def kramdown_markdown() -> MarkdownIt:
    """A MarkdownIt configured to render like Jekyll's kramdown (GFM input)."""
    md = MarkdownIt("commonmark", {"html": True, "typographer": True})
    md.enable(["table", "strikethrough"])
    md.enable("smartquotes")  # markdown-it's replacements ((c), (tm), +-) are not kramdown's
    md.use(footnote_plugin, inline=False).use(deflist_plugin)
    md.block.ruler.at(
        "html_block",
        _html_block_not_breaking_on_comments,
        {"alt": ["paragraph", "reference", "blockquote"]},
    )
    md.block.ruler.before("html_block", "kramdown_html_block", _html_block)
    md.core.ruler.after("inline", "kramdown_ials", block_ials)
    md.core.ruler.after("kramdown_ials", "kramdown_task_lists", task_lists)
    md.core.ruler.after("kramdown_task_lists", "kramdown_task_classes", _task_classes)
    md.add_render_rule(CHECKBOX, _render_checkbox)
    md.core.ruler.push("kramdown_leftover_ials", leftover_ials)
    md.core.ruler.push("kramdown_heading_ids", _heading_ids)
    md.core.ruler.push("kramdown_toc", table_of_contents)
    md.core.ruler.push("kramdown_typography", _typography)
    md.core.ruler.push("kramdown_table_alignment", _table_alignment)
    md.add_render_rule("footnote_ref", _render_ref)
    md.add_render_rule("footnote_block_open", _render_block_open)
    md.add_render_rule("footnote_block_close", _render_block_close)
    md.add_render_rule("footnote_open", _render_open)
    md.add_render_rule("footnote_anchor", _render_anchor)
    return md


_SHARED = kramdown_markdown()


def render_kramdown(text: str) -> str:
    """Markdown source to HTML, kramdown-style."""
    return kramdown_with_warnings(text)[0]


def kramdown_with_warnings(text: str) -> tuple[str, list[tuple[int, str]]]:
    """The HTML, and (line from 1, message) for each piece of kramdown syntax left out."""
    extensions = read_extensions(text)
    warnings: list[tuple[int, str]] = []
    env = {"kramdown_definitions": extensions.definitions, "kramdown_warnings": warnings}
    html = extensions.restore(str(_SHARED.render(extensions.text, env)))
    return html, sorted(extensions.warnings + warnings)
