"""What each reader asked for: which categories, how often. Checked the same way for the
command line, CSV files, the subscribe form and the preference page."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.state.readers import PreferenceRow
from publisher.state.store import Store, reading

MAX_CATEGORIES = 64
"""Most categories one reader may choose; a form or file naming more is refused."""
_SLUG = re.compile(r"^[^\s,/\\]{1,100}$")


class PreferenceError(PublisherError):
    pass


@dataclass(frozen=True)
class Preferences:
    categories: tuple[str, ...] | None = None
    """Slugs, sorted; None for every category, including ones added later."""
    cadence: str = "weekly"

    def wants(self, post_categories: Iterable[str]) -> bool:
        return self.categories is None or not set(self.categories).isdisjoint(post_categories)


@dataclass(frozen=True)
class Choices:
    """What the site lets readers choose: its categories (slug → name) and cadences."""

    categories: dict[str, str]
    cadences: tuple[str, ...]

    @property
    def default_cadence(self) -> str:
        return self.cadences[0]


def default_cadence(config: Config) -> str:
    """What a reader gets who did not choose: the first of [digest] cadences."""
    return config.digest.cadences[0]


def effective_cadence(config: Config, cadence: str) -> str:
    """A cadence the site no longer offers counts as the default."""
    return cadence if cadence in config.digest.cadences else default_cadence(config)


def choices(config: Config) -> Choices:
    """The site's categories as the last build found them, and the cadences it offers."""
    with reading(config.state_db) as store:
        categories = store.site_categories() if store is not None else {}
    return Choices(categories, config.digest.cadences)


def check_cadence(config: Config, cadence: str) -> str:
    if cadence not in config.digest.cadences:
        raise PreferenceError(
            f"cadence {cadence!r} is not offered",
            hint=f"choose one of {', '.join(config.digest.cadences)} ([digest] cadences)",
        )
    return cadence


def check_categories(known: dict[str, str], slugs: Iterable[str]) -> tuple[str, ...]:
    """Category slugs, sorted and without repeats; each must be one the site has, once the
    site has been built (before that, any well-formed slug)."""
    chosen = sorted({slug.strip() for slug in slugs if slug.strip()})
    if not chosen:
        raise PreferenceError(
            "no category given", hint="name at least one category, or leave them all"
        )
    if len(chosen) > MAX_CATEGORIES:
        raise PreferenceError(f"{len(chosen)} categories; at most {MAX_CATEGORIES} may be chosen")
    if bad := [slug for slug in chosen if not _SLUG.match(slug)]:
        raise PreferenceError(f"{bad[0]!r} is not a category slug", hint="give slugs like economy")
    if known and (unknown := [slug for slug in chosen if slug not in known]):
        listed = ", ".join(sorted(known)[:20])
        raise PreferenceError(
            f"no category {unknown[0]!r} on this site", hint=f"the site's categories: {listed}"
        )
    return tuple(chosen)


def split_categories(cell: str) -> list[str]:
    """A CSV cell or option value: slugs separated by spaces, commas or semicolons."""
    return [part for part in re.split(r"[\s,;]+", cell) if part]


def preferences_of(store: Store, config: Config, subscriber_id: int) -> Preferences:
    """A reader's stored preferences, with defaults for what they never chose."""
    row = store.preferences_of(subscriber_id)
    if row is None:
        return Preferences(None, default_cadence(config))
    return Preferences(row.categories, effective_cadence(config, row.cadence))


def save_preferences(
    store: Store, subscriber_id: int, preferences: Preferences, now: datetime
) -> None:
    store.set_preferences(subscriber_id, preferences.categories, preferences.cadence, now)


def preferences_from_columns(
    config: Config, store: Store, categories: str = "", cadence: str = ""
) -> Preferences:
    """Preferences from a CSV row's or the command line's text: slugs separated by spaces
    or commas (empty: every category) and a cadence (empty: the default)."""
    slugs = split_categories(categories)
    chosen = check_categories(store.site_categories(), slugs) if slugs else None
    return Preferences(chosen, check_cadence(config, cadence.strip() or default_cadence(config)))


def preferences_with_columns(
    config: Config, store: Store, subscriber_id: int, columns: Sequence[str]
) -> Preferences | None:
    """A listed reader's preferences with a CSV row's `categories` and `cadence` cells put
    in, for the columns the row has (an empty cell: every category, the default cadence);
    None when that changes nothing."""
    current = preferences_of(store, config, subscriber_id)
    categories, cadence = current.categories, current.cadence
    if columns:
        slugs = split_categories(columns[0])
        categories = check_categories(store.site_categories(), slugs) if slugs else None
    if len(columns) > 1:
        cadence = check_cadence(config, columns[1].strip() or default_cadence(config))
    wanted = Preferences(categories, cadence)
    return None if wanted == current else wanted


def preference_columns(config: Config, row: PreferenceRow | None) -> tuple[str, str]:
    """The categories and cadence columns of an export."""
    if row is None:
        return "", default_cadence(config)
    return " ".join(row.categories or ()), effective_cadence(config, row.cadence)
