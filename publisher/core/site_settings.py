"""What a site's own configuration says, read when config.toml is loaded.

A Jekyll site keeps its title, URL, time zone and permalink in `_config.yml`; a
Hugo site in its own config file. Each source kind (publisher/sources/__init__.py)
may read those into `SiteSettings`: defaults for config.toml's tables (config.toml
still wins), the problems found on the way, and the kind's own rules for
`[site] permalink`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from publisher.core.errors import Problem


@dataclass(frozen=True)
class SiteSettings:
    """Defaults a source kind found in the site's own files, under config.toml's values."""

    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """table → key → value, written as config.toml would write it."""
    origin: str = ""
    """The file the defaults came from, named in messages about them."""
    problems: tuple[Problem, ...] = ()
    optional: frozenset[tuple[str, str]] = frozenset()
    """(table, key) of settings config.toml requires that this kind does without."""
    hints: Mapping[tuple[str, str], str] = field(default_factory=dict)
    """How to give a required setting this kind could not find, by (table, key)."""
    permalink_problem: Callable[[str], str | None] = lambda _pattern: None
    """Why a `[site] permalink` pattern is unusable for this kind, or None."""
