"""What a build writes. Feed formats are found through FEED_FORMATS.

A new feed format is one module with `render(config, spec) -> bytes` and one
line in FEED_FORMATS; `[feeds] formats` in config.toml then accepts its name.
The module is imported only when a feed of that format is written.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from publisher.core.config import Config
    from publisher.outputs.feeds import FeedSpec


@dataclass(frozen=True)
class FeedFormat:
    """A feed format in the registry: its names and the module that writes it."""

    name: str
    """As written in [feeds] formats and in file names: feed.<name>."""
    label: str
    """How people call it: "Atom", "JSON Feed"."""
    media_type: str
    module: str
    """The module whose `render(config, spec)` writes a feed in this format."""

    def render(self, config: Config, spec: FeedSpec) -> bytes:
        data: bytes = importlib.import_module(self.module).render(config, spec)
        return data


FEED_FORMATS: dict[str, FeedFormat] = {
    format.name: format
    for format in (
        FeedFormat("atom", "Atom", "application/atom+xml", "publisher.outputs.atom"),
        FeedFormat("rss", "RSS", "application/rss+xml", "publisher.outputs.rss"),
        FeedFormat("json", "JSON Feed", "application/feed+json", "publisher.outputs.json_feed"),
    )
}
