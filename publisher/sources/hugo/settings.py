"""What a Hugo site's own config gives config.toml: [site] and [feeds] defaults.

The production config (hugo.toml or config.toml, then config/_default/ and
config/production/) gives [site]: `title`, `baseURL`, the default language's
`languageCode`, `timeZone`, `params.description` and `params.author`; and [feeds]: Hugo's
RSS limit (`services.rss.limit`; none means every page, as Hugo's RSS) and Hugo's feed
paths (RSS at `index.xml`, a category's at `categories/<term>/index.xml`, or where the RSS
`baseName` and `permalinks.categories` put them), with one set per language at Hugo's
language prefix (`/ko/index.xml`). Anything config.toml sets wins.
`id_authority` is not needed: a Hugo page's entry id is its permalink, Hugo's RSS guid.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from publisher.core.errors import ConfigError, Problem
from publisher.core.site_settings import SiteSettings
from publisher.sources.hugo.dates import date_rules
from publisher.sources.hugo.posts import CATEGORY_TAXONOMY, language_tags
from publisher.sources.hugo.site_config import (
    CONFIG_EXTENSIONS,
    CONFIG_NAMES,
    HugoSiteConfig,
    load_site_config,
)
from publisher.sources.hugo.urls import compile_permalinks
from publisher.sources.urls import site_base_url

CONFIG_FILES = "hugo.toml, config.toml (or .yaml, .json) or config/_default/"
RSS_PATH = "index.xml"
CATEGORY_RSS_PATH = f"{CATEGORY_TAXONOMY}/{{category}}/index.xml"
_TERM = "publishercategoryterm"
"""A term that every path rule keeps as it is, to find where a term goes in a path."""


def _site_table(site: HugoSiteConfig) -> dict[str, Any]:
    from publisher.render.text import plain_line

    language = site.language(site.default_content_language)
    table: dict[str, Any] = {"timezone": language.time_zone or "UTC"}
    title = plain_line(language.title or site.title)
    if title:
        table["title"] = title
    description = language.params.get("description") or site.description
    if isinstance(description, str) and plain_line(description):
        table["description"] = plain_line(description)
    base_url = site.base_url.strip()
    if base_url.startswith(("http://", "https://")):
        table["base_url"] = site_base_url(base_url)
    table["language"] = language_tags(site)[language.code]
    if site.author:
        table["author"] = plain_line(site.author)
    if site.author_email:
        table["author_email"] = site.author_email.strip()
    return table


def rss_paths(site: HugoSiteConfig) -> tuple[str, str]:
    """Where Hugo writes the home RSS and a category's, as [feeds] paths and category_paths
    write them: `index.xml` and `categories/{category}/index.xml`, or as the site's RSS
    `baseName` and `permalinks.categories` make them."""
    from publisher.sources.hugo.pages import site_urls  # the renderer's module: load it late

    rss = _mapping(_mapping(site.raw.get("outputformats")).get("rss"))
    name = f"{rss.get('basename') or 'index'}.xml"
    urls = dataclasses.replace(site_urls(site)[site.default_content_language], language_prefix="")
    term = urls.term_feed(CATEGORY_TAXONOMY, _TERM).removeprefix(urls.absolute(""))
    template = unquote(term).replace(_TERM, "{category}") if _TERM in term else CATEGORY_RSS_PATH
    return name, template.removesuffix(RSS_PATH) + name


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _feeds_table(site: HugoSiteConfig) -> dict[str, Any]:
    home, category = rss_paths(site)
    table: dict[str, Any] = {
        "limit": max(site.rss_limit, 0),
        "paths": {"rss": home},
        "category_paths": {"rss": category},
    }
    if len(site.languages) > 1:
        tags = language_tags(site)
        table["languages"] = {
            tags[language.code]: site.language_prefix(language.code) for language in site.languages
        }
        table["titles"] = {
            tags[language.code]: language.title for language in site.languages if language.title
        }
    return table


def site_settings(root: Path) -> SiteSettings:
    """[site] and [feeds] defaults from the Hugo site at `root`."""
    common: dict[str, Any] = {
        "origin": f"the Hugo config in {root}",
        "optional": frozenset({("site", "id_authority")}),
        "hints": {
            ("site", "base_url"): "set an absolute baseURL in the Hugo config, or base_url "
            "in [site]",
            ("site", "title"): "set `title` in the Hugo config, or title in [site]",
        },
    }
    if not is_hugo_site(root):
        problem = Problem(
            str(root),
            "no Hugo config: not the root of a Hugo site",
            f"set [source] path to the folder that holds {CONFIG_FILES}",
        )
        return SiteSettings(problems=(problem,), **common)
    try:
        site = load_site_config(root)
        compile_permalinks(site.permalinks)
        date_rules(site.frontmatter)
        defaults = {"site": _site_table(site), "feeds": _feeds_table(site)}
    except ConfigError as error:
        problems = error.problems or (Problem(str(root), error.message, error.hint),)
        return SiteSettings(problems=tuple(problems), **common)
    return SiteSettings(defaults=defaults, **common)


def is_hugo_site(folder: Path) -> bool:
    """Whether `folder` holds a Hugo config, as Hugo looks for one."""
    names = [f"{name}.{ext}" for name in CONFIG_NAMES for ext in CONFIG_EXTENSIONS]
    return (folder / "config" / "_default").is_dir() or any(
        (folder / name).is_file() for name in names
    )
