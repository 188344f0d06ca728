"""Hugo's data formats, bounded: TOML (`+++`), YAML (`---`) and JSON (`{…}`) front matter,
and the same three formats for site config files.

This module is the Hugo source's only home of tomllib, PyYAML and json for reading input;
YAML goes through `publisher.sources.yaml_loader`, which bounds every source's YAML.
YAML dates stay text (Hugo's YAML library hands them over as strings and `dates.py`
parses them the way Hugo's `cast` does); TOML dates come back as `date`/`datetime`.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import PurePath
from typing import Any

import yaml

from publisher.core.errors import ContentError, Problem
from publisher.sources.yaml_loader import load_bounded

MAX_DATA_CHARS = 1 << 20
"""Largest front matter block or config file we parse (1 Mi characters)."""
MAX_DATA_NODES = 100_000
"""Most values one document may hold once YAML aliases are followed (stops alias bombs)."""
MAX_DATA_DEPTH = 64


class DataFormat(StrEnum):
    TOML = "toml"
    YAML = "yaml"
    JSON = "json"


class Markup(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"


MARKUP_BY_EXTENSION = {
    "md": Markup.MARKDOWN,
    "markdown": Markup.MARKDOWN,
    "mdown": Markup.MARKDOWN,
    "html": Markup.HTML,
    "htm": Markup.HTML,
}
UNSUPPORTED_MARKUP = {
    "org": "Org mode",
    "asciidoc": "AsciiDoc",
    "adoc": "AsciiDoc",
    "ad": "AsciiDoc",
    "rst": "reStructuredText",
    "rest": "reStructuredText",
    "pandoc": "Pandoc",
    "pdc": "Pandoc",
}
"""Content files Hugo renders with an external tool; we skip them with a note."""

DATA_FORMAT_BY_EXTENSION = {
    "toml": DataFormat.TOML,
    "yaml": DataFormat.YAML,
    "yml": DataFormat.YAML,
    "json": DataFormat.JSON,
}


@dataclass(frozen=True)
class FrontMatter:
    format: DataFormat | None
    """None when the file has no front matter."""
    data: dict[str, Any]
    body: str
    body_line: int
    """1-based line of the file on which `body` starts."""
    notes: tuple[str, ...] = field(default=())


def markup_of(path: PurePath) -> Markup | None:
    """The markup Hugo uses for a content file, or None when it is not one we render."""
    return MARKUP_BY_EXTENSION.get(path.suffix.lstrip(".").lower())


def unsupported_markup_note(path: PurePath) -> str | None:
    """A note saying why a content file is skipped, for the formats Hugo hands to other tools."""
    name = UNSUPPORTED_MARKUP.get(path.suffix.lstrip(".").lower())
    if name is None:
        return None
    return f"{path}: {name} content is not supported; the page is skipped"


class _YamlLoader(yaml.SafeLoader):
    """Safe YAML 1.1 that leaves timestamps as text, as Hugo's YAML decoder does."""


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_data(text: str, fmt: DataFormat, where: str, first_line: int = 1) -> dict[str, Any]:
    """One mapping from TOML, YAML or JSON text; errors name `where` and the line."""
    if len(text) > MAX_DATA_CHARS:
        raise _problem(where, first_line, f"{fmt} data is larger than {MAX_DATA_CHARS} characters")
    try:
        value = _decode(text, fmt)
    except tomllib.TOMLDecodeError as e:
        found = _TOML_POSITION.search(str(e))
        line = int(found.group(1)) if found else 1
        raise _problem(where, first_line + line - 1, f"invalid TOML: {e}") from e
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise _problem(where, first_line + line - 1, f"invalid YAML: {_yaml_reason(e)}") from e
    except json.JSONDecodeError as e:
        raise _problem(where, first_line + e.lineno - 1, f"invalid JSON: {e.msg}") from e
    except RecursionError:  # the TOML and JSON parsers recurse once per level of nesting
        raise _problem(where, first_line, f"{fmt} data is nested too deeply") from None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _problem(where, first_line, f"{fmt} data must be a mapping of keys to values")
    budget = [MAX_DATA_NODES]
    copied = _bounded_copy(value, budget, 0, where, first_line)
    assert isinstance(copied, dict)
    return copied


def _decode(text: str, fmt: DataFormat) -> Any:
    if fmt is DataFormat.TOML:
        return tomllib.loads(text)
    if fmt is DataFormat.YAML:
        return load_bounded(text, _YamlLoader)
    return json.loads(text)


def _yaml_reason(e: yaml.YAMLError) -> str:
    problem = getattr(e, "problem", None)
    return str(problem) if problem else str(e).splitlines()[0]


def _bounded_copy(value: Any, budget: list[int], depth: int, where: str, line: int) -> Any:
    """A plain copy with string keys, refusing documents that expand past the node budget."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DATA_DEPTH:
        raise _problem(
            where, line, "data is too large or too deeply nested once aliases are expanded"
        )
    if isinstance(value, Mapping):
        return {
            str(key): _bounded_copy(item, budget, depth + 1, where, line)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_bounded_copy(item, budget, depth + 1, where, line) for item in value]
    return value


def _problem(where: str, line: int, message: str) -> ContentError:
    located = f"{where}:{line}"
    return ContentError(
        f"{located}: {message}",
        hint="fix the front matter or config syntax; Hugo would refuse this file too",
        problems=(Problem(located, message),),
    )


_DELIMITED = {
    "+": (DataFormat.TOML, "+++"),
    "-": (DataFormat.YAML, "---"),
}


def split_front_matter(text: str, where: str) -> FrontMatter:
    """Separate a content file's front matter from its body, the way Hugo's page lexer does:
    leading whitespace and a byte-order mark are skipped, then `+++`, `---` or `{` opens it."""
    start = _skip_intro(text)
    first = text[start : start + 1]
    if first == "{":
        return _split_json(text, start, where)
    if first in _DELIMITED:
        fmt, delimiter = _DELIMITED[first]
        if text.startswith(delimiter, start) and _line_rest_blank(text, start + 3):
            return _split_delimited(text, start, fmt, delimiter, where)
    return FrontMatter(format=None, data={}, body=text[start:], body_line=_line_of(text, start))


def _skip_intro(text: str) -> int:
    index = 0
    while index < len(text) and (text[index] == "\ufeff" or text[index].isspace()):
        index += 1
    return index


def _line_rest_blank(text: str, index: int) -> bool:
    end = text.find("\n", index)
    rest = text[index:] if end == -1 else text[index:end]
    return rest.strip() == ""


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def _split_delimited(
    text: str, start: int, fmt: DataFormat, delimiter: str, where: str
) -> FrontMatter:
    open_end = text.find("\n", start)
    if open_end == -1:
        raise _problem(
            where, _line_of(text, start), f"front matter opened with {delimiter} is empty"
        )
    closing = re.compile(rf"^{re.escape(delimiter)}[ \t]*\r?$", re.MULTILINE)
    found = closing.search(text, open_end + 1)
    if found is None:
        line = _line_of(text, start)
        raise _problem(where, line, f"front matter opened with {delimiter} is never closed")
    block = text[open_end + 1 : found.start()]
    first_line = _line_of(text, open_end + 1)
    data = parse_data(block, fmt, where, first_line)
    body_start = found.end() + 1 if found.end() < len(text) else found.end()
    return FrontMatter(fmt, data, text[body_start:], _line_of(text, body_start))


def _split_json(text: str, start: int, where: str) -> FrontMatter:
    line = _line_of(text, start)
    window = text[start : start + MAX_DATA_CHARS + 1]
    try:
        _, length = json.JSONDecoder().raw_decode(window)
    except json.JSONDecodeError as e:
        raise _problem(where, line + e.lineno - 1, f"invalid JSON front matter: {e.msg}") from e
    except RecursionError:
        raise _problem(where, line, "JSON front matter is nested too deeply") from None
    data = parse_data(window[:length], DataFormat.JSON, where, line)
    body_start = start + length
    if text.startswith("\r\n", body_start):
        body_start += 2
    elif text.startswith("\n", body_start):
        body_start += 1
    return FrontMatter(DataFormat.JSON, data, text[body_start:], _line_of(text, body_start))
