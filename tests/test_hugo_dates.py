"""Hugo's page dates: every page's four dates against the real Hugo's (instant and offset),
then the `frontmatter` config and the date formats rule by rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest

from publisher.core.errors import ConfigError
from publisher.sources.hugo.dates import (
    date_and_slug_from_name,
    date_rules,
    parse_hugo_date,
    resolve_dates,
)
from tests.hugo_ours import our_page, our_site
from tests.hugo_peer import BUILDS, CONTENT_MTIME, HugoBuilds, build_id

SEOUL = ZoneInfo("Asia/Seoul")
HUGO_ZERO_DATE = "Mon, 01 Jan 0001 00:00:00 +0000"
"""Go's zero time as Hugo's RSS writes it (email.utils would read the year as 2001)."""


def _hugo_time(text: str) -> datetime | None:
    if not text:
        return None
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(ch for ch in rest if ch.isdigit())
        text = f"{head}.{digits[:6]}{rest[len(digits) :]}"
    return datetime.fromisoformat(text)


def _same(ours: datetime | None, theirs: datetime | None) -> bool:
    if ours is None or theirs is None:
        return ours is theirs
    return ours == theirs and ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_every_page_date_equals_hugos(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    ours = our_site(hugo, file_mod_time=True)
    compared = 0
    for lang in hugo.dumps:
        for theirs in hugo.pages(lang):
            page = our_page(ours, lang, theirs["file"]["path"])
            pairs = {
                "date": (page.dates.date, theirs["date"]),
                "publishDate": (page.dates.publish_date, theirs["publishDate"]),
                "lastmod": (page.dates.lastmod, theirs["lastmod"]),
                "expiryDate": (page.dates.expiry_date, theirs["expiryDate"]),
            }
            for name, (mine, their_text) in pairs.items():
                assert _same(mine, _hugo_time(their_text)), (theirs["file"]["path"], name)
                compared += 1
    assert compared >= 40


@pytest.mark.parametrize("build", BUILDS, ids=build_id)
def test_rss_pub_dates_are_the_page_dates(hugo_builds: HugoBuilds, build) -> None:
    hugo = hugo_builds.get(build[0], *build[1])
    dates = {page.permalink: page.dates.date for page in our_site(hugo).pages}
    checked = 0
    for feed in hugo.feeds.values():
        for item in feed.items:
            if item.link in dates and dates[item.link] is None:
                assert item.pub_date == HUGO_ZERO_DATE, item  # Hugo's date of an undated page
            elif item.link in dates:
                assert parsedate_to_datetime(item.pub_date) == dates[item.link], item
                checked += 1
    assert checked > 10


def test_file_times_only_when_the_operator_opts_in(hugo_builds: HugoBuilds) -> None:
    hugo = hugo_builds.get("almanac")
    opted_in = our_page(our_site(hugo, file_mod_time=True), "en", "entries/undated-entry.md")
    assert opted_in.dates.lastmod == CONTENT_MTIME
    left_out = our_site(hugo, file_mod_time=False)
    page = our_page(left_out, "en", "entries/undated-entry.md")
    assert page.dates.lastmod is None
    assert any(":fileModTime skipped" in note for note in left_out.notes)


def test_frontmatter_config_expands_default_and_aliases() -> None:
    rules = date_rules({"date": [":filename", ":default"], "lastmod": ["lastmod"]})
    assert rules.handlers["date"] == (
        ":filename",
        "date",
        "publishdate",
        "pubdate",
        "published",
        "lastmod",
        "modified",
    )
    assert rules.handlers["lastmod"] == ("lastmod", "modified")
    assert rules.handlers["expirydate"] == ("expirydate", "unpublishdate")
    assert "pubdate" in rules.date_keys and ":filename" not in rules.date_keys


def test_unknown_date_handler_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as raised:
        date_rules({"date": [":nosuch"], "published": ["x"]})
    assert len(raised.value.problems) == 2


def test_git_dates_are_skipped_with_a_note() -> None:
    rules = date_rules({"lastmod": [":git", "lastmod"]})
    assert any(":git is not supported" in note for note in rules.notes)
    found = resolve_dates(
        {"lastmod": "2023-01-02"}, rules, zone=UTC, content_base_name="x", mod_time=None
    )
    assert found.lastmod == datetime(2023, 1, 2, tzinfo=UTC)


def test_filename_gives_date_and_slug_unless_front_matter_has_a_slug() -> None:
    rules = date_rules({"date": [":filename", ":default"]})
    found = resolve_dates(
        {}, rules, zone=SEOUL, content_base_name="2023-02-14-my-post", mod_time=None
    )
    assert found.date == datetime(2023, 2, 14, tzinfo=SEOUL)
    assert found.filename_slug == "my-post"
    with_slug = resolve_dates(
        {"slug": "mine"}, rules, zone=SEOUL, content_base_name="2023-02-14-my-post", mod_time=None
    )
    assert with_slug.filename_slug is None
    assert date_and_slug_from_name("2023-13-01-bad", UTC) == (None, "")
    assert date_and_slug_from_name("short", UTC) == (None, "")


def test_unreadable_date_falls_through_with_a_note() -> None:
    rules = date_rules({})
    found = resolve_dates(
        {"date": "next tuesday", "publishdate": "2023-05-06"},
        rules,
        zone=UTC,
        content_base_name="x",
        mod_time=None,
    )
    assert found.date == datetime(2023, 5, 6, tzinfo=UTC)
    assert any("next tuesday" in note for note in found.notes)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-03-12T01:30:00", datetime(2023, 3, 12, 1, 30, tzinfo=SEOUL)),
        ("2023-03-12 01:30:00", datetime(2023, 3, 12, 1, 30, tzinfo=SEOUL)),
        ("2023-03-12", datetime(2023, 3, 12, tzinfo=SEOUL)),
        ("2023-03-12T01:30:00Z", datetime(2023, 3, 12, 1, 30, tzinfo=UTC)),
        (
            "2023-03-12T01:30:00.123456789-05:00",
            datetime(2023, 3, 12, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=-5))),
        ),
        (
            "2023-03-12T01:30:00+0900",
            datetime(2023, 3, 12, 1, 30, tzinfo=timezone(timedelta(hours=9))),
        ),
        ("Sun, 12 Mar 2023 01:30:00 +0000", datetime(2023, 3, 12, 1, 30, tzinfo=UTC)),
        ("12 Mar 2023", datetime(2023, 3, 12, tzinfo=SEOUL)),
        (date(2023, 3, 12), datetime(2023, 3, 12, tzinfo=SEOUL)),
        (datetime(2023, 3, 12, 1, 30, tzinfo=None), datetime(2023, 3, 12, 1, 30, tzinfo=SEOUL)),  # noqa: DTZ001 (a TOML local date-time)
        (1678584600, datetime(2023, 3, 12, 1, 30, tzinfo=UTC)),
        ("2023-02-30", None),
        ("yesterday", None),
        (True, None),
    ],
)
def test_date_formats_hugo_reads(value: object, expected: datetime | None) -> None:
    found = parse_hugo_date(value, SEOUL)
    assert found == expected
    if found is not None and expected is not None:
        assert found.utcoffset() == expected.utcoffset()
