"""What a message in the bounce mailbox says: RFC 3464 delivery status notifications,
plain-text bounces in qmail's format (bounce_text.py), RFC 5965 (ARF) complaints, and
mailed unsubscribe requests (List-Unsubscribe's mailto:).

Reading only: `read_report` names who each finding is about (a VERP token of this
list's bounce address, or an address) and whether the report came from a mail system;
bounces.py decides what to trust and what to do. Anything else is None: non-report mail
is left alone.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime

from publisher.newsletter.bounce_text import from_a_mail_system, read_plain_bounce
from publisher.newsletter.verp import BounceAddress

MAX_MESSAGE_BYTES = 2_000_000
"""Bigger messages are not reports; they are left alone unread (hostile input is bounded)."""

_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_DELIVERY_STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
_UNSUBSCRIBE = re.compile(r"\bunsubscribe\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    kind: str
    """hard_bounce, soft_bounce, complaint or unsubscribe_request"""
    status: str
    reason: str
    verp_tokens: tuple[str, ...]
    """Tokens of our bounce addresses found where this report was sent or in the original."""
    addresses: tuple[str, ...]
    """The recipient address(es) the report names, when no token settles it."""


@dataclass(frozen=True)
class Report:
    message_id: str
    date: datetime | None
    findings: tuple[Finding, ...]
    from_mail_system: bool
    """Sent by the null sender (Return-Path: <>) or a MAILER-DAEMON / postmaster."""


@dataclass(frozen=True)
class ReturnAddresses:
    """Where this list's mail comes back to."""

    verp: BounceAddress | None
    """[mail] bounce_address, when set: its tokens say who a report is about."""
    list_address: str
    """The From address, lower case: where List-Unsubscribe's mailto: goes without VERP."""


def parse_message(data: bytes) -> EmailMessage | None:
    if len(data) > MAX_MESSAGE_BYTES:
        return None
    message = email.message_from_bytes(data, policy=email.policy.default)
    return message if isinstance(message, EmailMessage) else None


def read_report(data: bytes, addresses: ReturnAddresses) -> Report | None:
    """The findings of a DSN, an ARF report or an unsubscribe request; None for other mail."""
    message = parse_message(data)
    if message is None:
        return None
    content_type = message.get_content_type()
    report_type = str(message.get_param("report-type", "")).lower()
    verp = addresses.verp
    if content_type == "multipart/report" and report_type == "delivery-status":
        findings = _delivery_status(message, verp)
    elif content_type == "multipart/report" and report_type == "feedback-report":
        findings = _feedback_report(message, verp)
    else:
        findings = _plain_bounce(message, verp) or _unsubscribe_request(message, addresses)
    if not findings:
        return None
    return Report(
        _message_id(message, data),
        _date(message.get("Date")),
        tuple(findings),
        from_a_mail_system(message),
    )


def _message_id(message: Message, data: bytes) -> str:
    """The Message-ID, or one made from the bytes, the same in every run."""
    found = str(message.get("Message-ID", "")).strip()
    return found or f"<no-id:{hashlib.sha256(data).hexdigest()}>"


def _date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else None


def _where_sent(message: Message) -> str:
    """The headers naming where a report was delivered: our VERP bounce address, if used."""
    return " ".join(
        str(message.get_all(name, [])) for name in ("Delivered-To", "X-Original-To", "To")
    )


def _original(message: Message) -> Message | None:
    """The returned message or its headers, attached to a DSN or an ARF report."""
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        if kind in ("text/rfc822-headers", "message/global-headers"):
            return HeaderParser().parsestr(_text(part))
    return None


def _text(part: Message) -> str:
    data = part.get_payload(decode=True)
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else ""


def _tokens(
    verp: BounceAddress | None, message: Message, original: Message | None
) -> tuple[str, ...]:
    """Tokens of our bounce address where the report was delivered, or in the returned
    message's Return-Path or List-Unsubscribe."""
    if verp is None:
        return ()
    places = [_where_sent(message)]
    if original is not None:
        places += [str(original.get(name, "")) for name in ("Return-Path", "List-Unsubscribe")]
    return verp.tokens_in(" ".join(places))


def _address_field(value: object) -> str:
    """`rfc822; user@example.org` → user@example.org."""
    text = str(value or "")
    return text.partition(";")[2].strip().strip("<>") if ";" in text else text.strip().strip("<>")


def _delivery_status(message: EmailMessage, verp: BounceAddress | None) -> list[Finding]:
    findings = []
    tokens = _tokens(verp, message, _original(message))
    for part in message.walk():
        if part.get_content_type() not in _DELIVERY_STATUS_TYPES:
            continue
        blocks = part.get_payload()
        for block in blocks[1:] if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            finding = _recipient_block(block, tokens)
            if finding is not None:
                findings.append(finding)
    return findings


def _recipient_block(block: Message, tokens: tuple[str, ...]) -> Finding | None:
    action = str(block.get("Action", "")).strip().lower()
    status_match = _STATUS.search(str(block.get("Status", "")))
    if action not in ("failed", "delayed") or status_match is None:
        return None  # delivered, relayed or expanded: nothing went wrong
    status = status_match.group(0)
    hard = action == "failed" and status.startswith("5")
    recipient = _address_field(block.get("Original-Recipient")) or ""
    final = _address_field(block.get("Final-Recipient"))
    diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
    return Finding(
        "hard_bounce" if hard else "soft_bounce",
        status,
        f"{action} {status}: {diagnostic}".strip().rstrip(":")[:500],
        tokens,
        tuple(a for a in (final, recipient) if "@" in a),
    )


def _plain_bounce(message: EmailMessage, verp: BounceAddress | None) -> list[Finding]:
    """A qmail-style plain-text bounce (Yahoo's old form): see bounce_text.py."""
    found = read_plain_bounce(message)
    if found is None:
        return []
    tokens = _tokens(verp, message, found.original)
    return [
        Finding(
            "hard_bounce" if bounce.status.startswith("5") else "soft_bounce",
            bounce.status,
            f"failed {bounce.status} (plain-text bounce): {bounce.reason}"[:500],
            tokens,
            (bounce.address,),
        )
        for bounce in found.bounces
    ]


def _feedback_report(message: EmailMessage, verp: BounceAddress | None) -> list[Finding]:
    fields: Message | None = None
    for part in message.walk():
        if part.get_content_type() == "message/feedback-report":
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                fields = payload[0]  # some parsers give the fields as a message
            else:
                fields = HeaderParser().parsestr(_text(part))
    if fields is None:
        return []
    feedback = str(fields.get("Feedback-Type", "abuse")).strip().lower()
    original = _original(message)
    addresses = [_address_field(fields.get("Original-Rcpt-To"))]
    addresses += [_address_field(a) for a in fields.get_all("Removal-Recipient", [])]
    if original is not None:
        addresses += [address for _, address in getaddresses([str(original.get("To", ""))])]
    source = fields.get("Reported-Domain") or fields.get("User-Agent") or "a mailbox provider"
    reason = f"{feedback} report from {source}"
    return [
        Finding(
            "complaint",
            feedback,
            " ".join(reason.split())[:500],
            _tokens(verp, message, original),
            tuple(dict.fromkeys(a for a in addresses if "@" in a)),
        )
    ]


def _unsubscribe_request(message: EmailMessage, addresses: ReturnAddresses) -> list[Finding]:
    """A request mailed to List-Unsubscribe's mailto: the reader's own VERP address when
    there is a bounce address (so the token names them), else the From address."""
    subject = str(message.get("Subject", ""))
    if not _UNSUBSCRIBE.search(subject):
        return []
    sent_to = _where_sent(message).lower()
    if addresses.verp is not None:
        tokens = addresses.verp.tokens_in(sent_to)
        if not tokens:
            return []  # mail to the From address: a person's, left for a person
    elif addresses.list_address in sent_to:
        tokens = ()
    else:
        return []
    senders = [address for _, address in getaddresses([str(message.get("From", ""))])]
    return [
        Finding(
            "unsubscribe_request",
            "",
            f"mailed unsubscribe request: {' '.join(subject.split())[:200]}",
            tokens,
            tuple(a for a in senders if "@" in a),
        )
    ]
