"""A config.toml for the Jekyll site in a folder (for `publisher init`).

`jekyll_config_for(folder)` is what a `publisher init` scaffolder registry calls for a
folder that holds `_config.yml`: [site] and [feeds] come from `_config.yml` when the
config is loaded, so the file only names the source, the folders and the sender.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from publisher.scaffold.plan import PlannedFile, SitePlan
from publisher.sources.jekyll.settings import CONFIG_FILE, site_settings

TEMPLATE = """\
# publisher's config for the Jekyll site in this folder. [site] and [feeds] are read
# from {config_file} (title, url + baseurl, timezone, author, jekyll-feed's feed: ...);
# set a key here only to override it. Every setting: docs/configuration.md.
# Add publisher.toml, public, state and outbox to `exclude:` in {config_file}.

[source]
kind = "jekyll"
path = "."

[paths]
output = "public"   # feed.xml (jekyll-feed's path), feed/<category>.xml, RSS, JSON Feed
state = "state"     # first-seen dates, adopted ids, subscribers, the delivery ledger
outbox = "outbox"

[mail]
transport = "outbox"   # "smtp" to send through [smtp]
from = "{sender}"
"""


def jekyll_config_for(folder: Path) -> str:
    """config.toml text for the Jekyll site in `folder` (which holds _config.yml)."""
    settings = site_settings(folder.resolve())
    site = settings.defaults.get("site", {})
    title = str(site.get("title") or "News").replace('"', "'")
    host = urlsplit(str(site.get("base_url") or "")).hostname or "example.org"
    sender = f"{title} <news@{host}>"
    return TEMPLATE.format(config_file=CONFIG_FILE, sender=sender.replace("\\", ""))


CONFIG_NAME = "publisher.toml"
"""Not config.toml, which a Jekyll site may use itself (and init never overwrites)."""


def plan(folder: Path, _now: datetime) -> SitePlan:
    """What `publisher init` writes in a Jekyll site: publisher's own config file."""
    return SitePlan((PlannedFile(CONFIG_NAME, jekyll_config_for(folder)),), config=CONFIG_NAME)
