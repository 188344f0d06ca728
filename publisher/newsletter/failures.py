"""Recipients a digest did not reach for sure: listing them, and requeueing after a fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from publisher.core.config import Config
from publisher.newsletter.subscribers import SubscriberError, ledger
from publisher.state.rows import FailedDelivery
from publisher.state.store import Store, reading


@dataclass(frozen=True)
class FailedRecipient:
    row: FailedDelivery

    def line(self) -> str:
        row = self.row
        said = f"{row.code} {row.response}" if row.code is not None else row.response
        return f"{row.email}  {row.status}  {said}  ({row.updated_at.isoformat()})"

    def as_json(self) -> dict[str, object]:
        row = self.row
        return {
            "subscriber_id": row.subscriber_id,
            "email": row.email,
            "status": row.status,
            "code": row.code,
            "reply": row.response,
            "updated_at": row.updated_at.isoformat(),
        }


def _known(store: Store | None, digest_id: int) -> Store:
    if store is None or not store.has_digest(digest_id):
        raise SubscriberError(
            f"there is no digest {digest_id}",
            hint="`publisher digest status` lists the recent digests",
        )
    return store


def failed_recipients(config: Config, digest_id: int) -> list[FailedRecipient]:
    with reading(config.state_db) as store:
        return [
            FailedRecipient(row) for row in _known(store, digest_id).failed_deliveries(digest_id)
        ]


def requeue_failed(
    config: Config, digest_id: int, now: datetime, *, code: str = "", since: datetime | None = None
) -> tuple[int, int]:
    """(requeued, left): the failed rows put back to pending, and those that matched but
    whose reader is no longer active (bounced or unsubscribed), left as they are."""
    with ledger(config) as store:
        return _known(store, digest_id).requeue_failed(digest_id, now, code=code, since=since)
