"""One digest's messages, made fast enough to keep up with the relay.

`compose` builds each message with the email package, about 1.6 ms of CPU per
message under the GIL. A digest's messages differ only in three headers (To,
Message-ID, List-Unsubscribe) and in the markers filled into the two bodies,
so the factory serialises one skeleton per digest with the email package and,
per recipient, swaps in those headers (folded by the same policy) and the two
base64 bodies (encoded as the email package encodes them, re-encoding only what
differs: base64_body.py).

Those bytes depend on how the email package folds and encodes, which a Python
release may change. So the factory checks itself: the first recipient's
message is made both ways, and if the bytes differ, every message of the
digest is made by `compose`.
"""

from __future__ import annotations

import dataclasses
import email.policy
import logging
from datetime import datetime

from publisher.core.config import Config
from publisher.newsletter.base64_body import Base64Body, base64_body
from publisher.newsletter.digest import RenderedDigest
from publisher.newsletter.headers import MAX_LINE, WIRE_POLICY, mailbox, message_bytes
from publisher.newsletter.message import (
    Recipient,
    compose,
    list_unsubscribe,
    message_id,
    values_for,
)

log = logging.getLogger(__name__)

_TEXT_PLACEHOLDER = "publisher-skeleton-text-part"
_HTML_PLACEHOLDER = "publisher-skeleton-html-part"
_SKELETON_RECIPIENT = Recipient(
    email="recipient@skeleton.invalid",
    name="",
    unsubscribe_url="https://skeleton.invalid/unsubscribe",
    unsubscribe_mailto="mailto:skeleton@skeleton.invalid",
)
_TEXT_BODY = base64_body(_TEXT_PLACEHOLDER)
_HTML_BODY = base64_body(_HTML_PLACEHOLDER)


def _raw_header(name: str, value: str) -> bytes:
    return WIRE_POLICY.fold_binary(name, value)


_SHORT_LINE = (WIRE_POLICY.max_line_length or 78) - 2


def _parsed_header(name: str, value: str) -> bytes:
    short = len(name) + 2 + len(value) <= _SHORT_LINE
    if short and value.isascii() and value.isprintable() and " " not in value:
        return f"{name}: {value}\r\n".encode("ascii")  # one short word, as the policy writes it
    stored = email.policy.SMTP.header_store_parse(name, value)[1]
    return WIRE_POLICY.fold_binary(name, stored)


@dataclasses.dataclass(frozen=True)
class _Skeleton:
    data: bytes
    boundary: str
    headers: list[bytes]
    """The skeleton recipient's To, Message-ID and List-Unsubscribe, as written in `data`."""


class MessageFactory:
    """The wire bytes of one digest for each recipient; not thread-safe."""

    def __init__(
        self, config: Config, rendered: RenderedDigest, *, digest_number: int, sent_at: datetime
    ) -> None:
        self.config = config
        self.rendered = rendered
        self.digest_number = digest_number
        self.sent_at = sent_at
        self._text = Base64Body(rendered.text, escape=False)
        self._html = Base64Body(rendered.html, escape=True)
        self._skeleton: _Skeleton | None = None
        self._checked = False

    def wire_bytes(self, recipient: Recipient) -> bytes:
        if not self._checked:
            self._checked = True
            self._skeleton = self._verified_skeleton(recipient)
        if self._skeleton is None or not _plain(recipient):
            return self._composed(recipient)
        return self._filled(self._skeleton, recipient)

    def _composed(self, recipient: Recipient, boundary: str | None = None) -> bytes:
        message = compose(
            self.config,
            self.rendered,
            recipient,
            digest_number=self.digest_number,
            sent_at=self.sent_at,
        )
        if boundary is not None:
            message.set_boundary(boundary)
        return message_bytes(message)

    def _verified_skeleton(self, first: Recipient) -> _Skeleton | None:
        placeholder = dataclasses.replace(
            self.rendered, text=_TEXT_PLACEHOLDER, html=_HTML_PLACEHOLDER
        )
        message = compose(
            self.config,
            placeholder,
            _SKELETON_RECIPIENT,
            digest_number=self.digest_number,
            sent_at=self.sent_at,
        )
        data = message_bytes(message)
        boundary = message.get_boundary()
        if boundary is None or not _plain(first):
            return None
        skeleton = _Skeleton(data, boundary, self._headers(_SKELETON_RECIPIENT))
        if self._filled(skeleton, first) != self._composed(first, boundary):
            log.debug("message factory disagrees with the email package; composing each message")
            return None
        return skeleton

    def _headers(self, recipient: Recipient) -> list[bytes]:
        return [
            _raw_header("To", mailbox(recipient.name, recipient.email, "To")),
            _parsed_header(
                "Message-ID",
                message_id(self.config, self.digest_number, recipient.email, self.sent_at),
            ),
            _raw_header("List-Unsubscribe", list_unsubscribe(recipient)),
        ]

    def _filled(self, skeleton: _Skeleton, recipient: Recipient) -> bytes:
        values = values_for(self.config, recipient)
        data = skeleton.data
        for before, after in zip(skeleton.headers, self._headers(recipient), strict=True):
            longest = max(len(line) for line in after.split(b"\r\n"))
            if longest > MAX_LINE:  # as message_bytes checks a composed message
                name = after.split(b":", 1)[0].decode("ascii")
                raise ValueError(f"its {name} line is {longest} octets; SMTP allows {MAX_LINE}")
            data = data.replace(before, after, 1)
        data = data.replace(_TEXT_BODY, self._text(values), 1)
        return data.replace(_HTML_BODY, self._html(values), 1)


def _plain(recipient: Recipient) -> bool:
    """ASCII addresses and links: their headers are written with the ASCII policy."""
    return all(
        value.isascii()
        for value in (recipient.email, recipient.unsubscribe_url, recipient.unsubscribe_mailto)
    )
