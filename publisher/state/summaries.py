"""The store's rows as plain values for scripts: `status --json` and `digest status --json`.

The keys are documented in docs/operations.md (Status); add keys, never rename them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from publisher.core.models import DELIVERY_STATUSES
from publisher.state.rows import DigestRow


def utc_text(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC, for scripts."""
    return moment.astimezone(UTC).isoformat() if moment else None


def every_status(counts: Mapping[str, int], order: tuple[str, ...]) -> dict[str, int]:
    """A count for every known status, zeros included, in their usual order."""
    return {**dict.fromkeys(order, 0), **counts}


def digest_summary(digest: DigestRow, counts: Mapping[str, int]) -> dict[str, Any]:
    """One digest for scripts: `status --json` and `digest status --json` share it."""
    return {
        "id": digest.id,
        "created_at": utc_text(digest.created_at),
        "completed_at": utc_text(digest.completed_at),
        "complete": digest.completed_at is not None,
        "subject": digest.subject,
        "deliveries": every_status(counts, DELIVERY_STATUSES),
    }
