"""A new folder of posts: config.toml, content/ with one example post, and .gitignore."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.headerregistry import Address
from pathlib import Path

from publisher.scaffold.config_file import config_text
from publisher.scaffold.plan import PlannedFile, SitePlan

EXAMPLE_POST = "content/welcome.md"
IGNORED = """\
# What publisher writes: the feeds, mail not yet sent, and its state (subscribers, the
# delivery ledger and the signing secret: back it up, but keep it out of the repository).
/public/
/outbox/
/state/
"""


def _intro(now: datetime) -> list[str]:
    return [
        f"A publisher site, made by `publisher init` on {now:%Y-%m-%d}. Every setting is "
        "described in publisher's docs/configuration.md.",
        "Lines starting with '# key =' are settings left at their default (or an example, "
        "where the default is empty): remove the '# ' to change one. Secrets never go in "
        "this file: settings ending in _env name an environment variable that holds them.",
        "Before the feeds are public, set [site] title, base_url and id_authority (your "
        "domain and this year); id_authority must never change after that.",
    ]


def _example_post(title: str, now: datetime) -> str:
    date = now.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
    return f"""\
---
title: {json.dumps(f"Welcome to {title}", ensure_ascii=False)}
date: {date}
categories: [News]
---
This is the first post of *{title}*, written by `publisher init`. Every post is one file
in `content/`: Markdown (`.md`) or HTML, with a `title` and a `date` between the two
`---` lines at the top.

- `publisher build` writes the feeds and `index.html` into `public/`;
- `publisher digest --preview` shows the next email digest in `outbox/preview/`.

Replace this post with your own, and change `config.toml` to say what your site is.
"""


def _not_into_a_content_folder_with_posts(folder: Path) -> str | None:
    content = folder / "content"
    if content.is_dir() and any(path.is_file() for path in content.rglob("*")):
        return "content/ already holds files, so no example post was added"
    return None


def folder_site(folder: Path, now: datetime) -> SitePlan:
    """The files of a new folder-of-posts site in `folder`, as of `now`."""
    title = folder.resolve().name or "My site"
    mailbox = str(Address(display_name=title, addr_spec="newsletter@example.org"))
    settings = {
        "site": {
            "title": title,
            "description": f"News from {title}",
            "base_url": "https://example.org",
            "language": "en",
            "timezone": "UTC",
            "id_authority": f"example.org,{now.year}",
        },
        "mail": {"transport": "outbox", "from": mailbox},
        "source": {"kind": "folder"},
    }
    return SitePlan(
        files=(
            PlannedFile("config.toml", config_text(settings, _intro(now))),
            PlannedFile(
                EXAMPLE_POST,
                _example_post(title, now),
                skip_reason=_not_into_a_content_folder_with_posts,
            ),
            PlannedFile(".gitignore", IGNORED),
        )
    )
