"""Schedule arithmetic with an injected clock: DST changes, Seoul, missed runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from publisher.schedule import make_schedule, missed_run

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SEOUL = ZoneInfo("Asia/Seoul")


def _iso(times: list[datetime]) -> list[str]:
    return [t.isoformat() for t in times]


def test_daily_digest_across_new_york_spring_forward_fires_at_the_skipped_instant() -> None:
    schedule = make_schedule("digest", "30 2 * * *", NEW_YORK)
    times = schedule.fire_times(datetime(2024, 3, 8, tzinfo=NEW_YORK), 4)
    assert _iso(times) == [
        "2024-03-08T02:30:00-05:00",
        "2024-03-09T02:30:00-05:00",
        "2024-03-10T03:30:00-04:00",  # 02:30 does not exist that night
        "2024-03-11T02:30:00-04:00",
    ]
    assert [t.astimezone(UTC).hour for t in times] == [7, 7, 7, 6]


def test_daily_digest_across_new_york_fall_back_fires_once() -> None:
    schedule = make_schedule("digest", "30 1 * * *", NEW_YORK)
    times = schedule.fire_times(datetime(2024, 11, 2, tzinfo=NEW_YORK), 4)
    assert _iso(times) == [
        "2024-11-02T01:30:00-04:00",
        "2024-11-03T01:30:00-04:00",  # 01:30 happens twice that night; it fires once
        "2024-11-04T01:30:00-05:00",
        "2024-11-05T01:30:00-05:00",
    ]


def test_weekly_digest_keeps_local_time_across_berlin_changes() -> None:
    schedule = make_schedule("digest", "0 8 * * mon", BERLIN)
    autumn = schedule.fire_times(datetime(2024, 10, 20, tzinfo=BERLIN), 3)
    spring = schedule.fire_times(datetime(2025, 3, 23, tzinfo=BERLIN), 2)
    assert _iso(autumn) == [
        "2024-10-21T08:00:00+02:00",
        "2024-10-28T08:00:00+01:00",
        "2024-11-04T08:00:00+01:00",
    ]
    assert _iso(spring) == ["2025-03-24T08:00:00+01:00", "2025-03-31T08:00:00+02:00"]


def test_berlin_daily_job_in_the_repeated_hour_fires_once() -> None:
    schedule = make_schedule("digest", "30 2 * * *", BERLIN)
    times = schedule.fire_times(datetime(2024, 10, 26, 12, tzinfo=BERLIN), 2)
    assert _iso(times) == ["2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"]


def test_seoul_has_no_dst_and_weekly_times_are_exact() -> None:
    schedule = make_schedule("digest", "0 8 * * mon", SEOUL)
    times = schedule.fire_times(datetime(2026, 11, 25, 12, tzinfo=SEOUL), 3)
    assert _iso(times) == [
        "2026-11-30T08:00:00+09:00",
        "2026-12-07T08:00:00+09:00",
        "2026-12-14T08:00:00+09:00",
    ]


def test_intervals_are_anchored_and_do_not_depend_on_start_time() -> None:
    schedule = make_schedule("build", "15m", SEOUL)
    first = schedule.fire_times(datetime(2026, 11, 25, 12, 7, 31, tzinfo=SEOUL), 3)
    assert _iso(first) == [
        "2026-11-25T12:15:00+09:00",
        "2026-11-25T12:30:00+09:00",
        "2026-11-25T12:45:00+09:00",
    ]


def test_interval_across_fall_back_keeps_real_spacing() -> None:
    schedule = make_schedule("build", "30m", NEW_YORK)
    times = schedule.fire_times(datetime(2024, 11, 3, 0, 50, tzinfo=NEW_YORK), 4)
    instants = [t.astimezone(UTC) for t in times]
    gaps = {b - a for a, b in pairwise(instants)}
    assert gaps == {timedelta(minutes=30)}
    assert times[-1].isoformat() == "2024-11-03T01:30:00-05:00"


@pytest.mark.parametrize(
    ("minutes_late", "expected"),
    [(10, "2026-11-30T08:00:00+09:00"), (59, "2026-11-30T08:00:00+09:00"), (61, None)],
)
def test_a_missed_digest_is_caught_up_only_within_the_grace_time(
    minutes_late: int, expected: str | None
) -> None:
    schedule = make_schedule("digest", "0 8 * * mon", SEOUL)
    last_run = datetime(2026, 11, 23, 8, 0, 5, tzinfo=SEOUL)
    now = datetime(2026, 11, 30, 8, 0, tzinfo=SEOUL) + timedelta(minutes=minutes_late)
    due = missed_run(schedule, last_run, now, grace=timedelta(hours=1))
    assert (due.isoformat() if due else None) == expected


def test_nothing_is_missed_when_the_job_already_ran_after_its_time() -> None:
    schedule = make_schedule("digest", "0 8 * * mon", SEOUL)
    last_run = datetime(2026, 11, 30, 8, 0, 2, tzinfo=SEOUL)
    now = datetime(2026, 11, 30, 8, 30, tzinfo=SEOUL)
    assert missed_run(schedule, last_run, now, grace=timedelta(hours=1)) is None


def test_a_job_that_never_ran_is_not_caught_up() -> None:
    schedule = make_schedule("digest", "0 8 * * mon", SEOUL)
    now = datetime(2026, 11, 30, 8, 30, tzinfo=SEOUL)
    assert missed_run(schedule, None, now, grace=timedelta(hours=1)) is None
