"""Jekyll's `slugify` (every mode) and its title-from-file-name rule."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

SLUGIFY_MODES = ("raw", "default", "pretty", "ascii", "latin")
PRETTY_KEPT = frozenset("._~!$&'()+,;=@")


def _is_letter_mark_or_digit(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LM" or category == "Nd"


def _keeps(mode: str) -> Callable[[str], bool]:
    if mode == "raw":
        return lambda char: not char.isspace()
    if mode == "pretty":
        return lambda char: char in PRETTY_KEPT or _is_letter_mark_or_digit(char)
    if mode == "ascii":
        return lambda char: char.isascii() and char.isalnum()
    return _is_letter_mark_or_digit


def _replace_runs(text: str, keep: Callable[[str], bool]) -> str:
    out: list[str] = []
    in_run = False
    for char in text:
        if keep(char):
            out.append(char)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    return "".join(out)


def transliterate_latin(text: str) -> str:
    """Accented Latin letters to plain ones; anything else non-ASCII becomes `?` (I18n)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isascii() else "?" for c in plain)


def slugify(text: str, mode: str | None = None, *, cased: bool = False) -> str:
    """Jekyll's `Utils.slugify`: modes raw, default, pretty, ascii, latin; others keep text."""
    mode = mode or "default"
    if mode not in SLUGIFY_MODES:
        return text if cased else text.lower()
    if mode == "latin":
        text = transliterate_latin(text)
        mode = "default"
    slug = _replace_runs(text, _keeps(mode))
    # Ruby's gsub(/^-|-$/) strips one hyphen at each line's start and end
    slug = "\n".join(line.removeprefix("-").removesuffix("-") for line in slug.split("\n"))
    return slug if cased else slug.lower()


def titleize_slug(slug: str) -> str:
    """A title from a file name slug, as Jekyll gives one to a post without `title`."""
    parts = slug.split("-")
    while parts and not parts[-1]:  # Ruby's split drops trailing empty fields
        parts.pop()
    return " ".join(part[:1].upper() + part[1:].lower() for part in parts)
