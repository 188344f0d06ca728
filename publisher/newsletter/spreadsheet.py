"""Subscriber CSV as spreadsheets open it: cells that cannot run, rows of bounded size.

Export: a value a spreadsheet would read as a formula (starting with =, +, -, @, a
tab or a carriage return, as OWASP's "CSV injection" page lists) gets a leading
apostrophe, and so does one that already starts with an apostrophe, so that
import can take exactly one off again: export → import gives back the same list.

Import: the csv module's own field limit (131,072 characters) raises in the middle
of a file and loses track of where the next row starts; it is lifted for our
reader, and every field longer than MAX_FIELD_CHARS is a problem of its row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
MAX_FIELD_CHARS = 1000
"""Longest field an import reads: far beyond any address (320) or name we keep."""


def defused(value: str) -> str:
    """`value` as a cell no spreadsheet runs as a formula."""
    return ESCAPE + value if value.startswith((*FORMULA_STARTS, ESCAPE)) else value


def restored(value: str) -> str:
    """The value `defused` was given, from its cell; other cells as they are."""
    if value.startswith(ESCAPE) and value[1:].startswith((*FORMULA_STARTS, ESCAPE)):
        return value[1:]
    return value


def csv_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([defused(cell) for cell in row] for row in rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class Row:
    line: int
    """The line the row starts on (a quoted field may span lines)."""
    fields: list[str]
    problem: str = ""
    """Why the row cannot be used; its fields are then empty."""


def csv_rows(text: str) -> Iterator[Row]:
    """Each row of `text` with its first line, fields restored; too-long fields are a problem."""
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(max(previous_limit, len(text) + 1))  # a process-wide setting
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        next_line = 1
        for fields in reader:
            line, next_line = next_line, reader.line_num + 1
            longest = max((len(field) for field in fields), default=0)
            if longest > MAX_FIELD_CHARS:
                problem = (
                    f"a field is {longest:,} characters long; the limit is {MAX_FIELD_CHARS:,}"
                )
                yield Row(line, [], problem)
                continue
            yield Row(line, [restored(field) for field in fields])
    finally:
        csv.field_size_limit(previous_limit)
