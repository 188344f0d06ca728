"""public/index.html: a plain subscribe page with feed autodiscovery."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.config import Config
from publisher.feeds import FeedSpec, feed_links
from publisher.models import Post
from publisher.templating import environment, render

INDEX_TEMPLATE = "site/index.html.j2"
LATEST_POSTS = 10


def index_page(config: Config, posts: Sequence[Post], specs: Sequence[FeedSpec]) -> bytes:
    env = environment(config.paths.templates, html=True)
    context = {
        "site": config.site,
        "posts": list(posts[:LATEST_POSTS]),
        "feeds": feed_links(config, specs),
        "subscribe_url": f"{config.web.base_url}/subscribe" if config.web.base_url else "",
    }
    return render(env, INDEX_TEMPLATE, context).encode("utf-8")
