"""`publisher unsubscribe TOKEN_OR_EMAIL`: what the one-click link does, from the CLI."""

from __future__ import annotations

from datetime import datetime

from publisher.core.config import Config
from publisher.newsletter.credentials import signing_keys
from publisher.newsletter.reader_links import unsubscribing
from publisher.newsletter.subscribers import SubscriberError, find, unlocked
from publisher.newsletter.tokens import Keys
from publisher.state.store import Store, SubscriberRow


def subscriber_for_token(store: Store, secret: Keys, token: str) -> SubscriberRow:
    """The one subscriber a token may act on; SubscriberError for anything else."""
    subscriber = unsubscribing(store, secret, token)
    if subscriber is None:
        raise SubscriberError(
            "this unsubscribe token is not valid",
            hint="copy the whole link from the email, or give the address instead",
        )
    return subscriber


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
