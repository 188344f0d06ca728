"""One subscriber's message: the rendered digest with their values, and its headers."""

from __future__ import annotations

import email.policy
import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from publisher.core import i18n
from publisher.core.config import Config
from publisher.core.errors import ConfigError
from publisher.core.mailbox import Mailbox, MailboxError, parse_mailbox
from publisher.newsletter.digest import RenderedDigest
from publisher.newsletter.headers import (
    NAME_CHUNK,
    encoded_words,
    folded,
    mailbox,
    needs_encoding,
    unstructured,
    wire_address,
)
from publisher.newsletter.markers import fill
from publisher.render.text import plain_line, shorten

_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NAME_LENGTH = 80


@dataclass(frozen=True)
class Recipient:
    email: str
    name: str
    unsubscribe_url: str
    unsubscribe_mailto: str
    preferences_url: str = ""
    """The reader's own preference page; empty when the site has no web endpoint."""
    return_path: str = ""
    """The envelope sender (MAIL FROM) of this reader's copy: their VERP bounce address."""


def _greeting(name: str, language: str) -> str:
    name = shorten(plain_line(name), NAME_LENGTH)
    words = i18n.labels(language, "digest")
    return words["hello_name"].format(name=name) if name else words["hello"]


def list_unsubscribe(recipient: Recipient) -> str:
    return f"<{recipient.unsubscribe_url}>,\n <{recipient.unsubscribe_mailto}>"


def values_for(config: Config, recipient: Recipient) -> dict[str, str]:
    """What goes in place of each per-subscriber marker for `recipient`."""
    return _values(recipient, config.site.language)


def _values(recipient: Recipient, language: str) -> dict[str, str]:
    return {
        "greeting": _greeting(recipient.name, language),
        "unsubscribe_url": recipient.unsubscribe_url,
        "preferences_url": recipient.preferences_url,
        "email": plain_line(recipient.email),
    }


def sender(config: Config) -> Mailbox:
    """[mail] from, which every digest and confirmation email comes from."""
    if not config.mail.sender:
        raise ConfigError(
            "[mail] from is not set",
            hint='add `from = "Site name <news@example.org>"` to [mail]',
        )
    return _configured_mailbox(config, "from", config.mail.sender)


def reply_to(config: Config) -> Mailbox | None:
    if not config.mail.reply_to:
        return None
    return _configured_mailbox(config, "reply_to", config.mail.reply_to)


def _configured_mailbox(config: Config, key: str, value: str) -> Mailbox:
    try:
        return _parsed_mailbox(value)
    except MailboxError as e:
        raise ConfigError(f"{config.file.name} [mail] {key}: {e.reason}", hint=e.hint) from e


@functools.lru_cache(maxsize=16)
def _parsed_mailbox(value: str) -> Mailbox:
    """Each message's Message-ID asks for [mail] from's domain: parsing it each time cost
    0.8 ms a message. A Mailbox is frozen, so one parse serves every message."""
    return parse_mailbox(value)


def list_domain(config: Config) -> str:
    """The domain of Message-IDs and List-Id: [mail] message_id_domain, else From's."""
    return config.mail.message_id_domain or wire_address(sender(config).address).rsplit("@", 1)[1]


TEST_COPY = 0
"""The digest number of previews and test copies, which are never recorded."""


def message_id(
    config: Config, digest_number: int, address: str, sent_at: datetime | None = None
) -> str:
    """The same for the same (site, digest, recipient), so a retried send is one message.
    Test copies also vary with the time they were made, so mail clients don't fold
    one test into the last as a duplicate."""
    local, _, domain = address.rpartition("@")
    key = f"{config.site.id_authority}\0{digest_number}\0{local}@{domain.casefold()}"
    if digest_number == TEST_COPY and sent_at is not None:
        key += f"\0{sent_at.astimezone(UTC).isoformat()}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return f"<digest-{digest_number}.{digest}@{list_domain(config)}>"


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
    origin = sender(config)
    message = EmailMessage(policy=email.policy.SMTP)
    _set_raw(message, "From", mailbox(origin.name, origin.address, "From"))
    _set_raw(message, "To", mailbox(recipient.name, recipient.email, "To"))
    if (answer := reply_to(config)) is not None:
        _set_raw(message, "Reply-To", mailbox(answer.name, answer.address, "Reply-To"))
    subject = plain_line(_CONTROLS.sub(" ", rendered.subject))
    if needs_encoding(subject):
        _set_raw(message, "Subject", unstructured(subject, "Subject"))
    else:
        message["Subject"] = subject
    message["Date"] = format_datetime(sent_at.astimezone(config.site.zone))
    message["Message-ID"] = message_id(config, digest_number, recipient.email, sent_at)
    list_id = f"<digest.{list_domain(config)}>"
    site = plain_line(config.site.title)
    if needs_encoding(site):
        words = encoded_words(site, NAME_CHUNK)
        _set_raw(message, "List-Id", folded([*words, list_id], len("List-Id: ")))
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


def unsubscribe_url(config: Config, token: str) -> str:
    """[digest] unsubscribe_url, else the web endpoint's, else one under the site."""
    base = config.web.base_url or config.site.base_url
    template = config.digest.unsubscribe_url or f"{base}/unsubscribe?token={{token}}"
    return template.replace("{token}", token)


def preferences_url(config: Config, token: str) -> str:
    """The web endpoint's preference page for one reader; empty without [web] base_url."""
    return f"{config.web.base_url}/preferences?token={token}" if config.web.base_url else ""


def preview_html(rendered: RenderedDigest, config: Config) -> str:
    """The HTML as a reader sees it, with sample values in place of each subscriber's."""
    sample = Recipient(
        email="subscriber@example.org",
        name="",
        unsubscribe_url=unsubscribe_url(config, "preview"),
        unsubscribe_mailto="mailto:unsubscribe@example.org",
        preferences_url=preferences_url(config, "preview"),
    )
    return fill(rendered.html, _values(sample, config.site.language), escape=True)
