"""An issue's HTML and text, rendered and inlined once for everyone: premailer's only home.

An issue is rendered once per (cadence, set of posts) and stored. Each reader's
copy is cut from it by string work (cutting.py): their posts, headlines, intro,
preheader and subject; their own values go in last by replacing fixed marker
strings (markers.py). Nothing here composes or sends a message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import cssutils
import premailer
from markupsafe import Markup

from publisher.core import i18n
from publisher.core.config import Config
from publisher.core.errors import ConfigError, TemplateError
from publisher.core.models import Post
from publisher.core.url_policy import web_url
from publisher.newsletter.cutting import Block, Cutter
from publisher.newsletter.markers import (
    EMAIL,
    GREETING,
    INTRO,
    PREFERENCES_URL,
    PREHEADER,
    SUBJECT,
    UNSUBSCRIBE_URL,
    block_bound,
    defuse,
    fill,
    fill_cut,
)
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


@dataclass(frozen=True)
class IssuePost:
    """What an issue says of one post: enough to cut a reader's copy and to prove what was sent."""

    id: str
    title: str
    """Plain text, for the subject."""
    excerpt: str
    """Plain text, for the preheader."""
    sha256: str
    """Of everything the issue shows of the post, so a later edit can be told apart."""

    def as_json(self) -> dict[str, str]:
        return {"id": self.id, "title": self.title, "excerpt": self.excerpt, "sha256": self.sha256}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> IssuePost:
        return cls(data["id"], data["title"], data["excerpt"], data["sha256"])


@dataclass(frozen=True)
class RenderedIssue:
    html: str
    """Inlined HTML with every marker in it: blocks, per-cut values, per-reader values."""
    text: str
    posts: tuple[IssuePost, ...]
    """Newest first; a cut names posts by their position here."""
    created_at: datetime


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


def _issue_post(post: Post, view: dict[str, Any]) -> IssuePost:
    shown = json.dumps({"id": post.id, **view}, ensure_ascii=False, sort_keys=True)
    sha256 = hashlib.sha256(shown.encode("utf-8")).hexdigest()
    return IssuePost(post.id, view["title"], view["excerpt"], sha256)


def subject_line(config: Config, title: str, count: int, when: datetime) -> str:
    """[digest] subject with {site}, {title} (the reader's newest post), {count} and {date}."""
    template = config.digest.subject
    values = {
        "site": plain_line(config.site.title),
        "title": plain_line(title),
        "count": count,
        "date": i18n.long_date(when.astimezone(config.site.zone), config.site.language),
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


def intro_sentence(config: Config, count: int) -> str:
    words = i18n.labels(config.site.language, "digest")
    intro = words["intro_one"] if count == 1 else words["intro_many"]
    return intro.format(site=defuse(plain_line(config.site.title)), count=count)


def _labels(config: Config, language: str) -> dict[str, str]:
    words = i18n.labels(language, "digest")
    site = defuse(plain_line(config.site.title))
    return {
        **words,
        "intro": INTRO,
        "why": words["why"].format(email=EMAIL, site=site, url=config.site.base_url),
        "archive_note": words["archive_note"].format(site=site),
    }


def subscribe_page(config: Config) -> str:
    """Where a reader of the web copy can subscribe: the endpoint's form, else the site."""
    return f"{config.web.base_url}/subscribe" if config.web.base_url else config.site.base_url + "/"


def _bounds(kind: str, number: int | None, html: bool) -> tuple[str, str]:
    begin, end = block_bound("begin", kind, number), block_bound("end", kind, number)
    if html:
        # Our own fixed marker text (no value from a post), so it may skip escaping.
        return Markup(f"<!--{begin}-->"), Markup(f"<!--{end}-->")  # noqa: S704
    return begin, end


def _with_bounds(views: list[dict[str, Any]], html: bool) -> list[dict[str, Any]]:
    marked = []
    for position, view in enumerate(views):
        begin, end = _bounds("post", position, html)
        headline_begin, headline_end = _bounds("headline", position, html)
        marked.append(
            {
                **view,
                "begin": begin,
                "end": end,
                "headline_begin": headline_begin,
                "headline_end": headline_end,
            }
        )
    return marked


def _blocks(html: bool) -> dict[str, str]:
    blocks = {}
    for kind in ("toc", "mail", "web"):
        blocks[f"{kind}_begin"], blocks[f"{kind}_end"] = _bounds(kind, None, html)
    return blocks


def _context(
    config: Config, views: list[dict[str, Any]], now: datetime, archive_url: str, html: bool
) -> dict[str, Any]:
    language = config.site.language
    return {
        "lang": defuse(config.site.language),
        "site": {
            "title": defuse(plain_line(config.site.title)),
            "url": defuse(config.site.base_url + "/"),
            "description": defuse(plain_line(config.site.description)),
        },
        "subject": SUBJECT,
        "date": i18n.long_date(now.astimezone(config.site.zone), language),
        "preheader": PREHEADER,
        "posts": _with_bounds(views, html),
        "blocks": _blocks(html),
        "labels": _labels(config, language),
        "contact": defuse(plain_line(config.mail.contact)),
        "greeting": GREETING,
        "unsubscribe_url": UNSUBSCRIBE_URL,
        "preferences_url": PREFERENCES_URL if config.web.base_url else "",
        "archive_url": defuse(archive_url),
        "subscribe_url": defuse(subscribe_page(config)),
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


def render_issue(
    config: Config, posts: Sequence[Post], *, now: datetime, archive_url: str = ""
) -> RenderedIssue:
    """Render and inline an issue once, with every post marked; `archive_url` is its web copy."""
    if not posts:
        raise ValueError("an issue needs at least one post")
    language = config.site.language
    views = [_post_view(post, config, language) for post in posts]
    folder = config.paths.templates
    html_part = render(
        environment(folder, html=True),
        f"{EMAIL_FOLDER}/{HTML_TEMPLATE}",
        _context(config, views, now, archive_url, html=True),
    )
    text_part = render(
        environment(folder, html=False),
        f"{EMAIL_FOLDER}/{TEXT_TEMPLATE}",
        _context(config, views, now, archive_url, html=False),
    )
    issue_posts = tuple(_issue_post(p, v) for p, v in zip(posts, views, strict=True))
    return RenderedIssue(inline_css(html_part), text_part, issue_posts, now)


class Issue:
    """One rendered issue, and the copies cut from it: a reader's, or the web's."""

    def __init__(self, config: Config, rendered: RenderedIssue) -> None:
        self.config = config
        self.rendered = rendered
        self.posts = rendered.posts

    @cached_property
    def cutter(self) -> Cutter:
        return Cutter(
            self.rendered.html,
            self.rendered.text,
            html_name=f"templates/{EMAIL_FOLDER}/{HTML_TEMPLATE}",
            text_name=f"templates/{EMAIL_FOLDER}/{TEXT_TEMPLATE}",
        )

    def _cut_values(self, positions: Sequence[int]) -> dict[str, str]:
        newest = self.posts[positions[0]]
        return {
            "subject": subject_line(
                self.config, newest.title, len(positions), self.rendered.created_at
            ),
            "intro": intro_sentence(self.config, len(positions)),
            "preheader": shorten(newest.excerpt, PREHEADER_LENGTH),
        }

    def _copy(self, positions: Sequence[int], audience: str) -> tuple[str, str, dict[str, str]]:
        wanted = frozenset(positions)
        if not wanted or not wanted <= frozenset(range(len(self.posts))):
            raise ValueError(f"positions {positions!r} are not posts of this issue")
        must_drop = frozenset(
            (kind, position)
            for position in range(len(self.posts))
            if position not in wanted
            for kind in ("post", "headline")
        )

        def keep(block: Block) -> bool:
            kind, number = block
            if kind in ("post", "headline"):
                return number in wanted
            if kind == "toc":
                return len(wanted) > 1
            return kind == audience

        html, text = self.cutter.cut(keep, must_drop=must_drop)
        return html, text, self._cut_values(sorted(wanted))

    def cut(self, positions: Sequence[int]) -> RenderedDigest:
        """A reader's copy holding the posts at `positions`, per-reader markers still in."""
        html, text, values = self._copy(positions, "mail")
        return RenderedDigest(
            values["subject"],
            fill_cut(html, values, escape=True),
            fill_cut(text, values, escape=False),
            tuple(self.posts[i].id for i in sorted(positions)),
        )

    def fitting(self, positions: Iterable[int]) -> tuple[int, ...]:
        """`positions` less the oldest posts that would take the copy past HTML_BUDGET;
        those wait for the reader's next digest."""
        kept = sorted(positions)
        while kept:
            if len(self.cut(kept).html.encode("utf-8")) <= HTML_BUDGET:
                return tuple(kept)
            if len(kept) == 1:
                size = len(self.cut(kept).html.encode("utf-8"))
                raise TemplateError(
                    f"the digest HTML is {size} bytes even with one post; "
                    f"the limit is {HTML_BUDGET}",
                    hint=f"shorten templates/{EMAIL_FOLDER}/{HTML_TEMPLATE}; "
                    "Gmail clips mail over ~102 KB",
                )
            kept.pop()
        raise ValueError("a copy needs at least one post")

    def web_copy(self) -> tuple[str, str]:
        """(html, text) of the whole issue as the archive shows it: every post, and neutral
        words where a message has the reader's greeting, address and links."""
        html, text, values = self._copy(range(len(self.posts)), "web")
        words = i18n.labels(self.config.site.language, "digest")
        neutral = {
            "greeting": words["hello"],
            "email": words["reader"],
            "unsubscribe_url": subscribe_page(self.config),
            "preferences_url": subscribe_page(self.config),
        }
        return (
            fill(fill_cut(html, values, escape=True), neutral, escape=True),
            fill(fill_cut(text, values, escape=False), neutral, escape=False),
        )


def render_digest(config: Config, posts: Sequence[Post], *, now: datetime) -> RenderedDigest:
    """One copy of every post for everyone. When the HTML would pass the size budget, the
    oldest posts are left for the next digest (they are not in `post_ids`)."""
    if not posts:
        raise ValueError("a digest needs at least one post")
    issue = Issue(config, render_issue(config, posts, now=now))
    return issue.cut(issue.fitting(range(len(posts))))
