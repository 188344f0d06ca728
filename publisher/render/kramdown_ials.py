"""kramdown's inline attribute lists (IALs), applied where kramdown applies them, never
printed; and its table of contents.

- A block IAL on the line after a block (`{: .x}`) applies to that block; after a list's
  last item, unindented, to the list. One on the line before a block, or standing alone
  between blank lines, applies to the next block.
- A span IAL right after an element (`*red*{: .x}`, `[a](u){:target="_blank"}`, a code
  span, an image) applies to it.
- After a table, `{: .table}` applies to the table (GFM would read it as a row).
- `{:toc}` on a list puts kramdown's table of contents (`markdown-toc`) in its place:
  every heading without the class `no_toc`, nested by level.
- A name in an IAL refers to an attribute list definition (`{:name: .x}`).
- Anything else in `{:…}` is left out, and `warnings` names its line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from publisher.render.attributes import Attributes, apply_attributes, parse_attributes

IAL = re.compile(r"\{:(?![:/])((?:[^}\\]|\\.)*)\}")
_WHOLE = re.compile(rf"^[ \t]*{IAL.pattern}[ \t]*$")
_SPANS = {"em_close": "em_open", "strong_close": "strong_open", "link_close": "link_open",
          "s_close": "s_open"}  # fmt: skip
_LISTS = ("bullet_list_open", "ordered_list_open")


def _warn(state: StateCore, line: int, message: str) -> None:
    state.env.setdefault("kramdown_warnings", []).append((line, message))


def _attributes(state: StateCore, spec: str) -> Attributes:
    """The IAL's attributes, with those of the definitions it names."""
    found = parse_attributes(spec)
    definitions = state.env.get("kramdown_definitions", {})
    pairs: list[tuple[str, str]] = []
    for name in found.names:
        if name in definitions:
            pairs += definitions[name].pairs
    found.pairs = pairs + found.pairs
    return found


def block_ials(state: StateCore) -> None:
    """Every IAL of the document applied (see the module); runs before typography."""
    _table_ials(state)
    index = 0
    while index < len(state.tokens):
        token = state.tokens[index]
        if token.type == "inline" and state.tokens[index - 1].type == "paragraph_open":
            index = _paragraph_ials(state, index)
        index += 1
    for token in state.tokens:
        if token.type == "inline":
            _span_ials(state, token)


def _apply(state: StateCore, target: Token | None, found: Attributes) -> None:
    if target is None:
        return
    apply_attributes(target, found.pairs)
    if "toc" in found.names and target.type in _LISTS:
        target.meta["toc"] = True


def _paragraph_ials(state: StateCore, index: int) -> int:
    """Apply and remove the IAL lines of the paragraph whose inline token is at `index`;
    returns the index to go on from."""
    tokens = state.tokens
    inline, opener = tokens[index], tokens[index - 1]
    lines = inline.content.split("\n")
    ials = [_WHOLE.match(line) for line in lines]
    if not any(ials):
        return index
    first_line = opener.map[0] if opener.map else 0
    if all(ials):
        for match in ials:
            assert match is not None
            _apply(state, _standalone_target(state, index), _attributes(state, match.group(1)))
        _hide_paragraph(tokens, index)
        return index + 1
    kept = []
    for number, (line, match) in enumerate(zip(lines, ials, strict=True)):
        if match is None:
            kept.append(line)
            continue
        found = _attributes(state, match.group(1))
        trailing = all(m is not None for m in ials[number:])
        outside = trailing and _source_indent(state, first_line + number) == 0
        _apply(state, _enclosing_list(tokens, index) if outside else opener, found)
    inline.content = "\n".join(kept)
    inline.children = []
    state.md.inline.parse(inline.content, state.md, state.env, inline.children)
    return index


def _source_indent(state: StateCore, line: int) -> int:
    lines = state.src.split("\n")
    text = lines[line] if line < len(lines) else ""
    return len(text) - len(text.lstrip(" \t"))


def _enclosing_list(tokens: Sequence[Token], index: int) -> Token | None:
    """The list whose item the paragraph at `index - 1` is in, else the paragraph."""
    opener = tokens[index - 1]
    level = opener.level
    for token in reversed(tokens[: index - 1]):
        if token.nesting == 1 and token.level < level:
            if token.type in _LISTS:
                return token
            if token.type != "list_item_open":
                break
            level = token.level
    return opener


def _standalone_target(state: StateCore, index: int) -> Token | None:
    """A paragraph of IALs alone: the block it follows without a blank line, else the next
    block at its level."""
    tokens = state.tokens
    opener = tokens[index - 1]
    start = opener.map[0] if opener.map else -1
    previous = _block_before(tokens, index - 1)
    if previous is not None and previous.map and previous.map[1] == start:
        return previous
    for token in tokens[index + 2 :]:
        if token.level < opener.level:
            return None
        if token.level == opener.level and token.nesting != -1 and token.type != "inline":
            return token
    return None


def _block_before(tokens: Sequence[Token], before: int) -> Token | None:
    """The opener of the block that ends right before `before`, at its level."""
    level = tokens[before].level
    for index in range(before - 1, -1, -1):
        token = tokens[index]
        if token.level < level:
            return None
        if token.level == level and token.nesting != -1 and token.type != "inline":
            return None if token.hidden else token
    return None


def _hide_paragraph(tokens: list[Token], inline_index: int) -> None:
    for offset in (-1, 0, 1):
        tokens[inline_index + offset].hidden = True
    tokens[inline_index].children = []
    tokens[inline_index].content = ""


def _table_ials(state: StateCore) -> None:
    """A table's last row that is an IAL alone applies to the table (GFM read it as a row)."""
    tokens = state.tokens
    index = 0
    while index < len(tokens):
        if tokens[index].type != "tr_open" or not _in_body(tokens, index):
            index += 1
            continue
        end = next(i for i in range(index, len(tokens)) if tokens[i].type == "tr_close")
        cells = [t for t in tokens[index:end] if t.type == "inline"]
        match = _WHOLE.match(cells[0].content) if cells else None
        if match is None or any(cell.content.strip() for cell in cells[1:]):
            index = end + 1
            continue
        table = next(t for t in reversed(tokens[:index]) if t.type == "table_open")
        _apply(state, table, _attributes(state, match.group(1)))
        del tokens[index : end + 1]
        if tokens[index - 1].type == "tbody_open" and tokens[index].type == "tbody_close":
            del tokens[index - 1 : index + 1]


def _in_body(tokens: Sequence[Token], index: int) -> bool:
    for token in reversed(tokens[:index]):
        if token.type in ("tbody_open", "thead_open"):
            return token.type == "tbody_open"
    return False


def _span_ials(state: StateCore, inline: Token) -> None:
    children = inline.children or []
    line = inline.map[0] + 1 if inline.map else 0
    for position, child in enumerate(children):
        if child.type != "text" or "{:" not in child.content:
            continue
        match = IAL.match(child.content)
        target = _span_before(children, position) if match else None
        if match is not None and target is not None:
            apply_attributes(target, _attributes(state, match.group(1)).pairs)
            child.content = child.content[match.end() :]
        if IAL.search(child.content):
            _warn(state, line, "a kramdown attribute list after text applies to nothing")
            child.content = IAL.sub("", child.content)


def _span_before(children: Sequence[Token], position: int) -> Token | None:
    if position == 0:
        return None
    before = children[position - 1]
    if before.type in ("code_inline", "image"):
        return before
    opener_type = _SPANS.get(before.type)
    if opener_type is None:
        return None
    depth = 0
    for candidate in range(position - 1, -1, -1):
        token = children[candidate]
        depth += 1 if token.type == before.type else 0
        depth -= 1 if token.type == opener_type else 0
        if depth == 0:
            return token
    return None


def table_of_contents(state: StateCore) -> None:
    """A list marked `{:toc}` replaced by the headings' table; runs after heading ids."""
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type in _LISTS and token.meta.get("toc"):
            end = next(
                i
                for i in range(index + 1, len(tokens))
                if tokens[i].type == token.type.replace("_open", "_close")
                and tokens[i].level == token.level
            )
            html = _toc_html(state, token.tag)
            replacement = Token("html_block", "", 0)
            replacement.content, replacement.block = html, True
            tokens[index : end + 1] = [replacement]
            return


def _toc_html(state: StateCore, tag: str) -> str:
    tree: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for index, token in enumerate(state.tokens):
        classes = str(token.attrGet("class") or "").split()
        if token.type != "heading_open" or "no_toc" in classes:
            continue
        label = RendererHTML().renderInline(
            state.tokens[index + 1].children or [], state.md.options, state.env
        )
        item = {"level": int(token.tag[1]), "id": str(token.attrGet("id") or ""), "label": label}
        item["children"] = []
        while stack and stack[-1]["level"] >= item["level"]:
            stack.pop()
        (stack[-1]["children"] if stack else tree).append(item)
        stack.append(item)
    return f'<{tag} id="markdown-toc">\n{_toc_items(tree, tag)}</{tag}>\n'


def _toc_items(items: list[dict[str, Any]], tag: str) -> str:
    out = []
    for item in items:
        anchor = escape(item["id"])
        link = f'<a href="#{anchor}" id="markdown-toc-{anchor}">{item["label"]}</a>'
        inner = f"<{tag}>\n{_toc_items(item['children'], tag)}</{tag}>" if item["children"] else ""
        out.append(f"<li>{link}{inner}</li>\n")
    return "".join(out)


def leftover_ials(state: StateCore) -> None:
    """Whatever `{:…}` is still text is left out, with a warning."""
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type == "text" and IAL.search(child.content):
                line = token.map[0] + 1 if token.map else 0
                _warn(state, line, "a kramdown attribute list applies to nothing; left out")
                child.content = IAL.sub("", child.content)
