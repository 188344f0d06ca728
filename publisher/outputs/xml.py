"""Atom and RSS through feedgen: its only importer.

feedgen 1.0.0 builds the XML; atom.py and rss.py then correct what it gets
wrong, on its lxml tree, before serialising:
- entry <link> loses every attribute but href (lkiesow/python-feedgen#135);
- the RSS channel <link> is the last link added (our self link), not the site;
- it has no hub links, no entry xml:lang and no RSS dc:creator without email;
- it defaults every date to now and prepends entries, so every date is set
  explicitly and entries are appended;
- its media extension wraps a single media:content in a media:group, which the W3C
  validator refuses, so media:thumbnail and media:content are written here instead.
Tests pin the bytes we emit.
"""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from lxml import etree

from publisher.core.config import Config
from publisher.core.models import Post
from publisher.core.url_policy import web_url
from publisher.outputs import FEED_FORMATS
from publisher.outputs.feeds import (
    FeedSpec,
    author_name,
    feed_language,
    feed_url,
    home_url,
    terms,
)

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_NS = "http://search.yahoo.com/mrss/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
GENERATOR = "publisher"


def feedgen(config: Config, spec: FeedSpec, fmt: str) -> FeedGenerator:
    site = config.site
    generator = FeedGenerator()
    generator.id(spec.id)
    generator.title(spec.title)
    generator.subtitle(site.description or site.title)
    generator.description(site.description or site.title)
    generator.language(feed_language(config, spec))
    generator.link(href=home_url(config, spec), rel="alternate", type="text/html")
    generator.link(href=feed_url(config, spec, fmt), rel="self", type=FEED_FORMATS[fmt].media_type)
    author = {"name": author_name(config)}
    if site.author_email:
        author["email"] = site.author_email
    generator.author(author)
    generator.generator(GENERATOR)
    generator.updated(spec.updated)
    for post in spec.posts:
        entry = generator.add_entry(order="append")
        entry.id(post.id)
        entry.guid(post.id, permalink=post.id == post.url)
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
        for term in terms(post):
            entry.category(term=term, label=term)
    return generator


def add_media(entry: etree._Element, post: Post) -> None:
    """The post's image as media:thumbnail and media:content, without a media:group; only an
    image URL the URL policy allows."""
    if image := web_url(post.image):
        etree.SubElement(entry, f"{{{MEDIA_NS}}}thumbnail", url=image)
        etree.SubElement(entry, f"{{{MEDIA_NS}}}content", url=image, medium="image")


def parse(data: bytes) -> etree._Element:
    """feedgen's output read back for corrections; "huge" so a post's text over 10 MB stays
    whole (libxml2 refuses longer text nodes without it). Our own bytes, never a reader's."""
    return etree.fromstring(data, etree.XMLParser(huge_tree=True, resolve_entities=False))


def serialise(root: etree._Element) -> bytes:
    etree.indent(root, space="  ")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")) + b"\n"
