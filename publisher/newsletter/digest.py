"""Digests: which posts go in, the HTML and text rendered once, one message per subscriber.

The only importer of premailer. Rendering happens once per digest and is
stored; per-subscriber values go in afterwards by replacing fixed marker
strings, which no post field can carry (they are removed from every value
before rendering). Nothing here sends anything.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
import hashlib
import html
import logging
import re
import string
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any
from urllib.parse import urlsplit

import cssutils
import premailer

from publisher.core.config import Config
from publisher.core.errors import ConfigError, TemplateError
from publisher.core.models import Post
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

# Fixed strings that survive storage; `_defuse` removes their common prefix from every input.
_MARKER_PREFIX = "__publisher_"
GREETING = "__publisher_greeting__"
UNSUBSCRIBE_URL = "__publisher_unsubscribe_url__"
EMAIL = "__publisher_email__"
_MARKER = re.compile(r"__publisher_(greeting|unsubscribe_url|email)__")

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

_WIRE = email.policy.SMTP.clone(refold_source="none")
"""Headers we encoded ourselves are written exactly as stored; the rest are folded."""
_WIRE_UTF8 = _WIRE.clone(utf8=True)
WIRE_POLICY = _WIRE

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "read_more": "Read more",
        "in_this_issue": "In this issue",
        "intro_one": "Here is the new post from {site}.",
        "intro_many": "Here are {count} new posts from {site}.",
        "hello": "Hello,",
        "hello_name": "Hello {name},",
        "why": "You are receiving this because {email} subscribed to {site} at {url}.",
        "unsubscribe": "Unsubscribe",
        "website": "Visit the website",
        "unsubscribe_text": "Unsubscribe with one click",
    },
    "ko": {
        "read_more": "계속 읽기",
        "in_this_issue": "이번 호 소식",
        "intro_one": "{site}의 새 글을 전해 드립니다.",
        "intro_many": "{site}의 새 글 {count}편을 모았습니다.",
        "hello": "안녕하세요.",
        "hello_name": "{name}님, 안녕하세요.",
        "why": "{email} 주소로 {site} 소식을 구독하셔서 받으신 메일입니다. ({url})",
        "unsubscribe": "수신 거부",
        "website": "웹사이트 방문",
        "unsubscribe_text": "한 번에 수신 거부하기",
    },
}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class RenderedDigest:
    subject: str
    html: str
    """Inlined HTML with the per-subscriber markers still in it."""
    text: str
    post_ids: tuple[str, ...]


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    unsubscribe_url: str
    unsubscribe_mailto: str


def first_digest_cutoff(now: datetime, config: Config) -> datetime:
    return now.astimezone(UTC) - timedelta(days=config.digest.first_digest_days)


def archive(posts: Sequence[Post], *, now: datetime, config: Config) -> list[Post]:
    """The posts older than the first digest's window: recorded as mailed when it goes out,
    so later digests never send the archive either."""
    cutoff = first_digest_cutoff(now, config)
    return [post for post in posts if post.published.astimezone(UTC) < cutoff]


def select_posts(
    posts: Sequence[Post],
    already_mailed: Collection[str],
    *,
    first_digest: bool,
    now: datetime,
    config: Config,
) -> list[Post]:
    """Published posts no digest has held yet, newest first, at most `max_posts`.

    The first digest of a site reaches back only `first_digest_days`, so an
    existing archive is not mailed in one go.
    """
    now_utc = now.astimezone(UTC)
    cutoff = first_digest_cutoff(now, config)
    chosen = [
        post
        for post in posts
        if post.id not in already_mailed
        and post.published.astimezone(UTC) <= now_utc
        and (not first_digest or post.published.astimezone(UTC) >= cutoff)
    ]
    chosen.sort(key=lambda post: (-post.published.timestamp(), post.source_name))
    return chosen[: config.digest.max_posts]


def _defuse(text: str) -> str:
    """`text` with no marker in it, however the marker was split or nested."""
    while _MARKER_PREFIX in text:
        text = text.replace(_MARKER_PREFIX, "")
    return text


def _language(config: Config) -> str:
    return "ko" if config.site.language.lower().split("-")[0] == "ko" else "en"


def _long_date(moment: datetime, language: str) -> str:
    if language == "ko":
        return f"{moment.year}년 {moment.month}월 {moment.day}일"
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _excerpt(post: Post) -> str:
    text = post.summary or plain_text(post.content_html)
    cut_short = text.rstrip().endswith("\ufffd")  # a source truncated mid-character
    text = plain_line(text.replace("\ufffd", ""))
    text = shorten(text, EXCERPT_LENGTH)
    if cut_short and not text.endswith("…"):
        text += "…"
    return text


def _web_url(url: str | None) -> str | None:
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def _post_view(post: Post, config: Config, language: str) -> dict[str, Any]:
    zone = config.site.zone
    image = _web_url(post.image)
    return {
        "title": _defuse(plain_line(post.title)),
        "url": _defuse(post.url),
        "image": _defuse(image) if image else None,
        "image_width": IMAGE_WIDTH,
        "excerpt": _defuse(_excerpt(post)),
        "date": _long_date(post.published.astimezone(zone), language),
        "category": _defuse(plain_line(post.categories[0].name)) if post.categories else "",
        "author": _defuse(plain_line(post.author)),
    }


def _subject(config: Config, posts: Sequence[Post], now: datetime, language: str) -> str:
    template = config.digest.subject
    values = {
        "site": plain_line(config.site.title),
        "title": plain_line(posts[0].title) if posts else "",
        "count": len(posts),
        "date": _long_date(now.astimezone(config.site.zone), language),
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
    words = LABELS[language]
    site = _defuse(plain_line(config.site.title))
    intro = words["intro_one"] if count == 1 else words["intro_many"]
    return {
        **words,
        "intro": intro.format(site=site, count=count),
        "why": words["why"].format(email=EMAIL, site=site, url=config.site.base_url),
    }


def _context(
    config: Config, posts: Sequence[Post], views: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    language = _language(config)
    return {
        "lang": _defuse(config.site.language),
        "site": {
            "title": _defuse(plain_line(config.site.title)),
            "url": _defuse(config.site.base_url + "/"),
            "description": _defuse(plain_line(config.site.description)),
        },
        "subject": _defuse(_subject(config, posts, now, language)),
        "date": _long_date(now.astimezone(config.site.zone), language),
        "preheader": shorten(views[0]["excerpt"], PREHEADER_LENGTH) if views else "",
        "posts": views,
        "labels": _labels(config, language, len(views)),
        "contact": _defuse(plain_line(config.mail.contact)),
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
    folder = config.paths.templates / EMAIL_FOLDER
    context = _context(config, posts, views, now)
    html_part = render(environment(folder, html=True), HTML_TEMPLATE, context)
    text_part = render(environment(folder, html=False), TEXT_TEMPLATE, context)
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
    language = _language(config)
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


# Messages


def _greeting(name: str, language: str) -> str:
    name = shorten(plain_line(name), NAME_LENGTH)
    words = LABELS[language]
    return words["hello_name"].format(name=name) if name else words["hello"]


class Filler:
    """`fill` for one template and many value sets: the template is split once."""

    def __init__(self, template: str, *, escape: bool) -> None:
        self.pieces = _MARKER.split(template)
        """Text, marker name, text, marker name, …, text."""
        self.escape = escape

    def __call__(self, values: dict[str, str]) -> str:
        pieces = list(self.pieces)
        for i in range(1, len(pieces), 2):
            text = values[pieces[i]]
            pieces[i] = html.escape(text, quote=True) if self.escape else text
        return "".join(pieces)


def fill(template: str, values: dict[str, str], *, escape: bool) -> str:
    """One pass over the markers, so a value holding a marker is never expanded again."""
    return Filler(template, escape=escape)(values)


def list_unsubscribe(recipient: Recipient) -> str:
    return f"<{recipient.unsubscribe_url}>,\n <{recipient.unsubscribe_mailto}>"


def values_for(config: Config, recipient: Recipient) -> dict[str, str]:
    """What goes in place of each per-subscriber marker for `recipient`."""
    return _values(recipient, _language(config))


def _values(recipient: Recipient, language: str) -> dict[str, str]:
    return {
        "greeting": _greeting(recipient.name, language),
        "unsubscribe_url": recipient.unsubscribe_url,
        "email": plain_line(recipient.email),
    }


SUBJECT_CHUNK = 39
"""UTF-8 bytes per Subject word: 52 base64 characters, 64 with the wrapper, so even
`Subject: ` and one word stay under 78 characters."""
NAME_CHUNK = 45
"""UTF-8 bytes per display-name word: 72 characters, under RFC 2047's 75. Names that fit
one word (15 Hangul syllables) decode exactly everywhere; Python's phrase parser keeps the
folding space between two words, which RFC 2047 decoders (mail clients) drop."""


def encoded_words(text: str, chunk_bytes: int = SUBJECT_CHUNK) -> list[str]:
    """RFC 2047 base64 words that split only between characters, never at a space.

    Python 3.11's header folder can end an encoded word at a space and put the space
    between two encoded words, where decoders drop it ("푸틴 방북" arrives as "푸틴방북",
    CPython gh-92081). Spaces here always travel inside a word.
    """
    words: list[str] = []
    chunk = ""
    for char in text:
        if chunk and len((chunk + char).encode("utf-8")) > chunk_bytes:
            words.append(chunk)
            chunk = ""
        chunk += char
    if chunk:
        words.append(chunk)
    return [
        "=?utf-8?b?" + base64.b64encode(word.encode("utf-8")).decode("ascii") + "?="
        for word in words
    ]


def _needs_encoding(text: str) -> bool:
    return not text.isascii() or "=?" in text


def _folded(parts: list[str], first: int) -> str:
    """`parts` joined by spaces, folded so lines stay under 78 characters where possible."""
    lines = [""]
    width = first
    for part in parts:
        if lines[-1] and width + len(lines[-1]) + 1 + len(part) > 78:
            lines.append("")
            width = 1
        lines[-1] = f"{lines[-1]} {part}" if lines[-1] else part
    return "\n ".join(lines)


def _address(address: str) -> str:
    """The address with an internationalised domain in its ASCII (IDNA) form when we can."""
    local, _, domain = address.rpartition("@")
    if local.isascii() and not domain.isascii():
        with contextlib.suppress(UnicodeError):
            domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"


def mailbox(name: str, address: str, header: str) -> str:
    """A From/To/Reply-To value with the display name encoded by us when it is not ASCII."""
    name = shorten(plain_line(name), NAME_LENGTH)
    address = _address(plain_line(address))
    if not name:
        return address
    if not _needs_encoding(name):
        return formataddr((name, address))
    return _folded([*encoded_words(name, NAME_CHUNK), f"<{address}>"], len(header) + 2)


def _unstructured(text: str, header: str) -> str:
    return _folded(encoded_words(text), len(header) + 2)


def _sender(config: Config) -> tuple[str, str]:
    name, address = parseaddr(config.mail.sender)
    if "@" not in address:
        raise ConfigError(
            f"{config.file.name} [mail] from: not set or not an address",
            hint='add `from = "Site name <news@example.org>"` to [mail]',
        )
    return name, address


def _list_domain(config: Config, sender_address: str) -> str:
    return config.mail.message_id_domain or _address(sender_address).rsplit("@", 1)[1]


TEST_COPY = 0
"""The digest number of previews and test copies, which are never recorded."""


def message_id(
    config: Config, digest_number: int, address: str, sent_at: datetime | None = None
) -> str:
    """The same for the same (site, digest, recipient), so a retried send is one message.
    Test copies also vary with the time they were made, so mail clients don't fold
    one test into the last as a duplicate."""
    _, sender_address = _sender(config)
    local, _, domain = address.rpartition("@")
    key = f"{config.site.id_authority}\0{digest_number}\0{local}@{domain.casefold()}"
    if digest_number == TEST_COPY and sent_at is not None:
        key += f"\0{sent_at.astimezone(UTC).isoformat()}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return f"<digest-{digest_number}.{digest}@{_list_domain(config, sender_address)}>"


def _set_raw(message: EmailMessage, name: str, value: str) -> None:
    if _CONTROLS.sub("", value.replace("\n ", "")) != value.replace("\n ", ""):
        raise ValueError(f"{name} would carry a control character")
    message.set_raw(name, value)


def compose(
    config: Config,
    rendered: RenderedDigest,
    recipient: Recipient,
    *,
    digest_number: int,
    sent_at: datetime,
) -> EmailMessage:
    """One subscriber's message: the rendered digest with their values filled in."""
    values = values_for(config, recipient)
    sender_name, sender_address = _sender(config)
    message = EmailMessage(policy=email.policy.SMTP)
    _set_raw(message, "From", mailbox(sender_name, sender_address, "From"))
    _set_raw(message, "To", mailbox(recipient.name, recipient.email, "To"))
    if config.mail.reply_to:
        reply_name, reply_address = parseaddr(config.mail.reply_to)
        _set_raw(message, "Reply-To", mailbox(reply_name, reply_address, "Reply-To"))
    subject = plain_line(_CONTROLS.sub(" ", rendered.subject))
    if _needs_encoding(subject):
        _set_raw(message, "Subject", _unstructured(subject, "Subject"))
    else:
        message["Subject"] = subject
    message["Date"] = format_datetime(sent_at.astimezone(config.site.zone))
    message["Message-ID"] = message_id(config, digest_number, recipient.email, sent_at)
    list_id = f"<digest.{_list_domain(config, sender_address)}>"
    site = plain_line(config.site.title)
    if _needs_encoding(site):
        words = encoded_words(site, NAME_CHUNK)
        _set_raw(message, "List-Id", _folded([*words, list_id], len("List-Id: ")))
    elif site:
        quoted = site.replace("\\", "\\\\").replace('"', '\\"')
        message["List-Id"] = f'"{quoted}" {list_id}'
    else:
        message["List-Id"] = list_id
    _set_raw(message, "List-Unsubscribe", list_unsubscribe(recipient))
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["MIME-Version"] = "1.0"
    message.set_content(
        fill(rendered.text, values, escape=False), subtype="plain", charset="utf-8", cte="base64"
    )
    message.add_alternative(
        fill(rendered.html, values, escape=True), subtype="html", charset="utf-8", cte="base64"
    )
    return message


MAX_LINE = 998


def message_bytes(message: EmailMessage) -> bytes:
    """The exact bytes to send: CRLF line endings, no line over 998 octets."""
    stored = [str(value) for _, value in message.raw_items()]
    policy = _WIRE if all(value.isascii() for value in stored) else _WIRE_UTF8
    data = message.as_bytes(policy=policy)
    longest = max(len(line) for line in data.split(b"\r\n"))
    if longest > MAX_LINE:
        raise ConfigError(
            f"a message header line is {longest} octets long; SMTP allows {MAX_LINE}",
            hint="shorten [digest] unsubscribe_url or the [mail] from and reply_to addresses",
        )
    return data


def unsubscribe_url(config: Config, token: str) -> str:
    """[digest] unsubscribe_url, else the web endpoint's, else one under the site."""
    base = config.web.base_url or config.site.base_url
    template = config.digest.unsubscribe_url or f"{base}/unsubscribe?token={{token}}"
    return template.replace("{token}", token)


def preview_html(rendered: RenderedDigest, config: Config) -> str:
    """The HTML as a reader sees it, with sample values in place of each subscriber's."""
    sample = Recipient(
        email="subscriber@example.org",
        name="",
        unsubscribe_url=unsubscribe_url(config, "preview"),
        unsubscribe_mailto="mailto:unsubscribe@example.org",
    )
    return fill(rendered.html, _values(sample, _language(config)), escape=True)
