"""kramdown's extensions and attribute list definitions, read before the Markdown is.

- `{::comment}…{:/comment}` (or `{:/}`): left out (kramdown writes an HTML comment, which
  the syndication pass removes anyway);
- `{::nomarkdown}…{:/nomarkdown}`: its text kept as raw HTML, not read as Markdown;
- `{::options … /}`: left out (options do not reach us);
- `{:name: .class #id}`: an attribute list definition, remembered for IALs naming it;
- any other `{::…}` or `{:/…}`: left out, with a warning.

Fenced code and code spans are left as written. Removed text keeps its line breaks, so the
lines of what follows stay the lines of the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from publisher.render.attributes import Attributes, parse_attributes

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_TAG = re.compile(r"\{::(\w+)((?:[ \t][^}]*)?)\}|\{:/(\w*)\}")
_ALD = re.compile(r"^ {0,3}\{:([A-Za-z_][\w-]*):((?:[^}\\]|\\.)*)\}[ \t]*$", re.M)
RAW = "\x1fkramdown-raw-{}\x1f"
_RAW_PARAGRAPH = re.compile(r"<p>\x1fkramdown-raw-(\d+)\x1f</p>\n?")
_RAW_MARK = re.compile(r"\x1fkramdown-raw-(\d+)\x1f")


@dataclass
class Extensions:
    """The text with kramdown's extensions resolved, and what they left behind."""

    text: str
    raw: list[str] = field(default_factory=list)
    """The HTML of each `nomarkdown` extension, by the number in its placeholder."""
    definitions: dict[str, Attributes] = field(default_factory=dict)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    """(line from 1, message)."""

    def restore(self, html: str) -> str:
        """The rendered HTML with each `nomarkdown` text put back as written."""
        if not self.raw:
            return html
        html = _RAW_PARAGRAPH.sub(lambda m: self.raw[int(m.group(1))], html)
        return _RAW_MARK.sub(lambda m: self.raw[int(m.group(1))], html)


def read_extensions(text: str) -> Extensions:
    """`text` with kramdown's extensions and definitions taken out (see the module)."""
    found = Extensions(text)
    if "{:" not in text:
        return found
    parts: list[str] = []
    for prose, code in _split_code(text):
        parts.append(_prose(prose, found, line=1 + "".join(parts).count("\n")))
        parts.append(code)
    found.text = "".join(parts)
    return found


def _split_code(text: str) -> list[tuple[str, str]]:
    """(prose, the code after it) pairs: fenced blocks and code spans are code."""
    pieces: list[tuple[str, str]] = []
    prose: list[str] = []
    fence: str | None = None
    code: list[str] = []
    for line in text.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)[0] * len(opened.group(1))
            code = [line]
        elif fence is not None:
            code.append(line)
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                pieces.append(("".join(prose), "".join(code)))
                prose, code, fence = [], [], None
        else:
            prose.append(line)
    pieces.append(("".join(prose), "".join(code)))
    spans: list[tuple[str, str]] = []
    for block, after in pieces:
        start = 0
        for match in _CODE_SPAN.finditer(block):
            spans.append((block[start : match.start()], match.group(0)))
            start = match.end()
        spans.append((block[start:], after))
    return spans


def _prose(text: str, found: Extensions, line: int) -> str:
    text = _ALD.sub(lambda m: _definition(m, found), text)
    out: list[str] = []
    position = 0
    while (tag := _TAG.search(text, position)) is not None:
        out.append(text[position : tag.start()])
        where = line + text.count("\n", 0, tag.start())
        name = tag.group(1)
        if name is None:
            found.warnings.append((where, f"kramdown's {tag.group(0)} ends nothing; left out"))
            position = tag.end()
        elif name in ("comment", "nomarkdown") and not tag.group(2).rstrip().endswith("/"):
            body, position = _body(text, tag.end(), name)
            if name == "comment":
                out.append("\n" * body.count("\n"))
            else:
                found.raw.append(body)
                out.append(RAW.format(len(found.raw) - 1) + "\n" * body.count("\n"))
        else:
            if name != "options":
                message = f"kramdown's {{::{name}}} is not supported; left out"
                found.warnings.append((where, message))
            position = tag.end()
    out.append(text[position:])
    return "".join(out)


def _body(text: str, start: int, name: str) -> tuple[str, int]:
    """The text of an extension up to its stop tag (`{:/name}` or `{:/}`), and where the
    text after that tag starts; without a stop tag, the rest of the text."""
    stop = re.compile(rf"\{{:/(?:{name})?\}}")
    match = stop.search(text, start)
    if match is None:
        return text[start:], len(text)
    return text[start : match.start()], match.end()


def _definition(match: re.Match[str], found: Extensions) -> str:
    found.definitions[match.group(1)] = parse_attributes(match.group(2))
    return ""
