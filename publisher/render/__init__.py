"""Turning post bodies into HTML: readers, the syndication-safe pass, templates."""
