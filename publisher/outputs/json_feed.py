"""JSON Feed 1.1, written from the same model as Atom and RSS."""

from __future__ import annotations

import json
from datetime import datetime

from publisher.core.config import Config
from publisher.core.url_policy import web_url
from publisher.outputs.feeds import (
    FeedSpec,
    author_name,
    feed_language,
    feed_url,
    home_url,
    terms,
)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat()


def render(config: Config, spec: FeedSpec) -> bytes:
    site = config.site
    feed: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": spec.title,
        "home_page_url": home_url(config, spec),
        "feed_url": feed_url(config, spec, "json"),
        "description": site.description or site.title,
        "language": feed_language(config, spec),
        "authors": [{"name": author_name(config)}],
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
        if image := web_url(post.image):
            item["image"] = image
        item["date_published"] = _rfc3339(post.published)
        item["date_modified"] = _rfc3339(post.updated)
        if post.author:
            item["authors"] = [{"name": post.author}]
        tags = terms(post)
        if tags:
            item["tags"] = tags
        if post.lang:
            item["language"] = post.lang
        items.append(item)
    feed["items"] = items
    return (json.dumps(feed, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
