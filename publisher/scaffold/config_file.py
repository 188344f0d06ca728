"""A commented config.toml: every table and key of core/config.py with what it does.

Written from the config tables themselves, so a key added there appears here too.
Settings given a value are written as they are; every other one is a comment
showing its default (or an example, where the default is empty), ready to uncomment.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from publisher.core.config import KEY_ALIASES, TABLES

WIDTH = 88
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
EXAMPLES: dict[tuple[str, str], Any] = {
    ("site", "author"): "Your Name",
    ("site", "author_email"): "you@example.org",
    ("mail", "reply_to"): "you@example.org",
    ("mail", "contact"): "Your name · Your postal address · you@example.org",
    ("smtp", "username"): "newsletter@example.org",
    ("smtp", "password_env"): "PUBLISHER_SMTP_PASSWORD",
    ("digest", "dkim_selector"): "publisher",
    ("digest", "dkim_key_file"): "/etc/publisher/dkim.pem",
    ("feeds", "hub"): "https://hub.example.org/",
    ("feeds", "paths"): {"atom": "feed.xml"},
    ("feeds", "category_paths"): {"atom": "feed/{category}.xml"},
    ("web", "base_url"): "https://example.org/newsletter",
}
"""What a commented-out setting shows when its default is empty."""

Settings = Mapping[str, Mapping[str, Any]]
"""table → written key → value."""


def toml_value(value: Any) -> str:
    """`value` as TOML: strings as basic strings, lists of strings, numbers, booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Path):
        return json.dumps(value.as_posix(), ensure_ascii=False)
    if isinstance(value, str):
        # A JSON string is a TOML basic string (same escapes), non-ASCII kept as it is.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = [f"{_key(key)} = {toml_value(item)}" for key, item in value.items()]
        return "{ " + ", ".join(pairs) + " }" if pairs else "{}"
    raise TypeError(f"no TOML form for {value!r}")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _comment(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# ")


def _table(name: str, cls: type, given: Mapping[str, Any]) -> list[str]:
    lines = _comment(cls.__doc__ or f"[{name}]")
    lines.append(f"[{name}]")
    written_key = {field: key for (table, key), field in KEY_ALIASES.items() if table == name}
    for spec in dataclasses.fields(cls):
        key = written_key.get(spec.name, spec.name)
        lines += _comment(spec.metadata["doc"])
        if key in given:
            lines.append(f"{key} = {toml_value(given[key])}")
        else:
            default = spec.default_factory() if callable(spec.default_factory) else spec.default
            shown = EXAMPLES.get((name, key), default)
            lines.append(f"# {key} = {toml_value(shown)}")
    return lines


def config_text(settings: Settings, intro: Sequence[str]) -> str:
    """config.toml with these settings, every other one commented out, and the paragraphs
    of `intro` on top."""
    unknown = [
        f"[{table}] {key}"
        for table, keys in settings.items()
        for key in keys
        if table not in TABLES or key not in _written_keys(table)
    ]
    if unknown:
        raise ValueError(f"not settings: {', '.join(unknown)}")
    lines = [line for paragraph in intro for line in [*_comment(paragraph), "#"]]
    lines[-1] = ""
    for name, cls in TABLES.items():
        lines += _table(name, cls, settings.get(name, {}))
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _written_keys(table: str) -> set[str]:
    written_key = {field: key for (name, key), field in KEY_ALIASES.items() if name == table}
    return {written_key.get(spec.name, spec.name) for spec in dataclasses.fields(TABLES[table])}
