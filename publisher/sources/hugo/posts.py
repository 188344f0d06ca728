"""A Hugo page as a post: the mapping from `HugoPage` to `ParsedPost`.

The id and the URL are the page's permalink (Hugo's RSS `guid` is its link); `published`
is `.Date` (what Hugo's RSS gives as `pubDate`), `updated` is `.Lastmod`; the page is
published from its `.PublishDate` until its `.ExpiryDate`, as Hugo builds it. Terms of the
`categories` taxonomy are categories (their feeds at Hugo's term paths); every other
taxonomy's terms are tags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property
from urllib.parse import urlsplit

from publisher.core.models import Category, DateSource
from publisher.render.text import plain_line
from publisher.sources.hugo.dates import FILE_MOD_TIME, FILENAME
from publisher.sources.hugo.pages import HugoPage, build_option
from publisher.sources.hugo.site_config import HugoSiteConfig
from publisher.sources.hugo.urls import (
    GO_ZERO_TIME,
    PathRules,
    SiteURLs,
    make_path_sanitized,
    url_escape,
)
from publisher.sources.records import ParsedPost, category

CATEGORY_TAXONOMY = "categories"
"""The taxonomy (by its plural) whose terms are categories, with feeds of their own."""


@dataclass(frozen=True)
class PostRules:
    """What mapping a page needs besides the page."""

    site: HugoSiteConfig
    urls: Mapping[str, SiteURLs]
    author: str
    """[site] author: a page's author when it names none."""
    all_pages: bool = False
    """[source] pages = "all": the posts are Hugo's home RSS, not its main sections' RSS."""

    @property
    def path_rules(self) -> PathRules:
        return PathRules(self.site.disable_path_to_lower, self.site.remove_path_accents)

    @cached_property
    def tags(self) -> dict[str, str]:
        """Each language's tag, when the site has more than one (see `language_tags`)."""
        return language_tags(self.site) if len(self.site.languages) > 1 else {}


def language_tags(site: HugoSiteConfig) -> dict[str, str]:
    """Language key → its tag as feeds write it: its `languageCode` (on a multilingual site,
    when that is a tag of the same language: `ko-KR` for `ko`, but not a code inherited from
    the site, `en-us` for `fr`), else the key; never the same tag for two languages."""
    tags: dict[str, str] = {}
    alone = len(site.languages) == 1
    for language in site.languages:
        code = language.language_code.replace("_", "-").strip()
        same = alone or code.split("-")[0].lower() == language.code.split("-")[0].lower()
        tag = code if same and _looks_like_a_tag(code) else language.code
        tags[language.code] = language.code if tag in tags.values() else tag
    return tags


def _looks_like_a_tag(code: str) -> bool:
    parts = code.split("-")
    return (
        2 <= len(parts[0]) <= 3
        and parts[0].isascii()
        and parts[0].isalpha()
        and all(0 < len(part) <= 8 and part.isascii() and part.isalnum() for part in parts[1:])
    )


def parsed_post(page: HugoPage, rules: PostRules, reader: str) -> ParsedPost:
    dates, branch = page.dates, page.branch
    published = _fixed(dates.date)
    publish_from = _fixed(dates.publish_date) if dates.publish_date != dates.date else None
    if dates.publish_date is None and published is not None:
        publish_from = GO_ZERO_TIME  # Hugo holds back only what has a future publish date
    start = publish_from or published
    if branch.publish_date is not None and (start is None or branch.publish_date > start):
        publish_from = _fixed(branch.publish_date)  # its section is published later
    expires = _fixed(dates.expiry_date)
    if branch.expiry_date is not None and (expires is None or branch.expiry_date < expires):
        expires = _fixed(branch.expiry_date)  # its section expires first
    categories, tags = _terms(page, rules.path_rules)
    return ParsedPost(
        title=plain_line(page.title) or plain_line(page.file.content_base_name),
        id=page.permalink,
        date_source=_date_source(dates.date_handler),
        published=published,
        updated=_fixed(dates.lastmod),
        categories=categories,
        tags=tags,
        image=_image(page, rules),
        author=plain_line(page.authors[0]) if page.authors else rules.author,
        lang=rules.tags.get(page.lang),
        slug=page.facts.slug or page.file.content_base_name,
        url=page.permalink,
        hidden=_hidden(page, rules.all_pages),
        reader=reader,
        publish_from=publish_from,
        expires=None if rules.site.build_expired else expires,
    )


def _fixed(moment: datetime | None) -> datetime | None:
    """The moment with its offset alone: a page's zone is its language's, which may not be
    [site] timezone, the one zone a cached post's moments are read back in."""
    if moment is None or moment.utcoffset() is None:
        return moment
    return moment.astimezone(timezone(moment.utcoffset() or timedelta(0)))


def _hidden(page: HugoPage, all_pages: bool) -> str | None:
    if page.draft:
        return "draft"
    if page.branch.draft:
        return f"in a draft section ({page.branch.draft})"
    return unlisted(page, all_pages)


def unlisted(page: HugoPage, all_pages: bool) -> str | None:
    """Why Hugo's RSS leaves the page out by its build options, or None: a headless bundle,
    `_build.render = never` (it has no URL), `_build.list = never`, and `list = local`
    (listed in its section's RSS only) when the posts are the home RSS's."""
    if page.headless:
        return "a headless bundle (Hugo neither renders nor lists it)"
    render, listed = build_option(page.params, "render"), build_option(page.params, "list")
    if render == "never":
        return "_build.render = never (Hugo gives it no URL)"
    if listed == "never" or (listed == "local" and all_pages):
        return f"_build.list = {listed} (not in Hugo's RSS)"
    return None


def _date_source(handler: str) -> DateSource:
    if not handler:
        return DateSource.FIRST_SEEN
    if handler == FILENAME:
        return DateSource.FILENAME
    if handler == FILE_MOD_TIME:
        return DateSource.FILE_TIME
    return DateSource.FRONT_MATTER


def _terms(page: HugoPage, rules: PathRules) -> tuple[tuple[Category, ...], tuple[str, ...]]:
    categories: dict[str, Category] = {}
    tags: list[str] = []
    for plural, terms in page.terms.items():
        for term in terms:
            name = plain_line(term)
            if not name:
                continue
            slug = term_slug(term, rules)
            if plural.lower() == CATEGORY_TAXONOMY and slug:
                categories.setdefault(slug, category(name, slug))
            elif name not in tags:
                tags.append(name)
    return tuple(categories.values()), tuple(tags)


def term_slug(term: str, rules: PathRules) -> str:
    """The folder of a term's feeds as Hugo names it (its key: `MakePathSanitized`), never
    leaving the feeds' folder: empty, `.` and `..` parts are dropped."""
    path = make_path_sanitized(term, rules).replace("\\", "/")
    return "/".join(part for part in path.split("/") if part not in ("", ".", ".."))


def _image(page: HugoPage, rules: PostRules) -> str | None:
    """The page's first `images` entry (as Hugo's Open Graph template takes it), absolute."""
    if not page.images:
        return None
    image = page.images[0].strip()
    if urlsplit(image).scheme in ("http", "https"):
        return image
    if urlsplit(image).scheme or image.startswith("//") or not image:
        return None
    site = rules.urls[page.lang]
    if image.startswith("/"):
        parts = urlsplit(site.base_url)
        return f"{parts.scheme}://{parts.netloc}{url_escape(image)}"
    if page.file.leaf_bundle:  # a relative path in a bundle names one of its resources
        return site.resource_url(page.facts, image.removeprefix("./"))
    return site.absolute(url_escape(image))
