"""Atom 1.0 (RFC 4287)."""

from __future__ import annotations

from lxml import etree

from publisher.core.config import Config
from publisher.core.models import Post
from publisher.outputs.feeds import FeedSpec, feed_language
from publisher.outputs.xml import ATOM_NS, MEDIA_NS, XML_LANG, add_media, feedgen, parse, serialise


def _entry_link(post: Post) -> etree._Element:
    link = etree.Element(f"{{{ATOM_NS}}}link", rel="alternate", type="text/html", href=post.url)
    if post.lang:
        link.set("hreflang", post.lang)
    return link


def render(config: Config, spec: FeedSpec) -> bytes:
    root = parse(feedgen(config, spec, "atom").atom_str(pretty=False))
    root.set(XML_LANG, feed_language(config, spec))
    if config.feeds.hub:
        hub = etree.Element(f"{{{ATOM_NS}}}link", rel="hub", href=config.feeds.hub)
        root.find(f"{{{ATOM_NS}}}link").addprevious(hub)
    entries = root.findall(f"{{{ATOM_NS}}}entry")
    for element, post in zip(entries, spec.posts, strict=True):
        broken = element.find(f"{{{ATOM_NS}}}link")
        broken.getparent().replace(broken, _entry_link(post))
        if post.lang:
            element.set(XML_LANG, post.lang)
        add_media(element, post)
    etree.cleanup_namespaces(root, top_nsmap={"media": MEDIA_NS})
    return serialise(root)
