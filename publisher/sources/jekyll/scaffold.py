"""publisher.toml for the Jekyll site in a folder (for `publisher init`).

[site] and [feeds] come from `_config.yml` when the config is loaded, so the file only
names the source, the folders and the sender. The folders go under `_publisher/`: Jekyll
copies no folder whose name starts with `_` into `_site/`, so the subscriber database,
the signing secret and the outbox are never published with the site.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from publisher.scaffold.plan import SitePlan, site_kind_plan
from publisher.sources.jekyll.settings import CONFIG_FILE, site_settings

TEMPLATE = """\
# publisher's config for the Jekyll site in this folder. [site] and [feeds] are read
# from {config_file} (title, url + baseurl, timezone, author, jekyll-feed's feed: ...);
# set a key here only to override it. Every setting: docs/configuration.md.
# Add publisher.toml to `exclude:` in {config_file}, so Jekyll does not copy it to _site/.

[source]
kind = "jekyll"
path = "."

[paths]
# Under _publisher/, which Jekyll never copies into _site/ (its name starts with "_"):
# the state holds subscribers and the signing secret, the outbox readers' addresses.
output = "_publisher/public"   # feed.xml (jekyll-feed's path), feed/<category>.xml, RSS, JSON
state = "_publisher/state"     # first-seen dates, adopted ids, subscribers, the ledger
outbox = "_publisher/outbox"

[mail]
transport = "outbox"   # "smtp" to send through [smtp]
from = "{sender}"
"""


def plan(folder: Path, _now: datetime) -> SitePlan:
    """What `publisher init` writes in a Jekyll site: publisher's own config file."""
    return site_kind_plan(TEMPLATE, site_settings(folder.resolve()), config_file=CONFIG_FILE)
