"""Counted nouns in messages: "1 post", "2 posts", "1 entry", "3 entries"."""

from __future__ import annotations


def counted(number: int, noun: str, plural: str = "") -> str:
    """`number` and the noun, singular for exactly one; `plural` when adding "s" is wrong."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
