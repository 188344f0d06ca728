"""Double opt-in: who is sent a confirmation email, the email itself, and its link.

A web request stores a new address as `pending` and mails it a signed link
that expires; the link opens a page with a button, and pressing it (a POST)
makes the subscriber `active`: mail scanners open every link, and must not
confirm a sign-up someone else started. Nothing here
knows about HTTP: `publisher.web` calls it.
"""

from __future__ import annotations

import email.policy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.core.mailbox import Mailbox
from publisher.newsletter.addresses import Address
from publisher.newsletter.headers import encoded_words, mailbox, message_bytes
from publisher.newsletter.message import list_domain, reply_to, sender
from publisher.newsletter.signing import DkimSigner, dkim_signer
from publisher.newsletter.tokens import (
    BadToken,
    Choice,
    Confirmation,
    ExpiredToken,
    Keys,
    confirmation_token,
    read_confirmation_token,
    token_matches,
)
from publisher.newsletter.transports import Envelope, Result, Transport, configured_transports
from publisher.render.text import plain_line
from publisher.state.store import Store, SubscriberRow
from publisher.state.subscribers import Activation

CONFIRMATION_FOLDER = "confirmations"
"""Under [paths] outbox: where the outbox transport writes confirmation emails."""


class ConfirmationError(PublisherError):
    """A confirmation link that must change nothing."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message, hint="subscribe again to get a new link")
        self.expired = expired


def subscriber_to_confirm(store: Store, address: Address, now: datetime) -> SubscriberRow | None:
    """Who a confirmation email should go to for this address, or None when nobody.

    A new address is stored as pending. Pending, unsubscribed and bounced
    subscribers keep their status until they confirm; an active one needs no email.
    """
    subscriber, _created = store.add_subscriber_if_new(
        address.email, address.key, "", "pending", now
    )
    return None if subscriber.status == "active" else subscriber


def confirmation_link(
    config: Config,
    secret: Keys,
    subscriber: SubscriberRow,
    now: datetime,
    choice: Choice | None = None,
) -> str:
    """The link that confirms; it carries the preferences the form asked for, if any, so
    they take effect only when the owner of the address opens it."""
    token = confirmation_token(
        secret, subscriber.id, subscriber.email_key, now, subscriber.revision, choice
    )
    return f"{config.web.base_url}/confirm?token={token}"


def subscriber_to_activate(
    store: Store, secret: Keys, token: str, now: datetime, max_age: timedelta
) -> tuple[SubscriberRow, Confirmation]:
    """Who the token would activate, changing nothing; ConfirmationError when it would not
    (not ours, expired, for nobody, or made before their subscription last changed)."""
    try:
        claim = read_confirmation_token(secret, token.strip(), now=now, max_age=max_age)
    except ExpiredToken:
        raise ConfirmationError("the confirmation link has expired", expired=True) from None
    except BadToken as e:
        raise ConfirmationError(f"the confirmation link is not valid ({e})") from None
    subscriber = store.subscriber_by_id(claim.subscriber_id)
    if subscriber is None or not token_matches(claim.address_hash, subscriber.email_key):
        raise ConfirmationError("the confirmation link is for nobody on the list")
    if subscriber.status != "active" and subscriber.revision != claim.revision:
        raise ConfirmationError("the subscription changed after this link was sent")
    return subscriber, claim


def confirm_subscription(
    store: Store, secret: Keys, token: str, now: datetime, max_age: timedelta
) -> SubscriberRow:
    """Activate the one subscriber the token was made for; ConfirmationError otherwise."""
    subscriber, claim = subscriber_to_activate(store, secret, token, now, max_age)
    # The link's choice goes with the activation it makes, and only then: pressed again
    # later, an old link must not overwrite what the reader has chosen since.
    outcome = store.activate_subscriber(subscriber.id, claim.revision, now, claim.choice)
    if outcome is Activation.REFUSED:
        raise ConfirmationError("the subscription changed after this link was sent")
    activated = store.subscriber_by_id(subscriber.id)
    assert activated is not None
    return activated


@dataclass(frozen=True)
class ConfirmationMailer:
    """Composes and sends confirmation emails; checks everything it needs when made."""

    config: Config
    origin: Mailbox
    transport_for: Callable[[Path], Transport]
    signer: DkimSigner | None

    def message(self, recipient: str, subject: str, text: str, now: datetime) -> bytes:
        """The wire bytes of one plain-text confirmation email, DKIM-signed when configured."""
        config = self.config
        message = EmailMessage(policy=email.policy.SMTP)
        message.set_raw("From", mailbox(self.origin.name, self.origin.address, "From"))
        message.set_raw("To", mailbox("", recipient, "To"))
        if (answer := reply_to(config)) is not None:
            message.set_raw("Reply-To", mailbox(answer.name, answer.address, "Reply-To"))
        subject = plain_line(subject)
        if subject.isascii() and "=?" not in subject:
            message["Subject"] = subject
        else:
            # Our own encoded words: Python 3.11 folding can drop spaces (CPython gh-92081).
            message.set_raw("Subject", "\n ".join(encoded_words(subject)))
        message["Date"] = format_datetime(now)
        message["Message-ID"] = make_msgid("confirm", domain=list_domain(config))
        message["Auto-Submitted"] = "auto-generated"
        message["MIME-Version"] = "1.0"
        message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
        data = message_bytes(message)
        return self.signer.sign(data) if self.signer is not None else data

    def send(self, subscriber: SubscriberRow, data: bytes, now: datetime) -> Result | None:
        """Send through the configured transport (SMTP or the outbox folder)."""
        folder = self.config.paths.outbox / CONFIRMATION_FOLDER
        transport = self.transport_for(folder)
        results: list[Result] = []
        envelope = Envelope(
            key=str(subscriber.id),
            sender=self.origin.address,
            recipient=subscriber.email,
            message=data,
            filename=f"confirm-{subscriber.id:08d}-{int(now.timestamp())}",
        )
        transport.deliver([envelope], before_data=lambda _envelope: None, on_result=results.append)
        return results[0] if results else None


def make_confirmation_mailer(config: Config) -> ConfirmationMailer:
    origin = sender(config)
    transports = configured_transports(config)
    return ConfirmationMailer(config, origin, transports, dkim_signer(config, origin.domain))
