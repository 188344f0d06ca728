"""Atom, RSS and JSON Feed from one model: the only importer of feedgen.

feedgen 1.0.0 builds the XML; we then correct what it gets wrong, on its lxml
tree, before serialising:
- entry <link> loses every attribute but href (lkiesow/python-feedgen#135);
- the RSS channel <link> is the last link added (our self link), not the site;
- it has no hub links, no entry xml:lang and no RSS dc:creator without email;
- it defaults every date to now and prepends entries, so every date is set
  explicitly and entries are appended.
Tests pin the bytes we emit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from feedgen.feed import FeedGenerator
from lxml import etree

from publisher.core.config import Config
from publisher.core.models import Category, Post

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
GENERATOR = "publisher"

MEDIA_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}
FORMAT_NAMES = {"atom": "Atom", "rss": "RSS", "json": "JSON Feed"}


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


def feed_links(config: Config, specs: Sequence[FeedSpec]) -> list[FeedLink]:
    return [
        FeedLink(
            f"{spec.title} ({FORMAT_NAMES[fmt]})",
            feed_url(config, spec, fmt),
            MEDIA_TYPES[fmt],
        )
        for spec in specs
        for fmt in config.feeds.formats
    ]


def _author(config: Config) -> str:
    return config.site.author or config.site.title


def _feedgen(config: Config, spec: FeedSpec, fmt: str) -> FeedGenerator:
    site = config.site
    generator = FeedGenerator()
    generator.load_extension("media")
    generator.id(spec.id)
    generator.title(spec.title)
    generator.subtitle(site.description or site.title)
    generator.description(site.description or site.title)
    generator.language(site.language)
    generator.link(href=f"{site.base_url}/", rel="alternate", type="text/html")
    generator.link(href=feed_url(config, spec, fmt), rel="self", type=MEDIA_TYPES[fmt])
    author = {"name": _author(config)}
    if site.author_email:
        author["email"] = site.author_email
    generator.author(author)
    generator.generator(GENERATOR)
    generator.updated(spec.updated)
    for post in spec.posts:
        entry = generator.add_entry(order="append")
        entry.id(post.id)
        entry.guid(post.id, permalink=False)
        entry.title(post.title)
        entry.link(href=post.url, rel="alternate")
        entry.published(post.published)
        entry.updated(post.updated)
        if post.author:
            entry.author({"name": post.author})
        if post.summary:
            entry.summary(post.summary)
        if config.feeds.full_content and post.content_html:
            entry.content(post.content_html, type="html")
        for category in post.categories:
            entry.category(term=category.name, label=category.name)
        if post.image:
            entry.media.thumbnail(url=post.image)
            entry.media.content(url=post.image, medium="image")
    return generator


def _serialise(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")) + b"\n"


def _entry_link(post: Post) -> etree._Element:
    link = etree.Element(f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=post.url)
    if post.lang:
        link.set("hreflang", post.lang)
    return link


def atom_bytes(config: Config, spec: FeedSpec) -> bytes:
    root = etree.fromstring(_feedgen(config, spec, "atom").atom_str(pretty=False))
    root.set(XML_LANG, config.site.language)
    if config.feeds.hub:
        hub = etree.Element(f"{{{ATOM_NS}}}link", rel="hub", href=config.feeds.hub)
        root.find(f"{{{ATOM_NS}}}link").addprevious(hub)
    entries = root.findall(f"{{{ATOM_NS}}}entry")
    for element, post in zip(entries, spec.posts, strict=True):
        broken = element.find(f"{{{ATOM_NS}}}link")
        broken.getparent().replace(broken, _entry_link(post))
        if post.lang:
            element.set(XML_LANG, post.lang)
    return _serialise(root)


def rss_bytes(config: Config, spec: FeedSpec) -> bytes:
    root = etree.fromstring(_feedgen(config, spec, "rss").rss_str(pretty=False))
    channel = root.find("channel")
    # feedgen makes the channel <link> the last link added (the self link); it is the site.
    channel.find("link").text = f"{config.site.base_url}/"
    if config.feeds.hub:
        self_link = channel.find(f"{{{ATOM_NS}}}link")
        self_link.addnext(etree.Element(f"{{{ATOM_NS}}}link", rel="hub", href=config.feeds.hub))
    for item, post in zip(channel.findall("item"), spec.posts, strict=True):
        if post.author and item.find("author") is None:
            creator = etree.SubElement(item, "{http://purl.org/dc/elements/1.1/}creator")
            creator.text = post.author
            guid = item.find("guid")
            guid.addnext(creator)
    etree.cleanup_namespaces(root, top_nsmap={"dc": "http://purl.org/dc/elements/1.1/"})
    return _serialise(root)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def json_feed_bytes(config: Config, spec: FeedSpec) -> bytes:
    site = config.site
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": f"{site.base_url}/",
        "feed_url": feed_url(config, spec, "json"),
        "description": site.description or site.title,
        "language": site.language,
        "authors": [{"name": _author(config)}],
    }
    if config.feeds.hub:
        feed["hubs"] = [{"type": "WebSub", "url": config.feeds.hub}]
    items = []
    for post in spec.posts:
        item: dict[str, object] = {"id": post.id, "url": post.url, "title": post.title}
        if config.feeds.full_content and post.content_html:
            item["content_html"] = post.content_html
        else:
            item["content_text"] = post.summary
        if post.summary:
            item["summary"] = post.summary
        if post.image:
            item["image"] = post.image
        item["date_published"] = _rfc3339(post.published)
        item["date_modified"] = _rfc3339(post.updated)
        if post.author:
            item["authors"] = [{"name": post.author}]
        tags = [c.name for c in post.categories] + [t for t in post.tags]
        if tags:
            item["tags"] = tags
        if post.lang:
            item["language"] = post.lang
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


RENDERERS = {"atom": atom_bytes, "rss": rss_bytes, "json": json_feed_bytes}


def render_feed(config: Config, spec: FeedSpec, fmt: str) -> bytes:
    return RENDERERS[fmt](config, spec)
