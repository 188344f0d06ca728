"""`publisher unsubscribe TOKEN_OR_EMAIL`: what the one-click link does, from the CLI."""

from __future__ import annotations

from datetime import datetime

from publisher.core.config import Config
from publisher.newsletter.credentials import signing_keys
from publisher.newsletter.subscribers import SubscriberError, find, unlocked
from publisher.newsletter.tokens import Keys, read_unsubscribe_token, token_matches
from publisher.state.store import Store, SubscriberRow


def subscriber_for_token(store: Store, secret: Keys, token: str) -> SubscriberRow:
    """The one subscriber a token may act on; SubscriberError for anything else."""
    payload = read_unsubscribe_token(secret, token.strip())
    candidates: list[tuple[SubscriberRow, str]] = []
    if payload is not None:
        if (subscriber := store.subscriber_by_id(payload[0])) is not None:
            candidates.append((subscriber, subscriber.email_key))
        if (alias := store.subscriber_by_old_id(payload[0])) is not None:
            candidates.append(alias)  # a link mailed before a merge or a re-keying
    for subscriber, key in candidates:
        if payload is not None and token_matches(payload[1], key):
            return subscriber
    raise SubscriberError(
        "this unsubscribe token is not valid",
        hint="copy the whole link from the email, or give the address instead",
    )


def unsubscribe(config: Config, token_or_email: str, now: datetime) -> tuple[SubscriberRow, bool]:
    """(subscriber, changed): changed is False when they were already unsubscribed."""
    with unlocked(config) as store:
        if "@" in token_or_email:
            subscriber = find(store, token_or_email)
        else:
            subscriber = subscriber_for_token(store, signing_keys(config, now).ring, token_or_email)
        if subscriber.status == "unsubscribed":
            return subscriber, False
        store.set_subscriber_status(subscriber.id, "unsubscribed", now)
        updated = store.subscriber_by_id(subscriber.id)
        assert updated is not None
        return updated, True
