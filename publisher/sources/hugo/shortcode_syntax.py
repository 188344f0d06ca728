"""Hugo shortcode syntax, read the way Hugo's page lexer reads it: `{{< name … >}}` (output
left as HTML) and `{{% name … %}}` (output read as Markdown), positional or named parameters
(`"quoted \\" text"`, `` `raw` ``, bare words), self-closing `/>}}`, closing tags, nesting,
and the comment form `{{</* … */>}}` that prints the shortcode as text.

Broken tags are not fatal: they are dropped and reported with their line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_SHORTCODES = 2_000
MAX_NESTING = 16
MAX_TAG_CHARS = 16_384
"""Longest shortcode tag (delimiters and parameters) we read."""

_OPEN = re.compile(r"\{\{([<%])")
_NAME = re.compile(r"[\w./-]+")
_COMMENT_OPEN = re.compile(r"[ \t]*/\*")


@dataclass
class Shortcode:
    name: str
    markdown: bool
    """True for `{{% %}}`."""
    positional: list[str] = field(default_factory=list)
    named: dict[str, str] = field(default_factory=dict)
    inner: list[str | Shortcode] | None = None
    """None when the shortcode has no closing tag."""
    line: int = 1
    self_closing: bool = False
    """Written `{{< name />}}`: closed by itself, so a template reading .Inner gets ""."""

    def get(self, key: str | int, default: str = "") -> str:
        if isinstance(key, int):
            return self.positional[key] if key < len(self.positional) else default
        return self.named.get(key, default)


@dataclass(frozen=True)
class _Tag:
    name: str
    markdown: bool
    closing: bool
    self_closing: bool
    positional: list[str]
    named: dict[str, str]
    start: int
    end: int


@dataclass
class ParsedBody:
    parts: list[str | Shortcode]
    errors: list[tuple[int, str]]
    """(offset, message) for tags we could not read."""


class _Lexer:
    def __init__(self, text: str, start: int, markdown: bool) -> None:
        self.text = text
        self.pos = start
        self.end = min(len(text), start + MAX_TAG_CHARS)
        self.close = "%}}" if markdown else ">}}"

    def skip_spaces(self) -> None:
        while self.pos < self.end and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def at_close(self) -> bool:
        return self.text.startswith(self.close, self.pos)

    def at_self_close(self) -> bool:
        if not self.text.startswith("/", self.pos):
            return False
        rest = self.pos + 1
        while rest < self.end and self.text[rest] in " \t":
            rest += 1
        return self.text.startswith(self.close, rest)

    def value(self) -> str:
        found = self.raw_value()
        if "{{<" in found or "{{%" in found:
            raise ValueError("a parameter holds a shortcode delimiter")
        return found

    def raw_value(self) -> str:
        text = self.text
        if text.startswith('"', self.pos):
            return self.quoted()
        if text.startswith("`", self.pos):
            end = text.find("`", self.pos + 1, self.end)
            if end == -1:
                raise ValueError("unterminated raw string")
            raw = text[self.pos + 1 : end]
            self.pos = end + 1
            return raw
        start = self.pos
        while self.pos < self.end and text[self.pos] not in " \t\r\n=":
            if self.at_close() or self.at_self_close():
                break
            self.pos += 1
        if start == self.pos:
            raise ValueError(f"unexpected {text[self.pos : self.pos + 1]!r}")
        return text[start : self.pos]

    def quoted(self) -> str:
        out: list[str] = []
        self.pos += 1
        while self.pos < self.end:
            ch = self.text[self.pos]
            if ch == "\\" and self.text.startswith('"', self.pos + 1):
                out.append('"')
                self.pos += 2
                continue
            self.pos += 1
            if ch == '"':
                return "".join(out)
            out.append(ch)
        raise ValueError("unterminated quoted parameter")


def _read_tag(text: str, begin: int, start: int, markdown: bool) -> _Tag:
    """The tag opened at `begin`, its name and parameters read from `start`."""
    lexer = _Lexer(text, start, markdown)
    lexer.skip_spaces()
    closing = text.startswith("/", lexer.pos)
    if closing:
        lexer.pos += 1
        lexer.skip_spaces()
    found = _NAME.match(text, lexer.pos)
    if found is None:
        raise ValueError("shortcode without a name")
    lexer.pos = found.end()
    positional: list[str] = []
    named: dict[str, str] = {}
    while True:
        lexer.skip_spaces()
        if lexer.pos >= lexer.end:
            raise ValueError(f"shortcode {found.group(0)!r} is never closed with {lexer.close}")
        if lexer.at_close():
            return _Tag(
                found.group(0), markdown, closing, False, positional, named, begin, lexer.pos + 3
            )
        if lexer.at_self_close():
            end = text.index(lexer.close, lexer.pos) + 3
            return _Tag(found.group(0), markdown, closing, True, positional, named, begin, end)
        value = lexer.value()
        if text.startswith("=", lexer.pos):
            lexer.pos += 1
            named[value] = lexer.value()
        else:
            positional.append(value)


def _comment_end(text: str, start: int, markdown: bool) -> int:
    close = "%}}" if markdown else ">}}"
    found = re.compile(r"\*/\s*" + re.escape(close)).search(text, start)
    return -1 if found is None else found.end()


def _scan(text: str) -> tuple[list[str | _Tag], list[tuple[int, str]]]:
    """Text and tags in order; comment-form shortcodes become their text."""
    items: list[str | _Tag] = []
    errors: list[tuple[int, str]] = []
    position = 0
    count = 0
    unclosed_comment = False
    for found in _OPEN.finditer(text):
        if found.start() < position:
            continue
        markdown = found.group(1) == "%"
        items.append(text[position : found.start()])
        after = found.end()
        if _COMMENT_OPEN.match(text, after):
            end = -1 if unclosed_comment else _comment_end(text, after, markdown)
            if end == -1:
                unclosed_comment = True
                errors.append((found.start(), "shortcode comment /* is never closed with */"))
                position = after
                continue
            literal = text[found.start() : end]
            literal = literal.replace("/*", "", 1)
            cut = literal.rfind("*/")
            items.append(literal[:cut] + literal[cut + 2 :])
            position = end
            continue
        count += 1
        if count > MAX_SHORTCODES:
            errors.append((found.start(), f"more than {MAX_SHORTCODES} shortcodes; rest dropped"))
            position = len(text)
            break
        try:
            tag = _read_tag(text, found.start(), after, markdown)
        except ValueError as e:
            errors.append((found.start(), str(e)))
            line_end = text.find("\n", after)
            position = len(text) if line_end == -1 else line_end
            continue
        items.append(tag)
        position = tag.end
    items.append(text[position:])
    return [item for item in items if item != ""], errors


def _pairs(items: list[str | _Tag]) -> dict[int, int]:
    """Opening tag index → its closing tag index. An opening tag with no closing tag after it
    stands alone; tags opened inside a pair and never closed stand alone too."""
    pairs: dict[int, int] = {}
    open_tags: list[int] = []
    for index, item in enumerate(items):
        if not isinstance(item, _Tag) or item.self_closing:
            continue
        if not item.closing:
            open_tags.append(index)
            continue
        for position in range(len(open_tags) - 1, -1, -1):
            opening = open_tags[position]
            if _tag_name(items[opening]) == item.name:
                pairs[opening] = index
                del open_tags[position:]
                break
    return pairs


def _tag_name(item: str | _Tag) -> str:
    return item.name if isinstance(item, _Tag) else ""


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def parse_shortcodes(text: str) -> ParsedBody:
    """The body as text and shortcode trees."""
    items, errors = _scan(text)
    parts = _build(text, items, _pairs(items), 0, len(items), 0, errors)
    return ParsedBody(parts, errors)


def _build(
    text: str,
    items: list[str | _Tag],
    pairs: dict[int, int],
    start: int,
    stop: int,
    depth: int,
    errors: list[tuple[int, str]],
) -> list[str | Shortcode]:
    parts: list[str | Shortcode] = []
    index = start
    while index < stop:
        item = items[index]
        if isinstance(item, str):
            parts.append(item)
            index += 1
            continue
        if item.closing:
            errors.append((item.start, f"closing tag for {item.name!r} without an opening tag"))
            index += 1
            continue
        node = Shortcode(
            item.name,
            item.markdown,
            item.positional,
            item.named,
            line=_line(text, item.start),
            self_closing=item.self_closing,
        )
        close = pairs.get(index, -1)
        if close != -1 and depth >= MAX_NESTING:
            errors.append((item.start, f"shortcodes nested deeper than {MAX_NESTING}"))
            index = close + 1
            continue
        if close != -1:
            node.inner = _build(text, items, pairs, index + 1, close, depth + 1, errors)
            index = close + 1
        else:
            index += 1
        parts.append(node)
    return parts
