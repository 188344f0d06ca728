"""publisher.toml for the Hugo site in a folder (for `publisher init`).

[site] and [feeds] come from the Hugo config when the config is loaded, so the file only
names the source, the folders and the sender. The folders sit at the site's root, beside
content/: Hugo publishes static/, content/ and its own public/, never the other folders
of the root, so the subscriber database, the signing secret and the outbox stay private.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from publisher.scaffold.plan import SitePlan, site_kind_plan
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
# (rsync -a --exclude=/index.html feeds/ public/). Hugo copies none of these folders
# (only static/ and content/): the state holds subscribers and the signing secret.
output = "feeds"    # index.xml (RSS, Hugo's path), feed.atom, feed.json, categories/<term>/
state = "state"     # first-seen dates, adopted ids, subscribers, the delivery ledger
outbox = "outbox"

[mail]
transport = "outbox"   # "smtp" to send through [smtp]
from = "{sender}"
"""


def plan(folder: Path, _now: datetime) -> SitePlan:
    """What `publisher init` writes in a Hugo site: publisher's own config file."""
    return site_kind_plan(TEMPLATE, site_settings(folder.resolve()))
