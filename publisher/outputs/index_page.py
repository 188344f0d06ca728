"""public/index.html: a plain subscribe page with feed autodiscovery, in the site's language."""

from __future__ import annotations

from collections.abc import Sequence

from publisher.core.config import Config
from publisher.core.models import Post
from publisher.outputs.feeds import FeedSpec, feed_links

INDEX_TEMPLATE = "site/index.html.j2"
LATEST_POSTS = 10

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "subscribe": "Subscribe",
        "feeds_intro": "Paste one of these addresses into your feed reader.",
        "email_label": "Get new posts by email",
        "email_button": "Subscribe by email",
        "latest": "Latest posts",
        "atom": "Atom",
        "rss": "RSS",
        "json": "JSON Feed",
    },
    "ko": {
        "subscribe": "구독하기",
        "feeds_intro": "아래 주소 중 하나를 피드 리더에 붙여 넣으세요.",
        "email_label": "새 글을 이메일로 받아 보세요",
        "email_button": "이메일로 구독하기",
        "latest": "최근 글",
        "atom": "Atom 피드",
        "rss": "RSS 피드",
        "json": "JSON 피드",
    },
}


def labels_for(language_tag: str) -> dict[str, str]:
    """The labels for a tag's primary language ('ko', 'ko-KR' → Korean); English otherwise."""
    return LABELS.get(language_tag.split("-", 1)[0].casefold(), LABELS["en"])


def index_page(config: Config, posts: Sequence[Post], specs: Sequence[FeedSpec]) -> bytes:
    from publisher.render.templating import environment, render

    env = environment(config.paths.templates, html=True)
    labels = labels_for(config.site.language)
    context = {
        "site": config.site,
        "labels": labels,
        "posts": list(posts[:LATEST_POSTS]),
        "feeds": feed_links(config, specs, labels),
        "subscribe_url": f"{config.web.base_url}/subscribe" if config.web.base_url else "",
    }
    return render(env, INDEX_TEMPLATE, context).encode("utf-8")
