"""Fingerprints of the token-signing secrets, so a lost or swapped secret is noticed.

Only fingerprints are stored here, never a secret. The current key has no end; a key
replaced by `publisher secret rotate` stays valid for links until `valid_until`.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from publisher.state.rows import Queries, from_text, maybe_time, to_text


class KeyFingerprint(NamedTuple):
    fingerprint: str
    added_at: datetime
    valid_until: datetime | None
    """None for the current key."""


class SigningKeyQueries(Queries):
    def key_fingerprints(self) -> list[KeyFingerprint]:
        rows = self._db.execute(
            "SELECT fingerprint, added_at, valid_until FROM signing_keys ORDER BY added_at"
        ).fetchall()
        return [KeyFingerprint(r[0], from_text(r[1]), maybe_time(r[2])) for r in rows]

    def current_key_fingerprint(self) -> str | None:
        row = self._db.execute(
            "SELECT fingerprint FROM signing_keys WHERE valid_until IS NULL"
        ).fetchone()
        return str(row[0]) if row else None

    def adopt_key(self, fingerprint: str, now: datetime, *, retire_until: datetime | None) -> None:
        """Make `fingerprint` the current key; the one before stays valid until `retire_until`
        (or ends now when that is None)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE signing_keys SET valid_until = ? WHERE valid_until IS NULL",
                (to_text(retire_until or now),),
            )
            db.execute(
                "INSERT INTO signing_keys (fingerprint, added_at, valid_until) VALUES (?, ?, NULL) "
                "ON CONFLICT (fingerprint) DO UPDATE SET valid_until = NULL",
                (fingerprint, to_text(now)),
            )
