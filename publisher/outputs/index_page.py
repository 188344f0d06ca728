"""public/index.html: a plain subscribe page with feed autodiscovery, in the site's language."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.core import i18n
from publisher.core.config import Config
from publisher.core.models import Post, category_names
from publisher.outputs.feeds import FeedSpec, feed_links

INDEX_TEMPLATE = "site/index.html.j2"
LATEST_POSTS = 10


def index_page(
    config: Config, posts: Sequence[Post], specs: Sequence[FeedSpec], *, archive_url: str = ""
) -> bytes:
    """The page; `archive_url`, when given, is linked as the newsletter's past issues."""
    from publisher.render.templating import environment, render

    env = environment(config.paths.templates, html=True)
    labels = i18n.labels(config.site.language, "index")
    context = {
        "site": config.site,
        "labels": labels,
        "posts": list(posts[:LATEST_POSTS]),
        "feeds": feed_links(config, specs, labels),
        "subscribe_url": f"{config.web.base_url}/subscribe" if config.web.base_url else "",
        # The same choices as the endpoint's own form, which keeps them on its way to confirm.
        "categories": dict(sorted(category_names(posts).items())),
        "cadences": config.digest.cadences,
        "archive_url": archive_url,
    }
    return render(env, INDEX_TEMPLATE, context).encode("utf-8")
