"""RSS 2.0.

An item's `<description>` is HTML (readers, feedparser and the W3C validator read it
so), and a post's summary is plain text: it is written HTML-escaped, so a summary
about the `<script>` tag reads as such and hides nothing.
"""

from __future__ import annotations

from html import escape

from lxml import etree

from publisher.core.config import Config
from publisher.outputs.feeds import FeedSpec, home_url
from publisher.outputs.xml import ATOM_NS, MEDIA_NS, add_media, feedgen, parse, serialise


def render(config: Config, spec: FeedSpec) -> bytes:
    root = parse(feedgen(config, spec, "rss").rss_str(pretty=False))
    channel = root.find("channel")
    # feedgen makes the channel <link> the last link added (the self link); it is the site.
    channel.find("link").text = home_url(config, spec)
    if config.feeds.hub:
        self_link = channel.find(f"{{{ATOM_NS}}}link")
        self_link.addnext(etree.Element(f"{{{ATOM_NS}}}link", rel="hub", href=config.feeds.hub))
    for item, post in zip(channel.findall("item"), spec.posts, strict=True):
        if post.summary:
            item.find("description").text = escape(post.summary, quote=False)
        if post.author and item.find("author") is None:
            creator = etree.SubElement(item, "{http://purl.org/dc/elements/1.1/}creator")
            creator.text = post.author
            guid = item.find("guid")
            guid.addnext(creator)
        add_media(item, post)
    namespaces = {"dc": "http://purl.org/dc/elements/1.1/", "media": MEDIA_NS}
    etree.cleanup_namespaces(root, top_nsmap=namespaces)
    return serialise(root)
