"""Which feeds a site has (the site's, one per category) and where each is served."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from publisher.core.config import Config
from publisher.core.models import Category, Post
from publisher.outputs import FEED_FORMATS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


SITE_FEED_PATH = "feed.{format}"
CATEGORY_FEED_PATH = "categories/{category}/feed.{format}"


def feed_path(config: Config, fmt: str, category_slug: str | None = None) -> str:
    """Where under the output folder a feed is written: [feeds] paths and category_paths,
    else feed.<format> and categories/<slug>/feed.<format>."""
    if category_slug is None:
        return config.feeds.paths.get(fmt) or SITE_FEED_PATH.format(format=fmt)
    template = config.feeds.category_paths.get(fmt) or CATEGORY_FEED_PATH.replace("{format}", fmt)
    return template.replace("{category}", category_slug)


@dataclass(frozen=True)
class FeedSpec:
    """One feed, in every configured format."""

    title: str
    id: str
    posts: tuple[Post, ...]
    category: Category | None = None
    paths: Mapping[str, str] = field(default_factory=dict)
    """Format → where under the output folder."""

    def filename(self, fmt: str) -> str:
        return self.paths[fmt]

    @property
    def updated(self) -> datetime:
        return max((post.updated for post in self.posts), default=EPOCH)


@dataclass(frozen=True)
class FeedLink:
    title: str
    url: str
    media_type: str


def feed_specs(config: Config, posts: Sequence[Post]) -> list[FeedSpec]:
    """The site feed, then one feed per category (ordered by slug)."""
    site = config.site
    limit = config.feeds.limit
    site_paths = {fmt: feed_path(config, fmt) for fmt in config.feeds.formats}
    specs = [
        FeedSpec(
            site.title,
            _feed_id(config, "feed", site_paths),
            tuple(posts[:limit]),
            paths=site_paths,
        )
    ]
    if config.feeds.categories:
        names: dict[str, str] = {}
        members: dict[str, list[Post]] = {}
        for post in posts:
            for category in post.categories:
                slug = category.slug
                names[slug] = min(names.get(slug, category.name), category.name)
                newest = members.setdefault(slug, [])
                if len(newest) < limit and (not newest or newest[-1] is not post):
                    newest.append(post)
        for slug in sorted(names):
            paths = {fmt: feed_path(config, fmt, slug) for fmt in config.feeds.formats}
            specs.append(
                FeedSpec(
                    title=f"{site.title} · {names[slug]}",
                    id=_feed_id(config, f"category/{slug}", paths),
                    posts=tuple(members[slug]),
                    category=Category(names[slug], slug),
                    paths=paths,
                )
            )
    return specs


def _feed_id(config: Config, specific: str, paths: Mapping[str, str]) -> str:
    """A tag: URI from [site] id_authority; without one, the feed's own URL (as jekyll-feed)."""
    if config.site.id_authority:
        return f"tag:{config.site.id_authority}:{specific}"
    return _url(config, paths[config.feeds.formats[0]])


def _url(config: Config, path: str) -> str:
    return f"{config.site.base_url}/{quote(path)}"


def feed_url(config: Config, spec: FeedSpec, fmt: str) -> str:
    return _url(config, spec.filename(fmt))


def feed_links(
    config: Config, specs: Sequence[FeedSpec], labels: Mapping[str, str] | None = None
) -> list[FeedLink]:
    """A link to every feed in every configured format, labelled "<title> (<format>)"."""
    return [
        FeedLink(
            f"{spec.title} ({(labels or {}).get(fmt) or FEED_FORMATS[fmt].label})",
            feed_url(config, spec, fmt),
            FEED_FORMATS[fmt].media_type,
        )
        for spec in specs
        for fmt in config.feeds.formats
    ]


def terms(post: Post) -> list[str]:
    """A post's categories, then its tags: each a <category> in Atom and RSS (as
    jekyll-feed writes them), each a tag in JSON Feed; the same term only once."""
    return list(dict.fromkeys([c.name for c in post.categories] + list(post.tags)))


def author_name(config: Config) -> str:
    """The feed's author: the site's default author, else the site itself."""
    return config.site.author or config.site.title
