"""Subscribers in the real SQLite store: validation, import, export, never re-activated."""

from __future__ import annotations

import dataclasses
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from publisher.core.config import Config
from publisher.newsletter.credentials import signing_secret
from publisher.newsletter.subscribers import (
    SubscriberError,
    add_subscriber,
    export_subscribers,
    import_subscribers,
    list_subscribers,
    remove_subscriber,
)
from publisher.newsletter.tokens import unsubscribe_token
from publisher.newsletter.unsubscribe import unsubscribe
from publisher.state.locking import exclusive
from publisher.state.migrations import MIGRATIONS
from publisher.state.store import open_store
from tests.conftest import NOW


def test_one_mailbox_is_one_subscriber_whatever_the_case_and_the_first_spelling_stays(
    config: Config,
) -> None:
    first = add_subscriber(config, "Reader@Example.COM", "Reader", NOW)
    spellings = ["Reader@example.com", "reader@example.com", "READER@EXAMPLE.COM"]
    later = [add_subscriber(config, spelling, "", NOW) for spelling in spellings]
    # Unicode: a composed and a decomposed "é" in the local part are one address too.
    composed = add_subscriber(config, "Jos\u00e9@example.org", "", NOW)
    decomposed = add_subscriber(config, "JOSE\u0301@example.org", "", NOW)

    assert first.created and not any(outcome.created for outcome in later)
    assert {outcome.subscriber.id for outcome in later} == {first.subscriber.id}
    assert first.subscriber.email == later[-1].subscriber.email == "Reader@example.com"
    assert composed.created and not decomposed.created
    assert len(list_subscribers(config, None)) == 2  # measured: 6 spellings, 2 subscribers


@pytest.mark.parametrize(
    "bad",
    ["no-at-sign", "a@b", "x@example.com\r\nBcc: victim@example.org", "x@exa mple.com", ""],
)
def test_invalid_or_header_breaking_addresses_are_refused(config: Config, bad: str) -> None:
    with pytest.raises(SubscriberError):
        add_subscriber(config, bad, "", NOW)
    assert list_subscribers(config, None) == []


def test_a_name_with_a_line_break_is_refused(config: Config) -> None:
    with pytest.raises(SubscriberError, match="line break"):
        add_subscriber(config, "a@example.com", "Evil\nBcc: x@example.org", NOW)


def test_internationalised_addresses_are_kept(config: Config) -> None:
    outcome = add_subscriber(config, "독자@예시.한국", "독자", NOW)
    assert outcome.subscriber.email == "독자@예시.한국"


def test_import_reports_bad_rows_by_line_and_imports_the_good_ones(
    config: Config, tmp_path: Path
) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "email,name\n"
        "one@example.com,One\n"
        "not-an-address,Bad\n"
        "two@example.com\n"
        "\n"
        "one@EXAMPLE.com,Duplicate differing only in the domain's case\n"
        "three@example.com,Three,extra\n"
        "five@example.com,Five,active,,weekly,more\n"
        'four@example.com,"Four, Esq."\n',
        encoding="utf-8",
    )
    report = import_subscribers(config, csv_file, NOW)
    assert report.added == 3
    assert [line for line, _ in report.bad_rows] == [3, 7, 8]
    assert "not-an-address" in report.bad_rows[0][1]
    assert "status 'extra' is not one of" in report.bad_rows[1][1]
    assert "6 fields" in report.bad_rows[2][1]
    emails = {s.email: s.name for s in list_subscribers(config, "active")}
    assert emails == {
        "one@example.com": "One",
        "two@example.com": "",
        "four@example.com": "Four, Esq.",
    }
    assert report.already_present == 1
    assert emails["one@example.com"] == "One"  # the duplicate row changed nothing


def test_import_without_a_header_and_with_duplicates(config: Config, tmp_path: Path) -> None:
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("a@example.com,A\na@EXAMPLE.com,A again\n", encoding="utf-8")
    report = import_subscribers(config, csv_file, NOW)
    assert (report.added, report.already_present, report.bad_rows) == (1, 1, [])


def test_unsubscribed_and_bounced_addresses_are_never_reactivated(
    config: Config, tmp_path: Path
) -> None:
    add_subscriber(config, "gone@example.com", "", NOW)
    remove_subscriber(config, "gone@example.com", NOW)
    store = open_store(config.state_db)
    bounced = store.add_subscriber("dead@example.com", "dead@example.com", "", "bounced", NOW)
    store.close()
    csv_file = tmp_path / "list.csv"
    csv_file.write_text("gone@example.com\ndead@example.com\n", encoding="utf-8")
    report = import_subscribers(config, csv_file, NOW)
    assert sorted(report.kept_inactive) == ["dead@example.com", "gone@example.com"]
    statuses = {s.email: s.status for s in list_subscribers(config, None)}
    assert statuses == {"gone@example.com": "unsubscribed", "dead@example.com": "bounced"}
    assert not add_subscriber(config, "gone@example.com", "", NOW).created
    assert bounced.status == "bounced"


def test_export_writes_every_subscriber_as_csv(config: Config) -> None:
    add_subscriber(config, "a@example.com", "Ann, Jr.", NOW)
    add_subscriber(config, "b@example.com", "", NOW)
    remove_subscriber(config, "b@example.com", NOW)
    assert export_subscribers(config) == (
        "email,name,status,categories,cadence\n"
        'a@example.com,"Ann, Jr.",active,,weekly\n'
        "b@example.com,,unsubscribed,,weekly\n"
    )


def test_a_token_unsubscribes_only_its_own_subscriber(config: Config) -> None:
    alice = add_subscriber(config, "alice@example.com", "", NOW).subscriber
    bob = add_subscriber(config, "bob@example.com", "", NOW).subscriber
    secret = signing_secret(config)
    token = unsubscribe_token(secret, alice.id, alice.email_key)
    row, changed = unsubscribe(config, token, NOW)
    assert (row.email, row.status, changed) == ("alice@example.com", "unsubscribed", True)
    assert {s.email: s.status for s in list_subscribers(config, None)}["bob@example.com"] == (
        "active"
    )
    # Alice's token with Bob's id, or a token signed with another secret, does nothing.
    forged = unsubscribe_token(secret, bob.id, alice.email_key)
    other_secret = unsubscribe_token(b"not the secret", bob.id, bob.email_key)
    payload, signature = token.rsplit(".", 1)
    # Change a whole character of the signature: the last one also carries ignored bits.
    tampered = f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    for bad in (forged, other_secret, tampered, "garbage"):
        with pytest.raises(SubscriberError, match="not valid"):
            unsubscribe(config, bad, NOW)
    assert {s.email: s.status for s in list_subscribers(config, None)}["bob@example.com"] == (
        "active"
    )


def test_the_secret_is_generated_once_with_owner_only_permissions(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(config.digest.secret_env, raising=False)
    first = signing_secret(config)
    path = config.paths.state / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_secret(config) == first
    monkeypatch.setenv(config.digest.secret_env, first.decode())
    assert signing_secret(config) == first  # the same secret, now from the environment


def test_the_store_migrates_in_order_and_refuses_a_newer_schema(config: Config) -> None:
    store = open_store(config.state_db)
    assert store.schema_version() == len(MIGRATIONS) >= 4
    with store.transaction() as db:
        db.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')")
    store.close()
    from publisher.core.errors import StateError

    with pytest.raises(StateError, match="newer"):
        open_store(config.state_db)


def test_an_export_imports_back_with_every_status_kept(config: Config, tmp_path: Path) -> None:
    config = dataclasses.replace(
        config, digest=dataclasses.replace(config.digest, cadences=("weekly", "daily"))
    )
    add_subscriber(config, "kim@example.org", "김철수", NOW)
    add_subscriber(config, "lee@example.org", "", NOW, categories=("경제", "tech"), cadence="daily")
    add_subscriber(config, "gone@example.org", "", NOW)
    remove_subscriber(config, "gone@example.org", NOW)
    backup = tmp_path / "backup.csv"
    backup.write_text(export_subscribers(config), encoding="utf-8")
    fresh = dataclasses.replace(
        config, paths=dataclasses.replace(config.paths, state=tmp_path / "fresh-state")
    )

    report = import_subscribers(fresh, backup, NOW)

    assert report.bad_rows == []
    restored = {s.email: (s.name, s.status) for s in list_subscribers(fresh, None)}
    assert restored == {
        "kim@example.org": ("김철수", "active"),
        "lee@example.org": ("", "active"),
        "gone@example.org": ("", "unsubscribed"),
    }
    assert export_subscribers(fresh) == export_subscribers(config)
    assert "lee@example.org,,active,tech 경제,daily\n" in export_subscribers(fresh)


def test_a_name_longer_than_100_characters_is_refused(config: Config) -> None:
    with pytest.raises(SubscriberError, match="longer than 100"):
        add_subscriber(config, "long@example.org", "가" * 101, NOW)
    assert add_subscriber(config, "ok@example.org", "가" * 100, NOW).created


def test_listing_and_unsubscribing_never_wait_for_a_send_in_progress(config: Config) -> None:
    add_subscriber(config, "kim@example.org", "", NOW)
    with exclusive(config, wait_seconds=0):  # a digest is being sent
        assert [s.email for s in list_subscribers(config, "active")] == ["kim@example.org"]
        row, changed = unsubscribe(config, "kim@example.org", NOW)
    assert changed and row.status == "unsubscribed"


def test_every_ledger_commit_waits_for_the_disk(config: Config) -> None:
    store = open_store(config.state_db)
    try:
        assert store._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        store.close()


def test_restoring_a_backup_over_a_live_list_unsubscribes_but_never_reactivates(
    config: Config, tmp_path: Path
) -> None:
    add_subscriber(config, "left@example.org", "", NOW)
    add_subscriber(config, "gone@example.org", "", NOW)
    remove_subscriber(config, "gone@example.org", NOW)
    backup = tmp_path / "backup.csv"
    backup.write_text(
        "email,name,status\nleft@example.org,,unsubscribed\ngone@example.org,,active\n",
        encoding="utf-8",
    )

    report = import_subscribers(config, backup, NOW)

    assert report.deactivated == ["left@example.org"]
    assert report.kept_inactive == ["gone@example.org"]
    statuses = {s.email: s.status for s in list_subscribers(config, None)}
    assert statuses == {"left@example.org": "unsubscribed", "gone@example.org": "unsubscribed"}


def test_unconfirmed_sign_ups_are_forgotten_once_their_links_are_long_expired(
    config: Config,
) -> None:
    add_subscriber(config, "kept@example.org", "", NOW)
    store = open_store(config.state_db)
    try:
        store.add_subscriber_if_new("old@example.org", "old@example.org", "", "pending", NOW)
        later = NOW + timedelta(days=1)
        store.add_subscriber_if_new("new@example.org", "new@example.org", "", "pending", later)

        forgotten = store.forget_unconfirmed(NOW + timedelta(hours=12))

        assert forgotten == 1
        assert {s.email for s in store.subscribers(None)} == {
            "kept@example.org",
            "new@example.org",
        }
    finally:
        store.close()
