"""What `publisher init` writes for one kind of site: files, each written only if absent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PlannedFile:
    path: str
    """Relative to the site folder, with '/' between folders."""
    text: str
    skip_reason: Callable[[Path], str | None] | None = None
    """Given the site folder: why not to write this file even though it is absent."""


@dataclass(frozen=True)
class SitePlan:
    files: tuple[PlannedFile, ...]
    config: str = "config.toml"
    """The config file among `files`, which the next commands are run with."""
