"""Signed tokens: the only importer of itsdangerous.

An unsubscribe token carries a subscriber id and a short hash of their
address, signed with HMAC. It acts only on that subscriber: a token for a
deleted and reused id fails the address check. A preference token is the
same claim under its own salt: it opens the reader's preference page.
Confirmation tokens add the moment they were issued, and the preferences the
form asked for, and expire; form tokens are the signed half of a
double-submit CSRF pair. Each kind has its own salt, so one never passes
for another.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

UNSUBSCRIBE_SALT = "publisher.unsubscribe"
PREFERENCES_SALT = "publisher.preferences"

Keys = bytes | Sequence[bytes]
"""One secret, or a key ring (oldest first): every key verifies, the last one signs."""


def _newest(secret: Keys) -> bytes:
    return secret if isinstance(secret, bytes) else secret[-1]


def _all(secret: Keys) -> Sequence[bytes]:
    return [secret] if isinstance(secret, bytes) else secret


def _address_hash(email_key: str) -> str:
    return hashlib.sha256(email_key.encode("utf-8")).hexdigest()[:16]


def unsubscribe_token(secret: Keys, subscriber_id: int, email_key: str) -> str:
    serializer = _unsubscribe_signer(secret if isinstance(secret, bytes) else tuple(secret))
    return str(serializer.dumps([subscriber_id, _address_hash(email_key)]))


@functools.lru_cache(maxsize=4)
def _unsubscribe_signer(secret: bytes | tuple[bytes, ...]) -> URLSafeSerializer:
    """One serializer per key ring: a digest signs a link for every reader."""
    return URLSafeSerializer(
        secret if isinstance(secret, bytes) else list(secret), salt=UNSUBSCRIBE_SALT
    )


def read_unsubscribe_token(secret: Keys, token: str) -> tuple[int, str] | None:
    """(subscriber id, address hash) when the signature holds, else None."""
    return _read_reader_claim(secret, token, UNSUBSCRIBE_SALT)


def preferences_token(secret: Keys, subscriber_id: int, email_key: str) -> str:
    serializer = URLSafeSerializer(secret, salt=PREFERENCES_SALT)
    return str(serializer.dumps([subscriber_id, _address_hash(email_key)]))


def read_preferences_token(secret: Keys, token: str) -> tuple[int, str] | None:
    """(subscriber id, address hash) when the signature holds, else None."""
    return _read_reader_claim(secret, token, PREFERENCES_SALT)


def _read_reader_claim(secret: Keys, token: str, salt: str) -> tuple[int, str] | None:
    serializer = URLSafeSerializer(secret, salt=salt)
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


BOUNCE_SALT = b"publisher.bounce"
_BOUNCE_TOKEN = re.compile(r"^d(\d{1,12})-s(\d{1,12})-([0-9a-f]{16})$")


def bounce_token(secret: Keys, digest_id: int, subscriber_id: int) -> str:
    """`d7-s42-<16 hex>`: names a digest and a reader in a VERP address. Lower case and
    short, because some mail systems lower-case the local part of a bounce's recipient."""
    body = f"d{digest_id}-s{subscriber_id}"
    return f"{body}-{_bounce_mac(_newest(secret), body)}"


def read_bounce_token(secret: Keys, token: str) -> tuple[int, int] | None:
    """(digest id, subscriber id) when one of `secrets` signed the token, else None."""
    match = _BOUNCE_TOKEN.match(token.strip().lower())
    if match is None:
        return None
    body = f"d{match.group(1)}-s{match.group(2)}"
    if not any(hmac.compare_digest(_bounce_mac(key, body), match.group(3)) for key in _all(secret)):
        return None
    return int(match.group(1)), int(match.group(2))


def _bounce_mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, BOUNCE_SALT + body.encode("ascii"), hashlib.sha256).hexdigest()[:16]


CONFIRM_SALT = "publisher.confirm"
FORM_SALT = "publisher.form"
CLOCK_SKEW_SECONDS = 300
"""How far in the future an issue time may lie before a token is refused."""


class BadToken(ValueError):
    """The token was not made by us, was altered, or is for something else."""


class ExpiredToken(BadToken):
    """The token is genuine but too old."""


Choice = tuple[list[str] | None, str]
"""Preferences a subscribe form asked for: category slugs (None for all) and a cadence."""


@dataclass(frozen=True)
class Confirmation:
    subscriber_id: int
    address_hash: str
    issued_at: datetime
    revision: int
    """The subscriber's revision when the link was made (see SubscriberRow.revision)."""
    choice: Choice | None = None
    """What the form asked for, applied when the link is opened; None keeps what there is."""


def _epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given for a token time")
    return int(moment.timestamp())


def _check_age(issued: int, now: datetime, max_age: timedelta) -> None:
    age = _epoch(now) - issued
    if age < -CLOCK_SKEW_SECONDS:
        raise BadToken("issued in the future")
    if age > max_age.total_seconds():
        raise ExpiredToken("expired")


def confirmation_token(
    secret: Keys,
    subscriber_id: int,
    email_key: str,
    issued_at: datetime,
    revision: int = 0,
    choice: Choice | None = None,
) -> str:
    """A link token that confirms one subscriber's address at one revision of their row;
    it expires (see read)."""
    serializer = URLSafeSerializer(secret, salt=CONFIRM_SALT)
    claim: list[object] = [subscriber_id, _address_hash(email_key), _epoch(issued_at), revision]
    if choice is not None:
        claim.append([choice[0], choice[1]])
    return str(serializer.dumps(claim))


def _choice(value: object) -> Choice | None:
    if not isinstance(value, list) or len(value) != 2 or not isinstance(value[1], str):
        raise BadToken("malformed")
    categories = value[0]
    if categories is not None and not (
        isinstance(categories, list) and all(isinstance(c, str) for c in categories)
    ):
        raise BadToken("malformed")
    return categories, value[1]


def read_confirmation_token(
    secret: Keys, token: str, *, now: datetime, max_age: timedelta
) -> Confirmation:
    """The claim of a genuine, unexpired token; BadToken or ExpiredToken otherwise."""
    serializer = URLSafeSerializer(secret, salt=CONFIRM_SALT)
    try:
        payload = serializer.loads(token)
    except BadSignature:
        raise BadToken("bad signature") from None
    if (
        not isinstance(payload, list)
        or len(payload) not in (4, 5)
        or not all(isinstance(part, int) for part in (payload[0], payload[2], payload[3]))
        or not isinstance(payload[1], str)
    ):
        raise BadToken("malformed")
    choice = _choice(payload[4]) if len(payload) == 5 else None
    _check_age(payload[2], now, max_age)
    issued = datetime.fromtimestamp(payload[2], UTC)
    return Confirmation(payload[0], payload[1], issued, payload[3], choice)


def form_token(secret: Keys, nonce: str, issued_at: datetime) -> str:
    """The hidden-field half of a signed double-submit CSRF pair; the cookie holds `nonce`."""
    serializer = URLSafeSerializer(secret, salt=FORM_SALT)
    return str(serializer.dumps([nonce, _epoch(issued_at)]))


def form_token_matches(
    secret: Keys, token: str, cookie_nonce: str, *, now: datetime, max_age: timedelta
) -> bool:
    """True when the token is ours, fresh, and made for the nonce in the browser's cookie."""
    serializer = URLSafeSerializer(secret, salt=FORM_SALT)
    try:
        payload = serializer.loads(token)
    except BadSignature:
        return False
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], str)
        or not isinstance(payload[1], int)
        or not cookie_nonce
    ):
        return False
    try:
        _check_age(payload[1], now, max_age)
    except BadToken:
        return False
    return hmac.compare_digest(payload[0].encode(), cookie_nonce.encode())
