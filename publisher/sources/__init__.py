"""Where posts come from. One module per kind of site, registered in SOURCES.

A new kind is one module with a class following `publisher.sources.base.Source`
and one line here; `[source] kind` in config.toml picks it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.core.config import Config
    from publisher.sources.base import Source

SOURCES: dict[str, str] = {
    "folder": "publisher.sources.folder:FolderSource",
}
"""[source] kind → "module:class" of its Source, imported only when used."""


def open_source(config: Config) -> Source:
    module, _, name = SOURCES[config.source.kind].partition(":")
    source: Source = getattr(importlib.import_module(module), name)(config)
    return source
