"""Which posts a digest holds: new ones, newest first, never the archive."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from publisher.core.config import Config
from publisher.core.models import Post


def first_digest_cutoff(now: datetime, config: Config) -> datetime:
    return now.astimezone(UTC) - timedelta(days=config.digest.first_digest_days)


def archive(posts: Sequence[Post], *, now: datetime, config: Config) -> list[Post]:
    """The posts older than the first digest's window: recorded as mailed when it goes out,
    so later digests never send the archive either."""
    cutoff = first_digest_cutoff(now, config)
    return [post for post in posts if post.arrived.astimezone(UTC) < cutoff]


def select_posts(
    posts: Sequence[Post],
    already_mailed: Collection[str],
    *,
    first_digest: bool,
    now: datetime,
    config: Config,
) -> list[Post]:
    """Published posts no digest has held yet, newest first, at most `max_posts`.

    The first digest of a site reaches back only `first_digest_days`, so an
    existing archive is not mailed in one go.
    """
    now_utc = now.astimezone(UTC)
    cutoff = first_digest_cutoff(now, config)
    chosen = [
        post
        for post in posts
        if post.id not in already_mailed
        and post.arrived.astimezone(UTC) <= now_utc
        and (not first_digest or post.arrived.astimezone(UTC) >= cutoff)
    ]
    chosen.sort(
        key=lambda post: (-post.arrived.timestamp(), -post.published.timestamp(), post.source_name)
    )
    return chosen[: config.digest.max_posts]
