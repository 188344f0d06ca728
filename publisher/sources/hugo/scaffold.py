"""A config.toml for the Hugo site in a folder (for `publisher init`).

`hugo_config_for(folder)` is what a `publisher init` scaffolder registry calls for a
folder that holds a Hugo config: [site] and [feeds] come from the Hugo config when the
config is loaded, so the file only names the source, the folders and the sender.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from publisher.scaffold.plan import PlannedFile, SitePlan
from publisher.sources.hugo.settings import site_settings

TEMPLATE = """\
# publisher's config for the Hugo site in this folder. [site] and [feeds] are read from
# the Hugo config (title, baseURL, languageCode, timeZone, params.author,
# services.rss.limit, languages); set a key here only to override it.
# Every setting: docs/configuration.md.

[source]
kind = "hugo"
path = "."
pages = "main"   # the pages of params.mainSections; "all": every page, as Hugo's RSS

[paths]
# Not Hugo's public/: after `hugo`, copy these feeds over Hugo's, leaving index.html out
# (rsync -a --exclude=/index.html feeds/ public/). Hugo does not read these folders.
output = "feeds"    # index.xml (RSS, Hugo's path), feed.atom, feed.json, categories/<term>/
state = "state"     # first-seen dates, adopted ids, subscribers, the delivery ledger
outbox = "outbox"

[mail]
transport = "outbox"   # "smtp" to send through [smtp]
from = "{sender}"
"""


def hugo_config_for(folder: Path) -> str:
    """config.toml text for the Hugo site in `folder` (which holds its config)."""
    settings = site_settings(folder.resolve())
    site = settings.defaults.get("site", {})
    title = str(site.get("title") or "News").replace('"', "'")
    host = urlsplit(str(site.get("base_url") or "")).hostname or "example.org"
    sender = f"{title} <news@{host}>"
    return TEMPLATE.format(sender=sender.replace("\\", ""))


CONFIG_NAME = "publisher.toml"
"""Not config.toml, which a Hugo site may use itself (and init never overwrites)."""


def plan(folder: Path, _now: datetime) -> SitePlan:
    """What `publisher init` writes in a Hugo site: publisher's own config file."""
    return SitePlan((PlannedFile(CONFIG_NAME, hugo_config_for(folder)),), config=CONFIG_NAME)
