"""Jekyll's YAML, bounded: `_config.yml` and front matter read as Psych reads them.

Two Psych habits matter for publishing: a YAML timestamp is re-read by Jekyll through
Ruby's `Time.parse` (so we keep its text, marked as a `YamlTimestamp`), and the closing
`---` of front matter swallows the blank lines after it. Aliases are allowed (Jekyll
allows them) within the limits of `publisher.sources.yaml_loader`, which refuses an
expansion bomb instead of walking it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode

from publisher.sources.jekyll.errors import JekyllInputError, JekyllProblem
from publisher.sources.yaml_loader import load_bounded

MAX_YAML_BYTES = 1024 * 1024

# Jekyll's own rule (lib/jekyll/document.rb): `---` line, YAML, `---` or `...` line; the
# closing marker's trailing whitespace runs over blank lines into the body.
FRONT_MATTER = re.compile(r"\A(---\s*\n.*?\n?)^((---|\.\.\.)\s*$\n?)", re.S | re.M)


class YamlTimestamp(str):
    """A scalar YAML typed as a timestamp, kept as written (Psych and PyYAML disagree)."""

    __slots__ = ()


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as text (bounded by `load_bounded`)."""


def _timestamp_as_text(loader: yaml.SafeLoader, node: yaml.Node) -> YamlTimestamp:
    assert isinstance(node, ScalarNode)
    return YamlTimestamp(loader.construct_scalar(node))


_BoundedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _problem(source: str, error: yaml.YAMLError, line_offset: int) -> JekyllProblem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 + line_offset if mark is not None else 0
    reason = getattr(error, "problem", None) or str(error)
    return JekyllProblem(source, line, f"YAML that Jekyll cannot read: {reason}")


def load_yaml(text: str, source: str, *, line_offset: int = 0) -> Any:
    """Parse one YAML document; errors name `source` and the line (plus `line_offset`)."""
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise JekyllInputError(
            [JekyllProblem(source, 0, f"YAML of {size} bytes; the limit is {MAX_YAML_BYTES}")]
        )
    try:
        return load_bounded(text, _BoundedLoader)
    except yaml.YAMLError as error:
        raise JekyllInputError([_problem(source, error, line_offset)]) from error


def top_level_lines(text: str) -> dict[str, int]:
    """1-based line of each top-level key of a YAML mapping (for error messages)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, MappingNode):
        return {}
    return {
        str(key.value): key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, ScalarNode)
    }


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(front matter YAML or None, body, 1-based line where the body starts), as Jekyll."""
    match = FRONT_MATTER.match(text)
    if match is None:
        return None, text, 1
    body_line = text.count("\n", 0, match.end()) + 1
    return match.group(1), text[match.end() :], body_line


def read_front_matter(text: str, source: str) -> tuple[dict[str, Any], str, int]:
    """(front matter as a dict, body, body line); a file without front matter has {}."""
    yaml_text, body, body_line = split_front_matter(text)
    if yaml_text is None:
        return {}, body, body_line
    data = load_yaml(yaml_text, source)
    if data is None:
        return {}, body, body_line
    if not isinstance(data, dict):
        problem = JekyllProblem(source, 2, "front matter is not a mapping of keys to values")
        raise JekyllInputError([problem])
    return data, body, body_line
