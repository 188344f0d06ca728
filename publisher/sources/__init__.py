"""Where posts come from. One module per kind of site, registered in SOURCES.

A new kind is one module with a class following `publisher.sources.base.Source`,
optionally a function reading the site's own config into `SiteSettings`
(publisher/sources/settings.py), and one line here; `[source] kind` in
config.toml picks it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from publisher.core.config import Config
    from publisher.core.site_settings import SiteSettings
    from publisher.sources.base import Source


@dataclass(frozen=True)
class SourceKind:
    """A [source] kind in the registry: where its Source and its site settings come from."""

    source: str
    """"module:Class" of its Source, imported only when used."""
    settings: str = "publisher.sources.settings:folder_settings"
    """"module:function" reading the site's own config (given its root) into SiteSettings."""


SOURCES: dict[str, SourceKind] = {
    "folder": SourceKind("publisher.sources.folder:FolderSource"),
    "jekyll": SourceKind(
        "publisher.sources.jekyll.source:JekyllSource",
        "publisher.sources.jekyll.settings:site_settings",
    ),
    "hugo": SourceKind(
        "publisher.sources.hugo.source:HugoSource",
        "publisher.sources.hugo.settings:site_settings",
    ),
}
"""[source] kind → where its code is."""


def _load(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def open_source(config: Config) -> Source:
    source: Source = _load(SOURCES[config.source.kind].source)(config)
    return source


def site_settings(kind: str, root: Path) -> SiteSettings:
    """What the site at `root` says about itself, for config.toml's defaults."""
    settings: SiteSettings = _load(SOURCES[kind].settings)(root)
    return settings
