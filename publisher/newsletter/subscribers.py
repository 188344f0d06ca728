"""`publisher subscribers …`: add, remove, list, import and export subscribers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.core.models import SUBSCRIBER_STATUSES
from publisher.newsletter.addresses import AddressError, clean_name, parse_address
from publisher.newsletter.preferences import (
    PreferenceError,
    Preferences,
    preference_columns,
    preferences_from_columns,
    preferences_with_columns,
    save_preferences,
)
from publisher.newsletter.spreadsheet import csv_rows, csv_text
from publisher.state.locking import exclusive
from publisher.state.store import (
    Store,
    SubscriberRow,
    open_store,
    reading,
)


class SubscriberError(PublisherError):
    pass


@contextmanager
def ledger(config: Config) -> Iterator[Store]:
    with exclusive(config), open_store(config.state_db) as store:
        yield store


@contextmanager
def unlocked(config: Config) -> Iterator[Store]:
    """For one-row changes that may happen while a digest is being sent (an unsubscribe):
    SQLite keeps them consistent, and the sender skips inactive subscribers page by page."""
    with open_store(config.state_db) as store:
        yield store


@dataclass(frozen=True)
class AddOutcome:
    subscriber: SubscriberRow
    created: bool
    needs_smtputf8: bool = False
    """A non-ASCII local part: only a relay offering SMTPUTF8 (RFC 6531) can send to it."""


SMTPUTF8_NOTE = (
    "needs SMTPUTF8 (a non-ASCII local part, RFC 6531): only a relay that offers it can "
    "deliver to this address; `publisher check` says whether yours does"
)


def _add(
    store: Store,
    raw_email: str,
    raw_name: str,
    now: datetime,
    status: str = "active",
    preferences: Preferences | None = None,
) -> AddOutcome:
    try:
        address = parse_address(raw_email)
        name = clean_name(raw_name)
    except AddressError as e:
        hint = "shorten the name" if "name" in str(e) else "check the address"
        raise SubscriberError(f"{raw_email!r}: {e}", hint=hint) from None
    existing = store.find_subscriber(address.key)
    if existing is not None:
        return AddOutcome(existing, created=False)
    added = store.add_subscriber(address.email, address.key, name, status, now)
    if preferences is not None:
        save_preferences(store, added.id, preferences, now)
    return AddOutcome(added, True, address.needs_smtputf8)


def add_subscriber(
    config: Config,
    email: str,
    name: str,
    now: datetime,
    *,
    categories: Sequence[str] = (),
    cadence: str = "",
) -> AddOutcome:
    """Add an active subscriber with the categories (none: every one) and cadence given;
    an existing address is left exactly as it is."""
    with ledger(config) as store:
        try:
            chosen = preferences_from_columns(config, store, " ".join(categories), cadence)
        except PreferenceError as e:
            raise SubscriberError(e.message, hint=e.hint) from None
        # Nothing chosen: no preferences stored, so the reader follows the site's defaults.
        preferences = chosen if categories or cadence else None
        return _add(store, email, name, now, preferences=preferences)


def remove_subscriber(config: Config, email: str, now: datetime) -> SubscriberRow:
    """Mark the address unsubscribed; it is kept so no import can silently re-activate it."""
    with ledger(config) as store:
        subscriber = find(store, email)
        store.set_subscriber_status(subscriber.id, "unsubscribed", now)
        updated = store.subscriber_by_id(subscriber.id)
        assert updated is not None
        return updated


def find(store: Store, email: str) -> SubscriberRow:
    try:
        key = parse_address(email).key
    except AddressError as e:
        raise SubscriberError(f"{email!r}: {e}") from None
    subscriber = store.find_subscriber(key)
    if subscriber is None:
        raise SubscriberError(
            f"no subscriber {email}", hint="`publisher subscribers list` shows who there is"
        )
    return subscriber


def list_subscribers(config: Config, status: str | None) -> list[SubscriberRow]:
    """Read without the lock, so a listing never waits for a digest being sent."""
    with reading(config.state_db) as store:
        if store is None:
            return []
        return list(store.subscribers(status))


INACTIVE = ("unsubscribed", "bounced")
"""Statuses an import may set on an existing address but never lift."""


@dataclass
class ImportReport:
    added: int = 0
    already_present: int = 0
    kept_inactive: list[str] = field(default_factory=list)
    """Addresses that unsubscribed or bounced: left as they are."""
    deactivated: list[str] = field(default_factory=list)
    """Active addresses the file says unsubscribed or bounced (restoring a backup)."""
    bad_rows: list[tuple[int, str]] = field(default_factory=list)
    """(line number, reason)."""
    needs_smtputf8: list[str] = field(default_factory=list)
    """Added addresses that only a relay offering SMTPUTF8 can deliver to."""
    preferences_changed: list[str] = field(default_factory=list)
    """Addresses already listed whose categories or cadence the file changed."""


COLUMNS = ("email", "name", "status", "categories", "cadence")
"""The columns of an export, which an import reads back; all but email may be left out."""


def import_subscribers(config: Config, path: Path, now: datetime) -> ImportReport:
    """Import `email[,name[,status[,categories[,cadence]]]]` rows; report every bad row by
    line, import the good ones. The preference columns a row has are set for new and
    listed addresses alike; statuses only ever move away from active."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise SubscriberError(f"no file {path}") from None
    except UnicodeDecodeError as e:
        raise SubscriberError(f"{path} is not UTF-8 (byte {e.start})", hint="save as UTF-8") from e
    report = ImportReport()
    with ledger(config) as store:
        for found in csv_rows(text):
            line, row = found.line, found.fields
            if found.problem:
                report.bad_rows.append((line, found.problem))
            elif not "".join(row).strip() or (line == 1 and row[0].strip().casefold() == "email"):
                continue
            elif problem := _import_row(config, store, row, now, report):
                report.bad_rows.append((line, problem))
    return report


def _import_row(
    config: Config, store: Store, row: list[str], now: datetime, report: ImportReport
) -> str:
    """Import one row into `report`; what is wrong with it, or "" when nothing is."""
    if len(row) > len(COLUMNS):
        return f"expected {','.join(COLUMNS)} but found {len(row)} fields"
    status = row[2].strip() if len(row) > 2 else "active"
    if status not in SUBSCRIBER_STATUSES:
        return f"status {status!r} is not one of {', '.join(SUBSCRIBER_STATUSES)}"
    try:
        given = any(cell.strip() for cell in row[3:5])
        chosen = preferences_from_columns(config, store, *row[3:5])
        outcome = _add(
            store, row[0], row[1] if len(row) > 1 else "", now, status, chosen if given else None
        )
        changed = (
            None
            if outcome.created
            else preferences_with_columns(config, store, outcome.subscriber.id, row[3:5])
        )
    except PreferenceError as e:
        return f"{e.message} ({e.hint})" if e.hint else e.message
    except SubscriberError as e:
        return e.message
    existing = outcome.subscriber
    if changed is not None:
        save_preferences(store, existing.id, changed, now)
        report.preferences_changed.append(existing.email)
    if outcome.created:
        report.added += 1
        if outcome.needs_smtputf8:
            report.needs_smtputf8.append(existing.email)
    elif status in INACTIVE and existing.status not in INACTIVE:
        store.set_subscriber_status(existing.id, status, now)
        report.deactivated.append(existing.email)
    elif existing.status in INACTIVE:
        report.kept_inactive.append(existing.email)
    else:
        report.already_present += 1
    return ""


def export_subscribers(config: Config) -> str:
    """Every subscriber as CSV (email,name,status,categories,cadence), safe to open in a
    spreadsheet."""
    with reading(config.state_db) as store:
        chosen = store.all_preferences() if store is not None else {}
    rows = [list(COLUMNS)]
    for subscriber in list_subscribers(config, None):
        columns = preference_columns(config, chosen.get(subscriber.id))
        rows.append([subscriber.email, subscriber.name, subscriber.status, *columns])
    return csv_text(rows)
