"""Signed unsubscribe tokens: the only importer of itsdangerous.

A token carries a subscriber id and a short hash of their address, signed
with HMAC. It acts only on that subscriber: a token for a deleted and reused
id fails the address check.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, URLSafeSerializer

UNSUBSCRIBE_SALT = "publisher.unsubscribe"


def _address_hash(email_key: str) -> str:
    return hashlib.sha256(email_key.encode("utf-8")).hexdigest()[:16]


def unsubscribe_token(secret: bytes, subscriber_id: int, email_key: str) -> str:
    serializer = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)
    return str(serializer.dumps([subscriber_id, _address_hash(email_key)]))


def read_unsubscribe_token(secret: bytes, token: str) -> tuple[int, str] | None:
    """(subscriber id, address hash) when the signature holds, else None."""
    serializer = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT)
    try:
        payload = serializer.loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        return None
    return payload[0], payload[1]


def token_matches(address_hash: str, email_key: str) -> bool:
    return address_hash == _address_hash(email_key)
