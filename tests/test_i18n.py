"""The one label catalogue: every language says everything English says, with the same
placeholders, and a tag falls back to English when its language is missing."""

from __future__ import annotations

import string
from datetime import UTC, datetime

import pytest

from publisher.core.i18n import CATALOGUE, DEFAULT_LANGUAGE, labels, language, long_date


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("tag", sorted(set(CATALOGUE) - {DEFAULT_LANGUAGE}))
def test_every_language_has_english_sections_keys_and_placeholders(tag: str) -> None:
    english, other = CATALOGUE[DEFAULT_LANGUAGE], CATALOGUE[tag]
    assert set(other) == set(english)
    for section, texts in english.items():
        assert set(other[section]) == set(texts), section
        for key, text in texts.items():
            assert _fields(other[section][key]) == _fields(text), f"{section}.{key}"
            assert other[section][key].strip(), f"{section}.{key} is empty"


def test_a_tag_is_read_by_its_primary_language_and_falls_back_to_english() -> None:
    assert language("ko-KR") == "ko"
    assert language("KO") == "ko"
    assert language("fr-CA") == DEFAULT_LANGUAGE
    assert labels("ko-KR", "index").cadence_legend == "받는 주기"
    assert labels("fr", "web").cadence_legend == "How often"
    with pytest.raises(AttributeError):
        _ = labels("en", "web").no_such_label


def test_long_dates_in_korean_and_in_english_whatever_the_locale() -> None:
    moment = datetime(2024, 6, 20, tzinfo=UTC)
    assert long_date(moment, "ko") == "2024년 6월 20일"
    assert long_date(moment, "en-GB") == "20 June 2024"
