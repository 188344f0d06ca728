"""Which feeds a site has (the site's, one per category) and where each is served."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from publisher.core.config import Config
from publisher.core.models import Category, Post
from publisher.outputs import FEED_FORMATS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedSpec:
    """One feed, in every configured format."""

    title: str
    id: str
    directory: str
    """Where under the output folder: '' for the site, 'categories/<slug>/' for one category."""
    posts: tuple[Post, ...]
    category: Category | None = None

    def filename(self, fmt: str) -> str:
        return f"{self.directory}feed.{fmt}"

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
    specs = [FeedSpec(site.title, f"tag:{site.id_authority}:feed", "", tuple(posts[:limit]))]
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
            specs.append(
                FeedSpec(
                    title=f"{site.title} · {names[slug]}",
                    id=f"tag:{site.id_authority}:category/{slug}",
                    directory=f"categories/{slug}/",
                    posts=tuple(members[slug]),
                    category=Category(names[slug], slug),
                )
            )
    return specs


def feed_url(config: Config, spec: FeedSpec, fmt: str) -> str:
    return f"{config.site.base_url}/{quote(spec.filename(fmt))}"


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


def author_name(config: Config) -> str:
    """The feed's author: the site's default author, else the site itself."""
    return config.site.author or config.site.title
