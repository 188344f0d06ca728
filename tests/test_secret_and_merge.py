"""Issue 11 cases 5, 8 and 9: the signing secret is never silently replaced; one mailbox is
one subscriber, also for a list stored before that rule; `check` notes mail problems."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

from publisher.cli import cli
from publisher.core.config import Config
from publisher.core.errors import StateError
from publisher.newsletter import credentials
from publisher.newsletter.credentials import (
    rotate_secret,
    secret_file,
    signing_keys,
    signing_secret,
)
from publisher.newsletter.reader_links import choosing
from publisher.newsletter.tokens import preferences_token, unsubscribe_token
from publisher.newsletter.unsubscribe import unsubscribe
from publisher.state.migrations import MIGRATIONS, migrate
from publisher.state.signing_keys import SigningKeyQueries
from publisher.state.store import open_store
from tests.conftest import NOW


def publisher(config: Path, *args: str) -> CliResult:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), *args])


@pytest.fixture
def no_secret_env(config: Config, monkeypatch: pytest.MonkeyPatch) -> Config:
    monkeypatch.delenv(config.digest.secret_env, raising=False)
    monkeypatch.delenv(config.digest.secret_env + "_PREVIOUS", raising=False)
    return config


def test_a_lost_secret_file_stops_with_a_hint_instead_of_a_new_key(no_secret_env: Config) -> None:
    config = no_secret_env
    signing_secret(config)
    secret_file(config).rename(secret_file(config).with_suffix(".moved"))

    with pytest.raises(StateError, match="fingerprint") as caught:
        signing_secret(config)

    assert "restore" in caught.value.hint and "secret rotate" in caught.value.hint
    assert not secret_file(config).exists(), "no new secret was made behind the user's back"


def test_a_different_secret_in_the_environment_is_refused(
    no_secret_env: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    signing_secret(no_secret_env)
    monkeypatch.setenv(no_secret_env.digest.secret_env, "someone-elses-secret")

    with pytest.raises(StateError, match="is not it"):
        signing_secret(no_secret_env)


def test_rotate_keeps_old_links_working_for_the_grace_period_only(no_secret_env: Config) -> None:
    config = no_secret_env
    old = signing_secret(config)
    publisher(config.file, "subscribers", "add", "kim@example.org")
    old_link = unsubscribe_token(old, 1, "kim@example.org")

    rotated = publisher(config.file, "secret", "rotate", "--grace-days", "30")

    assert rotated.exit_code == 0, rotated.output
    assert "verifies links until 2024-07-20" in rotated.output
    keys = signing_keys(config, NOW)
    assert keys.current != old and keys.previous == (old,)
    assert signing_keys(config, NOW + timedelta(days=31)).previous == ()
    subscriber, changed = unsubscribe(config, old_link, NOW + timedelta(days=29))
    assert changed and subscriber.status == "unsubscribed"


class Interrupted(Exception):
    """The process dying at that point (a kill leaves the same files and rows)."""


@pytest.mark.parametrize("stop", ["recording the new secret", "writing its final file"])
def test_a_rotation_stopped_half_way_wedges_nothing_and_can_be_run_again(
    no_secret_env: Config, monkeypatch: pytest.MonkeyPatch, stop: str
) -> None:
    config = no_secret_env
    old = signing_secret(config)
    publisher(config.file, "subscribers", "add", "kim@example.org")
    old_link = unsubscribe_token(old, 1, "kim@example.org")
    writes: list[list[bytes]] = []

    def dies_recording(*_args: object, **_kwargs: object) -> None:
        raise Interrupted

    def dies_on_the_second_write(path: Path, lines: list[bytes]) -> None:
        writes.append(lines)
        if len(writes) == 2:
            raise Interrupted
        real_write(path, lines)

    real_write = credentials._write_secret_file
    with monkeypatch.context() as patch:
        if stop == "recording the new secret":
            patch.setattr(SigningKeyQueries, "adopt_key", dies_recording)
        else:
            patch.setattr(credentials, "_write_secret_file", dies_on_the_second_write)
        with pytest.raises(Interrupted):
            rotate_secret(config, NOW, timedelta(days=30), lost=False)

    recorded = signing_keys(config, NOW)  # was: StateError, for every command, for good
    again = publisher(config.file, "secret", "rotate")
    after = signing_keys(config, NOW)

    assert (recorded.current == old) == (stop == "recording the new secret")
    assert again.exit_code == 0, again.output
    first_line = secret_file(config).read_text().splitlines()[0].encode()
    assert first_line == after.current and after.current not in (old, recorded.current)
    assert old in after.previous  # links already mailed still work for the grace period
    subscriber, changed = unsubscribe(config, old_link, NOW + timedelta(days=1))
    assert changed and subscriber.status == "unsubscribed"


def test_rotating_from_the_environment_needs_the_old_secret_beside_it(
    no_secret_env: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = no_secret_env
    name = config.digest.secret_env
    monkeypatch.setenv(name, "the-old-secret")
    signing_secret(config)
    monkeypatch.setenv(name, "the-new-secret")

    refused = publisher(config.file, "secret", "rotate")
    monkeypatch.setenv(name + "_PREVIOUS", "the-old-secret")
    rotated = publisher(config.file, "secret", "rotate")

    assert refused.exit_code == 2 and f"{name}_PREVIOUS" in refused.output
    assert rotated.exit_code == 0, rotated.output
    assert signing_keys(config, NOW).ring == [b"the-old-secret", b"the-new-secret"]


def test_check_warns_about_a_secret_only_in_state_an_unanswered_link_and_no_contact(
    no_secret_env: Config,
) -> None:
    path = no_secret_env.file
    path.write_text(
        path.read_text(encoding="utf-8").replace("contact = ", "# contact = "), encoding="utf-8"
    )

    result = publisher(path, "check")

    assert result.exit_code == 0, result.output
    assert "lives only in" in result.output and "back it up" in result.output
    assert "nothing here answers: set [web] base_url" in result.output
    assert "[mail] contact is empty" in result.output


def test_check_fails_when_the_secret_links_were_signed_with_is_gone_or_replaced(
    no_secret_env: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reproduces a review finding: with state/secret.key lost (or a different secret in the
    environment), `check` said ok, and even that the secret "lives only in" the missing file,
    while every digest stopped with exit 1."""
    signing_secret(no_secret_env)
    secret_file(no_secret_env).rename(secret_file(no_secret_env).with_suffix(".moved"))

    lost = publisher(no_secret_env.file, "check")
    monkeypatch.setenv(no_secret_env.digest.secret_env, "someone-elses-secret")
    replaced = publisher(no_secret_env.file, "check")

    assert lost.exit_code == 1, lost.output
    assert "fingerprint" in lost.output and "does not exist" in lost.output
    assert "secret rotate --lost" in lost.output and "lives only in" not in lost.output
    assert replaced.exit_code == 1 and "is not it" in replaced.output, replaced.output
    assert not secret_file(no_secret_env).exists(), "check made no secret"


def old_store(path: Path) -> sqlite3.Connection:
    """A state database as the release before case-insensitive addresses left it."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)")
    for version, (name, script) in enumerate(MIGRATIONS[:3], start=1):
        assert isinstance(script, str)
        db.executescript(script)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (version, name))
    return db


def test_the_migration_merges_case_duplicates_keeping_the_strictest_status(
    no_secret_env: Config,
) -> None:
    path = no_secret_env.state_db
    path.parent.mkdir(parents=True)
    moment = NOW.isoformat()
    with old_store(path) as db:
        rows = [
            (1, "Ann@example.org", "Ann@example.org", "active"),
            (2, "ann@example.org", "ann@example.org", "unsubscribed"),
            (3, "ANN@example.org", "ANN@example.org", "active"),
            (4, "bob@example.org", "bob@example.org", "active"),
            (5, "Bob@example.org", "Bob@example.org", "active"),
        ]
        db.executemany(
            "INSERT INTO subscribers VALUES (?, ?, ?, '', ?, ?, ?)",
            [(*row, moment, moment) for row in rows],
        )
        db.execute("INSERT INTO digests VALUES (1, ?, 's', 'h', 't', NULL)", (moment,))
        db.executemany(
            "INSERT INTO deliveries (digest_id, subscriber_id, status, updated_at) "
            "VALUES (1, ?, ?, ?)",
            [(4, "pending", moment), (5, "sent", moment)],
        )
    secret = signing_secret(no_secret_env)
    old_link = unsubscribe_token(secret, 5, "Bob@example.org")
    old_page = preferences_token(secret, 5, "Bob@example.org")

    with open_store(path) as store:
        merged = {s.email: s.status for s in store.subscribers()}
        deliveries = store.delivery_counts(1)
        page_opens = choosing(store, secret, old_page)

    # measured: 5 rows, 2 subscribers; Ann unsubscribed (strictest), Bob's sent row kept
    assert merged == {"Ann@example.org": "unsubscribed", "bob@example.org": "active"}
    assert (deliveries["sent"], deliveries["pending"]) == (1, 0)
    subscriber, changed = unsubscribe(no_secret_env, old_link, NOW)
    assert changed and subscriber.email == "bob@example.org"  # a link to the merged-away id
    # The preference page follows the merge as the unsubscribe link does (it did not).
    assert page_opens is not None and page_opens.email == "bob@example.org"


def test_migrate_runs_function_migrations_in_one_transaction(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "state.sqlite3")
    migrate(db, tmp_path / "state.sqlite3")
    version = db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    assert version == len(MIGRATIONS)
    assert db.execute("SELECT count(*) FROM subscriber_aliases").fetchone() == (0,)
