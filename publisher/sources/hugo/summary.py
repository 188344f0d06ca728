"""`.Summary` and `.Truncated` as Hugo 0.111.3 computes them.

In order: the `summary` front matter (rendered as Markdown, a lone paragraph unwrapped);
else the content before `<!--more-->` (rendered HTML, cut before the paragraph holding the
divider); else the automatic summary, plain text made by Hugo's `StripHTML`:
- words are counted as whitespace characters; after the `summaryLength`-th the summary runs
  to the next `.`, `?`, `!`, `"` or newline (the whole sentence);
- on pages Hugo thinks are CJK (`hasCJKLanguage` and a Han, Hangul, Hiragana or Katakana
  character anywhere in the file, front matter included) each ASCII word counts one and
  every other word one per character, and the cut may fall inside a word.
Entities such as `&rsquo;` stay as written in the HTML, as in Hugo's plain summary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser

SUMMARY_DIVIDER = "<!--more-->"
DIVIDER_MARKER = "HUGOMORE42"
"""What the divider becomes before rendering: a paragraph of its own, found after rendering."""
_SENTENCE_ENDS = frozenset('.?!"\n')
_NEWLINE_PLACEHOLDER = "\x00hugonl\x00"
_CJK = re.compile(
    "[\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3038-\u303b\u3040-\u309f\u30a0-\u30ff"
    "\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9d"
    "\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\uac00-\ud7af\ud7b0-\ud7ff\uffa0-\uffdc"
    "\U00020000-\U0003134f\U0001b000-\U0001b16f]"
)
"""Han, Hangul, Hiragana and Katakana (the scripts of Hugo's cjkRe)."""


class SummarySource(StrEnum):
    FRONT_MATTER = "front matter"
    DIVIDER = "divider"
    AUTOMATIC = "automatic"


@dataclass(frozen=True)
class Summary:
    text: str
    """HTML for front matter and divider summaries; plain text (entities kept) otherwise."""
    truncated: bool
    source: SummarySource


def is_cjk(text: str) -> bool:
    return _CJK.search(text) is not None


def mark_summary_divider(body: str) -> tuple[str, bool, bool]:
    """The body with its first `<!--more-->` made a paragraph of its own (`DIVIDER_MARKER`),
    whether there was one, and whether anything but whitespace follows it."""
    index = body.find(SUMMARY_DIVIDER)
    if index == -1:
        return body, False, False
    rest = body[index + len(SUMMARY_DIVIDER) :].lstrip()
    marked = body[:index] + f"\n\n{DIVIDER_MARKER}\n\n" + rest
    return marked, True, bool(rest)


def split_at_divider(html: str) -> tuple[str, str]:
    """Hugo's split of rendered HTML at the marker: the summary ends before the `<p` that
    holds it, the content is the rest without the marker's paragraph."""
    start_divider = html.find(DIVIDER_MARKER)
    if start_divider == -1:
        return "", html
    start = html.rfind("<p", 0, start_divider)
    if start == -1:
        start = start_divider
    end = html.find("</p", start_divider)
    if end == -1:
        end = start_divider + len(DIVIDER_MARKER)
    else:
        end = start_divider + (end - start_divider) + len("</p>")
    summary = html[:start].strip()
    content = (html[:start] + html[end:].strip("\n")).strip()
    return summary, content


def trim_short_html(html: str) -> str:
    """Hugo's `TrimShortHTML`: a lone `<p>…</p>` loses its tags."""
    first_open = html.find("<p")
    last_open = html.rfind("<p")
    if first_open == last_open and html.rfind("</p>") == html.rfind("</"):
        html = html.strip().removeprefix("<p>").removesuffix("</p>").strip()
    return html


class _TagStripper(HTMLParser):
    """Text content with entities kept as written (html/template's `StripTags`)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        self.parts.append(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.parts.append(f"&#{name};")


def strip_html(html: str) -> str:
    """Hugo's `StripHTML`: newlines become spaces, `</p>` and `<br>` a newline, tags go,
    and each run of whitespace keeps only its first character."""
    if "<" not in html and ">" not in html:
        return html
    prepared = html.replace("\n", " ")
    for tag in ("</p>", "<br>", "<br />"):
        prepared = prepared.replace(tag, _NEWLINE_PLACEHOLDER)
    stripper = _TagStripper()
    stripper.feed(prepared)
    stripper.close()
    text = "".join(stripper.parts).replace(_NEWLINE_PLACEHOLDER, "\n")
    out: list[str] = []
    was_space = False
    for ch in text:
        is_space = ch.isspace()
        if not (is_space and was_space):
            out.append(ch)
        was_space = is_space
    return "".join(out)


def truncate_to_whole_sentence(plain: str, length: int) -> tuple[str, bool]:
    """Hugo's `TruncateWordsToWholeSentence`."""
    word_count = 0
    last_word_index = -1
    for index, ch in enumerate(plain):
        if ch.isspace():
            word_count += 1
            last_word_index = index
            if word_count >= length:
                break
    if last_word_index == -1:
        return plain, False
    end_index = -1
    for index in range(last_word_index, len(plain)):
        if plain[index] in _SENTENCE_ENDS:
            end_index = index + 1
            break
    if end_index == -1:
        return plain, False
    return plain[:end_index].strip(), end_index < len(plain)


def truncate_words_by_rune(words: list[str], length: int) -> tuple[str, bool]:
    """Hugo's `TruncateWordsByRune`: ASCII words count one, other words one per character."""
    count = 0
    for index, word in enumerate(words):
        if count >= length:
            return " ".join(words[:index]), True
        runes = len(word)
        if word.isascii():
            count += 1
        elif count + runes < length:
            count += runes
        else:
            for rune_index in range(runes):
                if count >= length:
                    return " ".join([*words[:index], word[:rune_index]]), True
                count += 1
    return " ".join(words), False


def automatic_summary(content_html: str, length: int, cjk: bool) -> Summary:
    plain = strip_html(content_html)
    if cjk:
        text, truncated = truncate_words_by_rune(plain.split(), length)
    else:
        text, truncated = truncate_to_whole_sentence(plain, length)
    return Summary(text, truncated, SummarySource.AUTOMATIC)


def hugo_summary(
    content_html: str,
    *,
    length: int,
    cjk: bool,
    front_matter_html: str | None = None,
    divider: bool = False,
    after_divider: bool = False,
) -> tuple[Summary, str]:
    """The page's summary and its content HTML (without the divider's marker).

    `content_html` is the rendered body (with `DIVIDER_MARKER` where `<!--more-->` was, when
    `divider`); `front_matter_html` the rendered `summary` front matter, if any.
    """
    if divider:
        summary, content = split_at_divider(content_html)
        return Summary(summary, after_divider, SummarySource.DIVIDER), content
    if front_matter_html is not None:
        text = trim_short_html(front_matter_html)
        return Summary(text, False, SummarySource.FRONT_MATTER), content_html
    return automatic_summary(content_html, length, cjk), content_html
