"""YAML front matter of the folder source: the only user of python-frontmatter.

Front matter is read with PyYAML's safe loader (the C one when it is built),
within the limits of `yaml_loader` (length, aliases, depth); an impossible
date stays text, so the field check can name it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from publisher.render.text import strip_xml_illegal
from publisher.sources.files import FileProblems

_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)


class _FrontMatterShapeError(ValueError):
    pass


def _timestamp_or_text(loader: Any, node: Any) -> Any:
    # An impossible date like 2024-13-45 makes PyYAML raise a bare ValueError;
    # keep the text so the `date` check names the field.
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


@functools.cache
def _handler() -> Any:
    """python-frontmatter's YAML handler over our loader, made on first use: a build
    with nothing to do never imports PyYAML."""
    import frontmatter
    import yaml

    from publisher.sources.yaml_loader import load_bounded

    class Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
        """PyYAML's safe loader (the C one when it is built)."""

    Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)

    class YAMLHandler(frontmatter.YAMLHandler):  # type: ignore[name-defined,misc]
        """Front matter through `Loader`."""

        loader = Loader

        def load(self, fm: str, **kwargs: object) -> Any:
            data = load_bounded(fm, Loader)
            if data is not None and not isinstance(data, dict):
                raise _FrontMatterShapeError("front matter must be a set of `key: value` lines")
            return data

    return YAMLHandler()


def loader_name() -> str:
    """Which PyYAML loader reads front matter: CSafeLoader, or SafeLoader without the C one."""
    return str(_handler().loader.__mro__[1].__name__)


_UNCLOSED_CONTEXTS = frozenset(
    {
        "while scanning a quoted scalar",
        "while parsing a flow sequence",
        "while parsing a flow mapping",
    }
)
"""PyYAML contexts of a quote or bracket left open: its error points at where the text ends."""


def split(text: str, problems: FileProblems) -> tuple[dict[str, Any], str] | None:
    """(front matter, body) of a post's text; None (with a problem) when it has none or
    it is not valid YAML."""
    if not text.startswith("---"):
        problems.add(
            "has no front matter",
            "start the file with a '---' line, a `title: …` line and another '---' line",
            1,
        )
        return None
    first_line_end = text.find("\n")
    if first_line_end < 0 or not _BOUNDARY.search(text, first_line_end + 1):
        problems.add(
            "front matter is not closed",
            "end the front matter with a line of three dashes: ---",
            1,
        )
        return None
    import frontmatter
    import yaml

    from publisher.sources.yaml_loader import YamlLimitError

    try:
        metadata, body = frontmatter.parse(text, handler=_handler())
    except _FrontMatterShapeError as e:
        problems.add(str(e), "write one `key: value` per line, like `title: My post`", 2)
        return None
    except YamlLimitError as e:
        _report_limit(e, problems)
        return None
    except yaml.YAMLError as e:
        _report_yaml_error(e, problems)
        return None
    return _xml_safe(dict(metadata)), str(body)


def _report_limit(error: Any, problems: FileProblems) -> None:
    """A YamlLimitError (front matter too big, too deep, or an alias bomb) as a problem."""
    reason = str(error.problem)
    if "alias" in reason:
        hint = "write the values out instead of anchors (&name) and aliases (*name)"
    elif "nested" in reason:
        hint = "flatten the lists and mappings of the front matter"
    else:
        hint = "move long text into the post's body"
    mark = error.problem_mark
    problems.add(f"front matter refused: it {reason}", hint, mark.line + 1 if mark else 1)


def _report_yaml_error(error: Any, problems: FileProblems) -> None:
    """A yaml.YAMLError as a problem on the line it names."""
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    reason = getattr(error, "problem", None) or str(error)
    # An unclosed quote or bracket is noticed only where the text ends; name the line
    # where it opened (the context), and say where the parser gave up.
    context, context_mark = getattr(error, "context", None), getattr(error, "context_mark", None)
    opened = context_mark.line + 1 if context_mark is not None else None
    if context in _UNCLOSED_CONTEXTS and opened and line and opened < line:
        problems.add(
            f"front matter is not valid YAML: {reason} on line {line}, {context} "
            "that began on this line",
            "close the quote or bracket opened on this line",
            opened,
        )
        return
    problems.add(f"front matter is not valid YAML: {reason}", "check quoting and indentation", line)


def _xml_safe(value: Any) -> Any:
    """Front-matter values without characters XML forbids (YAML's "\\x01" escapes allow them)."""
    if isinstance(value, str):
        return strip_xml_illegal(value)
    if isinstance(value, dict):
        return {key: _xml_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    return value
