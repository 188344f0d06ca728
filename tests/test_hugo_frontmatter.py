"""Hugo front matter: TOML, YAML and JSON, where the body starts, and bounded parsing with
errors that name the file and line."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import PurePath

import pytest

from publisher.core.errors import ContentError
from publisher.sources.hugo.frontmatter import (
    MAX_DATA_CHARS,
    DataFormat,
    Markup,
    markup_of,
    split_front_matter,
    unsupported_markup_note,
)


def test_toml_front_matter_keeps_dates_typed() -> None:
    found = split_front_matter(
        '+++\ntitle = "T"\ndate = 2023-01-15T08:30:00Z\nday = 2023-01-16\n+++\nBody\n', "a.md"
    )
    assert found.format is DataFormat.TOML
    assert found.data == {
        "title": "T",
        "date": datetime(2023, 1, 15, 8, 30, tzinfo=UTC),
        "day": date(2023, 1, 16),
    }
    assert (found.body, found.body_line) == ("Body\n", 6)


def test_yaml_front_matter_keeps_dates_as_text_and_reads_yaml_1_1_booleans() -> None:
    found = split_front_matter(
        "---\ntitle: T\ndate: 2023-03-12T01:30:00\ndraft: yes\n---\nBody", "b.md"
    )
    assert found.format is DataFormat.YAML
    assert found.data == {"title": "T", "date": "2023-03-12T01:30:00", "draft": True}
    assert found.body_line == 6


def test_json_front_matter_ends_where_the_object_ends() -> None:
    found = split_front_matter('{\n  "title": "J",\n  "tags": ["a"]\n}\nBody {not json}\n', "c.md")
    assert found.format is DataFormat.JSON
    assert found.data == {"title": "J", "tags": ["a"]}
    assert (found.body, found.body_line) == ("Body {not json}\n", 5)


def test_leading_blank_lines_and_byte_order_mark_are_skipped() -> None:
    found = split_front_matter('\ufeff\n\n+++\ntitle = "T"\n+++\nx', "d.md")
    assert found.data == {"title": "T"}


def test_no_front_matter() -> None:
    found = split_front_matter("Just text.\n- a list\n", "e.md")
    assert found.format is None and found.data == {} and found.body == "Just text.\n- a list\n"
    assert split_front_matter("- item\n", "f.md").format is None


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("---\ntitle: T\ntags: [a, b\n---\n", 4, "invalid YAML"),
        ('+++\ntitle = "T"\ndate = \n+++\n', 3, "invalid TOML"),
        ('{\n "title": "T",\n}\n', 3, "invalid JSON"),
        ("---\ntitle: T\n", 1, "never closed"),
        ("---\n- a\n- b\n---\n", 2, "must be a mapping"),
    ],
)
def test_syntax_errors_name_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ContentError) as raised:
        split_front_matter(text, "content/posts/x.md")
    problem = raised.value.problems[0]
    assert problem.where == f"content/posts/x.md:{line}"
    assert words in problem.message


def test_oversized_front_matter_is_refused() -> None:
    text = "---\nx: '" + "a" * MAX_DATA_CHARS + "'\n---\n"
    with pytest.raises(ContentError) as raised:
        split_front_matter(text, "big.md")
    assert "larger than" in raised.value.message


def test_markups_we_render_and_the_ones_we_skip() -> None:
    assert markup_of(PurePath("a.md")) is Markup.MARKDOWN
    assert markup_of(PurePath("a.MARKDOWN")) is Markup.MARKDOWN
    assert markup_of(PurePath("a.html")) is Markup.HTML
    assert markup_of(PurePath("a.txt")) is None
    note = unsupported_markup_note(PurePath("posts/a.adoc"))
    assert note is not None and "AsciiDoc" in note and "skipped" in note
    assert unsupported_markup_note(PurePath("posts/a.md")) is None
