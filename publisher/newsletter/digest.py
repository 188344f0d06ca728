"""A digest's HTML and text, rendered and inlined once for everyone: premailer's only home.

Rendering happens once per digest and is stored; per-subscriber values go in
afterwards by replacing fixed marker strings (see markers.py). Nothing here
composes or sends a message.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import cssutils
import premailer

from publisher.core import i18n
from publisher.core.config import Config
from publisher.core.errors import ConfigError, TemplateError
from publisher.core.models import Post
from publisher.core.url_policy import web_url
from publisher.newsletter.markers import EMAIL, GREETING, UNSUBSCRIBE_URL, defuse
from publisher.render.html import plain_text
from publisher.render.templating import environment, render
from publisher.render.text import plain_line, shorten

HTML_TEMPLATE = "digest.html.j2"
TEXT_TEMPLATE = "digest.txt.j2"
EMAIL_FOLDER = "email"

HTML_BUDGET = 88_000
"""Bytes of rendered HTML we allow; per-subscriber values must still fit under 90 KB
(Gmail clips messages at about 102 KB and hides the footer with the unsubscribe link)."""
EXCERPT_LENGTH = 300
PREHEADER_LENGTH = 140
IMAGE_WIDTH = 560
NAME_LENGTH = 80
SUBJECT_LENGTH = 250

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# cssutils logs through a stderr handler it installs at import, and warns about every
# vendor property (mso-*, -ms-*) an email needs. Route it to our logger, once: its warnings
# become debug detail (`-v`), its errors (broken CSS in a template) stay errors.
css_log = logging.getLogger("publisher.newsletter.digest.css")
css_log.addHandler(logging.NullHandler())


class _VendorPropertyNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return css_log.isEnabledFor(logging.DEBUG)


css_log.addFilter(_VendorPropertyNoise())
cssutils.log.setLog(css_log)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    """Inlined HTML with the per-subscriber markers still in it."""
    text: str
    post_ids: tuple[str, ...]


def _excerpt(post: Post) -> str:
    text = post.summary or plain_text(post.content_html)
    cut_short = text.rstrip().endswith("\ufffd")  # a source truncated mid-character
    text = plain_line(text.replace("\ufffd", ""))
    text = shorten(text, EXCERPT_LENGTH)
    if cut_short and not text.endswith("…"):
        text += "…"
    return text


def _post_view(post: Post, config: Config, language: str) -> dict[str, Any]:
    zone = config.site.zone
    image = web_url(post.image)
    return {
        "title": defuse(plain_line(post.title)),
        "url": defuse(web_url(post.url) or config.site.base_url + "/"),
        "image": defuse(image) if image else None,
        "image_width": IMAGE_WIDTH,
        "excerpt": defuse(_excerpt(post)),
        "date": i18n.long_date(post.published.astimezone(zone), language),
        "category": defuse(plain_line(post.categories[0].name)) if post.categories else "",
        "author": defuse(plain_line(post.author)),
    }


def _subject(config: Config, posts: Sequence[Post], now: datetime, language: str) -> str:
    template = config.digest.subject
    values = {
        "site": plain_line(config.site.title),
        "title": plain_line(posts[0].title) if posts else "",
        "count": len(posts),
        "date": i18n.long_date(now.astimezone(config.site.zone), language),
    }
    where = f"{config.file.name} [digest] subject"
    hint = "use {site}, {title}, {count} and {date}; write {{ and }} for literal braces"
    try:
        for _, field, _, _ in string.Formatter().parse(template):
            if field is not None and field not in values:
                raise ConfigError(f"{where}: unknown placeholder {{{field}}}", hint=hint)
        subject = template.format_map(values)
    except (ValueError, IndexError, KeyError) as e:
        raise ConfigError(f"{where}: {e} in {template!r}", hint=hint) from e
    return shorten(plain_line(_CONTROLS.sub(" ", subject)), SUBJECT_LENGTH)


def _labels(config: Config, language: str, count: int) -> dict[str, str]:
    words = i18n.labels(language, "digest")
    site = defuse(plain_line(config.site.title))
    intro = words["intro_one"] if count == 1 else words["intro_many"]
    return {
        **words,
        "intro": intro.format(site=site, count=count),
        "why": words["why"].format(email=EMAIL, site=site, url=config.site.base_url),
    }


def _context(
    config: Config, posts: Sequence[Post], views: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    language = config.site.language
    return {
        "lang": defuse(config.site.language),
        "site": {
            "title": defuse(plain_line(config.site.title)),
            "url": defuse(config.site.base_url + "/"),
            "description": defuse(plain_line(config.site.description)),
        },
        "subject": defuse(_subject(config, posts, now, language)),
        "date": i18n.long_date(now.astimezone(config.site.zone), language),
        "preheader": shorten(views[0]["excerpt"], PREHEADER_LENGTH) if views else "",
        "posts": views,
        "labels": _labels(config, language, len(views)),
        "contact": defuse(plain_line(config.mail.contact)),
        "greeting": GREETING,
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "email": EMAIL,
    }


def inline_css(document: str) -> str:
    """The CSS of the <style> block inlined; @media rules stay in a <style>, still !important."""
    inliner = premailer.Premailer(
        base_url=None,
        disable_link_rewrites=True,
        allow_network=False,
        allow_loading_external_files=False,
        keep_style_tags=False,
        strip_important=False,  # or the @media rules could never beat the inline styles
        remove_classes=False,
        cache_css_parsing=False,  # premailer mutates parsed @media rules: no shared cache
        disable_basic_attributes=["height"],  # height:auto would become height="auto"
        exclude_pseudoclasses=True,
        disable_validation=True,
    )
    return str(inliner.transform(document, pretty_print=False))


def _render(
    config: Config, posts: Sequence[Post], views: list[dict[str, Any]], now: datetime
) -> RenderedDigest:
    folder = config.paths.templates
    context = _context(config, posts, views, now)
    html_part = render(environment(folder, html=True), f"{EMAIL_FOLDER}/{HTML_TEMPLATE}", context)
    text_part = render(environment(folder, html=False), f"{EMAIL_FOLDER}/{TEXT_TEMPLATE}", context)
    return RenderedDigest(
        context["subject"], inline_css(html_part), text_part, tuple(post.id for post in posts)
    )


def _fits(rendered: RenderedDigest) -> bool:
    return len(rendered.html.encode("utf-8")) <= HTML_BUDGET


def render_digest(config: Config, posts: Sequence[Post], *, now: datetime) -> RenderedDigest:
    """Render once for everyone. When the HTML would pass the size budget, the oldest posts
    are left for the next digest (they are not in `post_ids`)."""
    if not posts:
        raise ValueError("a digest needs at least one post")
    language = config.site.language
    views = [_post_view(post, config, language) for post in posts]
    rendered = _render(config, posts, views, now)
    if _fits(rendered):
        return rendered
    best: RenderedDigest | None = None
    low, high = 1, len(posts) - 1  # the size grows with the number of posts: bisect it
    while low <= high:
        middle = (low + high) // 2
        attempt = _render(config, posts[:middle], views[:middle], now)
        if _fits(attempt):
            best, low = attempt, middle + 1
        else:
            high = middle - 1
    if best is None:
        size = len(_render(config, posts[:1], views[:1], now).html.encode("utf-8"))
        raise TemplateError(
            f"the digest HTML is {size} bytes even with one post; the limit is {HTML_BUDGET}",
            hint=f"shorten templates/{EMAIL_FOLDER}/{HTML_TEMPLATE}; Gmail clips mail over ~102 KB",
        )
    return best
