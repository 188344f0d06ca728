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


def feed_path(config: Config, fmt: str, category_slug: str | None = None, folder: str = "") -> str:
    """Where under the output folder a feed is written: [feeds] paths and category_paths,
    else feed.<format> and categories/<slug>/feed.<format>; under a language's folder."""
    if category_slug is None:
        path = config.feeds.paths.get(fmt) or SITE_FEED_PATH.format(format=fmt)
    else:
        template = config.feeds.category_paths.get(fmt) or CATEGORY_FEED_PATH.replace(
            "{format}", fmt
        )
        path = template.replace("{category}", category_slug)
    return f"{folder}/{path}" if folder else path


@dataclass(frozen=True)
class FeedSet:
    """The site feed and category feeds of one language ([feeds] languages)."""

    language: str
    folder: str
    """Under the output folder, without slashes at the ends; "" for the top."""
    title: str


def feed_sets(config: Config) -> list[FeedSet]:
    """The sets of feeds: [site] language's first, then each other language of [feeds]
    languages; one set when that table is empty."""
    site, feeds = config.site, config.feeds
    languages = {site.language: feeds.languages.get(site.language, ""), **feeds.languages}
    return [
        FeedSet(tag, folder.strip("/"), feeds.titles.get(tag) or site.title)
        for tag, folder in languages.items()
    ]


def _by_set(config: Config, posts: Sequence[Post]) -> list[tuple[FeedSet, list[Post]]]:
    """Each set with its posts: a post is in its language's set, else in the site's."""
    sets = feed_sets(config)
    members: dict[str, list[Post]] = {each.language: [] for each in sets}
    for post in posts:
        members[post.lang if post.lang in members else sets[0].language].append(post)
    return [(each, members[each.language]) for each in sets]


@dataclass(frozen=True)
class FeedSpec:
    """One feed, in every configured format."""

    title: str
    id: str
    posts: tuple[Post, ...]
    category: Category | None = None
    paths: Mapping[str, str] = field(default_factory=dict)
    """Format → where under the output folder."""
    language: str = ""
    """Its language tag; "" for [site] language."""
    folder: str = ""
    """The folder of its language's set ([feeds] languages); "" for the top."""

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
    """Per language set ([feeds] languages): the site feed, then one feed per category
    (ordered by slug)."""
    specs: list[FeedSpec] = []
    for each, members in _by_set(config, posts):
        specs.extend(_set_specs(config, each, members, top=not specs))
    return specs


def _set_specs(config: Config, each: FeedSet, posts: Sequence[Post], top: bool) -> list[FeedSpec]:
    limit = config.feeds.limit or None
    formats = config.feeds.formats
    prefix = "" if top else f"{each.folder or each.language}/"
    site_paths = {fmt: feed_path(config, fmt, folder=each.folder) for fmt in formats}
    language = "" if top else each.language
    specs = [
        FeedSpec(
            each.title,
            _feed_id(config, f"{prefix}feed", site_paths),
            tuple(posts[:limit]),
            paths=site_paths,
            language=language,
            folder=each.folder,
        )
    ]
    if not config.feeds.categories:
        return specs
    names: dict[str, str] = {}
    members: dict[str, list[Post]] = {}
    for post in posts:
        for category in post.categories:
            slug = category.slug
            names[slug] = min(names.get(slug, category.name), category.name)
            newest = members.setdefault(slug, [])
            room = limit is None or len(newest) < limit
            if room and (not newest or newest[-1] is not post):
                newest.append(post)
    wanted = set(config.feeds.category_feeds)
    for slug in sorted(names):
        if wanted and not wanted & {slug, names[slug]}:
            continue
        paths = {fmt: feed_path(config, fmt, slug, each.folder) for fmt in formats}
        specs.append(
            FeedSpec(
                title=f"{each.title} · {names[slug]}",
                id=_feed_id(config, f"{prefix}category/{slug}", paths),
                posts=tuple(members[slug]),
                category=Category(names[slug], slug),
                paths=paths,
                language=language,
                folder=each.folder,
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


def home_url(config: Config, spec: FeedSpec) -> str:
    """The page a feed is the feed of: the site, or its language's home ([feeds] languages)."""
    return (
        f"{config.site.base_url}/{quote(spec.folder)}/"
        if spec.folder
        else f"{config.site.base_url}/"
    )


def feed_language(config: Config, spec: FeedSpec) -> str:
    return spec.language or config.site.language


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
