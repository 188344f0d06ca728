"""Who a reader's own link names: the unsubscribe and preference tokens in every digest.

Both tokens claim (subscriber id, hash of their address). A claim is good for the
subscriber with that id and address, or, for a link mailed before addresses were
compared case-insensitively (or before a re-keying), for the subscriber that id was
merged into (`subscriber_aliases`). One lookup for both kinds, so neither page can
accept a link the other refuses.
"""

from __future__ import annotations

from publisher.newsletter.tokens import (
    Keys,
    read_preferences_token,
    read_unsubscribe_token,
    token_matches,
)
from publisher.state.store import Store, SubscriberRow


def subscriber_for_claim(store: Store, claim: tuple[int, str] | None) -> SubscriberRow | None:
    if claim is None:
        return None
    subscriber_id, address_hash = claim
    candidates: list[tuple[SubscriberRow, str]] = []
    if (subscriber := store.subscriber_by_id(subscriber_id)) is not None:
        candidates.append((subscriber, subscriber.email_key))
    if (alias := store.subscriber_by_old_id(subscriber_id)) is not None:
        candidates.append(alias)
    return next((row for row, key in candidates if token_matches(address_hash, key)), None)


def unsubscribing(store: Store, keys: Keys, token: str) -> SubscriberRow | None:
    """The one subscriber an unsubscribe token may act on, or None."""
    return subscriber_for_claim(store, read_unsubscribe_token(keys, token.strip()))


def choosing(store: Store, keys: Keys, token: str) -> SubscriberRow | None:
    """The one subscriber whose preference page a preference token opens, or None."""
    return subscriber_for_claim(store, read_preferences_token(keys, token.strip()))
