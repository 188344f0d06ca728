"""What a Jekyll site's `_config.yml` gives config.toml: [site] and [feeds] defaults.

`url` + `baseurl`, `title`, `description`, `author`, `lang` (or `locale`), `timezone`,
the posts' permalink and `excerpt_separator` become [site] settings; jekyll-feed's
`feed:` settings (`posts_limit`, `excerpt_only`, `path`, `categories`: feeds for the
categories listed only) become [feeds] settings, so our feeds hold what jekyll-feed's did,
at the URLs subscribers know.
Anything config.toml sets wins. `id_authority` is not needed: a Jekyll site's entry
ids are jekyll-feed's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from publisher.core.errors import Problem
from publisher.core.site_settings import SiteSettings
from publisher.sources.jekyll.errors import JekyllInputError, as_problems
from publisher.sources.jekyll.permalinks import pattern_problem
from publisher.sources.jekyll.site_config import PERMALINK_STYLES, SiteConfig, load_site_config

CONFIG_FILE = "_config.yml"
CATEGORY_FEED_PATH = "feed/{category}.xml"


def permalink_problem(pattern: str) -> str | None:
    """A Jekyll permalink: one of its styles, or a pattern of its placeholders."""
    return None if pattern in PERMALINK_STYLES else pattern_problem(pattern)


def _site_table(site: SiteConfig) -> dict[str, Any]:
    from publisher.render.titles import plain_title

    table: dict[str, Any] = {
        "permalink": site.posts_permalink,
        "excerpt_separator": site.excerpt_separator,
        "timezone": site.timezone or "UTC",
    }
    title = site.title or site.raw.get("name")
    if title:
        table["title"] = plain_title(str(title))
    if site.description:
        table["description"] = plain_title(site.description)
    if site.url:
        table["base_url"] = site.site_url
    if site.lang:
        table["language"] = site.lang.replace("_", "-")
    if site.author is not None:
        table["author"] = site.author.name
        if site.author.email:
            table["author_email"] = site.author.email
    return table


def _feeds_table(site: SiteConfig) -> dict[str, Any]:
    feed = site.feed
    return {
        "limit": feed.posts_limit,
        "full_content": not feed.excerpt_only,
        "categories": bool(feed.categories),
        "category_feeds": list(feed.categories),
        "paths": {"atom": feed.path},
        "category_paths": {"atom": CATEGORY_FEED_PATH},
    }


def site_settings(root: Path) -> SiteSettings:
    """[site] and [feeds] defaults from the Jekyll site at `root`."""
    common: dict[str, Any] = {
        "origin": str(root / CONFIG_FILE),
        "optional": frozenset({("site", "id_authority")}),
        "hints": {
            ("site", "base_url"): f"set `url:` in {CONFIG_FILE}, or base_url in [site]",
            ("site", "title"): f"set `title:` in {CONFIG_FILE}, or title in [site]",
        },
        "permalink_problem": permalink_problem,
    }
    if not (root / CONFIG_FILE).is_file():
        problem = Problem(
            str(root),
            f"no {CONFIG_FILE}: not the root of a Jekyll site",
            "set [source] path to the folder that holds _config.yml",
        )
        return SiteSettings(problems=(problem,), **common)
    try:
        site = load_site_config(root)
    except JekyllInputError as error:
        return SiteSettings(problems=as_problems(error), **common)
    except OSError as error:
        problem = Problem(str(root / CONFIG_FILE), f"cannot be read: {error.strerror}")
        return SiteSettings(problems=(problem,), **common)
    defaults = {"site": _site_table(site), "feeds": _feeds_table(site)}
    return SiteSettings(defaults=defaults, **common)
