"""Issue 11: no recipient stops a digest, relay failures are not reader failures, ambiguity
only at the final dot, every failure visible. The real CLI and transport against the real
aiosmtpd sink on 127.0.0.1; each test states the figure it measured."""

from __future__ import annotations

import email
import email.policy
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from click.testing import Result as CliResult

from publisher.cli import cli
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.smtp import SmtpTransport
from publisher.newsletter.smtp.relay_failures import Streak
from publisher.newsletter.transports import Envelope, Outcome, Result, Transport, ignore, never
from publisher.site_config import load_config
from tests.conftest import NOW
from tests.smtp_sink import SmtpSink
from tests.test_newsletter import digest_in_a_subprocess, parsed, statuses


def publisher(config: Path, *args: str) -> CliResult:
    return CliRunner().invoke(cli, ["--config", str(config), "--now", NOW.isoformat(), *args])


def readers(count: int) -> list[str]:
    """Readers at two domains, as on any real list (a relay-wide streak spans domains)."""
    return [f"reader{n:03d}@example.{'org' if n % 2 else 'net'}" for n in range(count)]


def site_with(site_dir: Path, sink: SmtpSink, addresses: list[str], **smtp: object) -> Path:
    """The sample site sending through `sink` (no real backoff), with these subscribers."""
    config = sink.send_site_through(site_dir / "config.toml", backoff=0.0, **smtp)
    rows = site_dir / "readers.csv"
    rows.write_text("email,name\n" + "".join(f"{a},\n" for a in addresses), encoding="utf-8")
    imported = publisher(config, "subscribers", "import", str(rows))
    assert imported.exit_code == 0, imported.output
    return config


def utf8_parsed(data: bytes) -> EmailMessage:
    """A message with RFC 6532 UTF-8 headers, read as its reader's client would."""
    message = email.message_from_string(data.decode("utf-8"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def copies(sink: SmtpSink, addresses: list[str]) -> list[int]:
    return [len(sink.messages_for(address)) for address in addresses]


def ledger(site_dir: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(site_dir / "state" / "publisher.sqlite3") as db:
        return db.execute(query).fetchall()


# 1. No recipient can stop a digest -------------------------------------------------


def test_a_utf8_local_part_with_an_ascii_name_goes_out_with_smtputf8(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = site_with(site_dir, smtp_sink, ["kim@example.org", "lee@example.org"])
    added = publisher(config, "subscribers", "add", "김철수@例え.jp", "--name", "Chulsoo Kim")
    assert added.exit_code == 0, added.output
    assert "needs SMTPUTF8" in added.output

    result = publisher(config, "digest")

    assert result.exit_code == 0, result.output
    assert "3 sent, 0 failed" in result.output  # measured: 3 of 3, no traceback
    (message,) = smtp_sink.messages_for("김철수@例え.jp")
    to = utf8_parsed(message)["To"].addresses[0]
    assert (to.display_name, to.addr_spec) == ("Chulsoo Kim", "김철수@例え.jp")
    assert "Chulsoo Kim <김철수@例え.jp>".encode() in message  # RFC 6532 UTF-8 header
    mail = [e.arg for e in smtp_sink.events if e.verb == "MAIL"]
    assert sum("SMTPUTF8" in arg.split() for arg in mail) == 1


def test_without_smtputf8_that_reader_fails_with_the_reason_and_the_rest_go(
    site_dir: Path,
) -> None:
    with SmtpSink(smtputf8=False) as sink:
        config = site_with(site_dir, sink, ["kim@example.org", "lee@example.org"])
        assert publisher(config, "subscribers", "add", "김철수@例え.jp").exit_code == 0

        first = publisher(config, "digest")
        again = publisher(config, "digest")

        assert first.exit_code == 3, first.output
        assert "2 sent, 1 failed" in first.output  # measured: 2 sent, 1 failed
        assert "김철수@例え.jp (failed)" in first.output and "SMTPUTF8" in first.output
        assert copies(sink, ["kim@example.org", "lee@example.org"]) == [1, 1]
        assert again.exit_code == 0 and "nothing sent" in again.output


def test_a_message_that_cannot_be_made_fails_that_reader_only(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(4)
    config = site_with(site_dir, smtp_sink, addresses)
    huge = "x" * 1200 + "@example.org"  # stored before validation: a header over 998 octets
    with sqlite3.connect(site_dir / "state" / "publisher.sqlite3") as db:
        moment = "2024-01-01T00:00:00+00:00"
        db.execute(
            "INSERT INTO subscribers (email, email_key, name, status, created_at, updated_at) "
            "VALUES (?, ?, '', 'active', ?, ?)",
            (huge, huge, moment, moment),
        )

    result = publisher(config, "digest")

    assert result.exit_code == 3, result.output
    assert "4 sent, 1 failed" in result.output  # measured: 4 sent, 1 failed, run finished
    assert "the message could not be made" in result.output, result.output
    assert copies(smtp_sink, addresses) == [1, 1, 1, 1]


def test_a_domain_is_written_in_idna_2008_in_to_and_in_the_envelope(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    config = site_with(site_dir, smtp_sink, ["user@faß.de"])

    assert publisher(config, "digest").exit_code == 0

    (received,) = smtp_sink.messages
    assert received.rcpt_tos == ("user@xn--fa-hia.de",)  # IDNA 2003 would say fass.de
    assert parsed(received.data)["To"].addresses[0].addr_spec == "user@xn--fa-hia.de"


# 3. Ambiguous only at the final dot -------------------------------------------------


def test_a_reply_without_a_numeric_code_after_the_dot_is_ambiguous_never_resent(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(20)
    config = site_with(site_dir, smtp_sink, addresses, connections=2)
    garbled = addresses[3:8]
    smtp_sink.raw_data_reply.update(dict.fromkeys(garbled, "OK queued as 12345"))

    result = publisher(config, "digest")
    again = publisher(config, "digest")

    assert result.exit_code == 3, result.output
    assert "15 sent, 0 failed, 0 deferred, 5 ambiguous" in result.output
    assert copies(smtp_sink, addresses) == [1] * 20  # measured: 20 copies for 20 readers
    assert sorted(a for a, s in statuses(site_dir).items() if s == "ambiguous") == garbled
    assert again.exit_code == 0 and len(smtp_sink.messages) == 20


class DiesBeforeTheDot:
    """The real SMTP transport whose ledger write before the final dot fails once, as a
    process killed there would: the content went out, the dot did not."""

    def __init__(self, smtp: SmtpTransport, victim: str) -> None:
        self.smtp = smtp
        self.victim = victim

    def deliver(
        self,
        envelopes: Iterable[Envelope],
        *,
        before_data: Callable[[Envelope], None],
        on_result: Callable[[Result], None],
        on_held: Callable[[Result], None] = ignore,
        should_stop: Callable[[], bool] = never,
    ) -> None:
        def dying(envelope: Envelope) -> None:
            if envelope.recipient == self.victim:
                raise KeyboardInterrupt
            before_data(envelope)

        self.smtp.deliver(
            envelopes,
            before_data=dying,
            on_result=on_result,
            on_held=on_held,
            should_stop=should_stop,
        )


def test_a_run_dying_before_the_final_dot_leaves_that_reader_pending_and_sends_once(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(5)
    config_path = site_with(site_dir, smtp_sink, addresses, connections=1)
    config = load_config(config_path)

    def transport_for(_folder: Path) -> Transport:
        return DiesBeforeTheDot(SmtpTransport(config.smtp, None), addresses[2])

    with pytest.raises(KeyboardInterrupt):
        send_digests(config, NOW, transport_for=transport_for)
    assert statuses(site_dir)[addresses[2]] == "pending"  # not ambiguous: no dot went out
    assert smtp_sink.messages_for(addresses[2]) == []  # the relay dropped the transaction

    result = publisher(config_path, "digest")

    assert result.exit_code == 0, result.output
    assert "0 ambiguous" in result.output
    assert copies(smtp_sink, addresses) == [1] * 5  # measured: 5 readers, 5 copies


# 2. Relay failures are not reader failures ------------------------------------------


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("refuse_mail", "530 5.7.0 Authentication required"),
        ("refuse_every_rcpt", "554 5.7.1 Relay access denied"),
    ],
)
def test_a_relay_refusing_everyone_stops_the_run_exit_75_with_everyone_pending(
    site_dir: Path, smtp_sink: SmtpSink, fault: str, said: str
) -> None:
    addresses = readers(100)
    config = site_with(site_dir, smtp_sink, addresses)
    code, _, text = said.partition(" ")
    setattr(smtp_sink, fault, (int(code), text))

    stopped = publisher(config, "digest")

    assert stopped.exit_code == 75, stopped.output
    assert said in stopped.output and "hint:" in stopped.output
    # measured: 100 of 100 pending, 0 failed (was 100 failed and the digest complete)
    assert ledger(site_dir, "SELECT status, count(*) FROM deliveries GROUP BY status") == [
        ("pending", 100)
    ]
    assert ledger(site_dir, "SELECT completed_at FROM digests") == [(None,)]
    setattr(smtp_sink, fault, None)

    fixed = publisher(config, "digest")

    assert fixed.exit_code == 0, fixed.output
    assert copies(smtp_sink, addresses) == [1] * 100


def test_a_size_refusal_stops_the_run_and_names_the_limit(site_dir: Path) -> None:
    with SmtpSink(data_size_limit=20_000) as sink:
        config = site_with(site_dir, sink, readers(10))

        stopped = publisher(config, "digest")

        assert stopped.exit_code == 75, stopped.output
        assert "552" in stopped.output and "max_posts" in stopped.output
        assert set(statuses(site_dir).values()) == {"pending"}  # measured: 10 of 10 pending
        assert sink.messages == []


@pytest.mark.parametrize(
    "reply", [(554, "5.7.1 message refused by a content filter"), (552, "5.3.4 message too big")]
)
def test_a_relay_refusing_after_the_final_dot_leaves_nobody_sending_or_ambiguous(
    site_dir: Path, smtp_sink: SmtpSink, reply: tuple[int, str]
) -> None:
    addresses = readers(30)
    config = site_with(site_dir, smtp_sink, addresses)
    for address in addresses:
        smtp_sink.fail_data[address] = [reply]  # refused after the dot

    stopped = publisher(config, "digest")
    after_stop = ledger(site_dir, "SELECT status, count(*) FROM deliveries GROUP BY status")
    smtp_sink.fail_data.clear()  # the relay is fixed
    again = publisher(config, "digest")

    assert stopped.exit_code == 75, stopped.output
    assert f"{reply[0]} {reply[1]}" in stopped.output
    assert after_stop == [("pending", 30)]  # measured: 30 pending (was 11 left `sending`)
    assert again.exit_code == 0, again.output
    assert "30 sent, 0 failed, 0 deferred, 0 ambiguous" in again.output
    assert copies(smtp_sink, addresses) == [1] * 30  # measured: 30 of 30 (was 19)


def test_a_refusal_after_the_final_dot_below_the_threshold_is_a_failure_not_ambiguous(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(8)
    config = site_with(site_dir, smtp_sink, addresses)
    refused = addresses[2:5]
    for address in refused:
        smtp_sink.fail_data[address] = [(554, "5.7.1 message refused by a content filter")]

    result = publisher(config, "digest")

    assert result.exit_code == 3, result.output
    assert "5 sent, 3 failed, 0 deferred, 0 ambiguous" in result.output
    final = statuses(site_dir)
    assert sorted(a for a, s in final.items() if s == "failed") == refused  # a 5xx is definite


def test_a_run_killed_while_refusals_are_held_leaves_them_pending_and_sends_each_once(
    site_dir: Path,
) -> None:
    held = [f"staff{n}@example.com" for n in range(5)]  # one domain: held, never a trip
    addresses = [*held, "late@example.org"]
    with SmtpSink(data_delay=5) as sink:
        config = site_with(site_dir, sink, addresses, connections=1)
        for address in held:
            sink.fail_data[address] = [(554, "5.7.1 message refused by a content filter")]
        command, environment = digest_in_a_subprocess(config)
        running = subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # The sixth message is taken and its 250 delayed: the five refusals are still held.
        assert sink.wait_for_messages(1, timeout=60), "never got going"
        running.send_signal(signal.SIGKILL)
        running.wait(timeout=10)
        killed = statuses(site_dir)
        sink.data_delay = 0

        rerun = publisher(config, "digest")

    assert {a: killed[a] for a in held} == dict.fromkeys(held, "pending")  # was `sending`
    assert rerun.exit_code == 3, rerun.output  # the in-flight sixth is ambiguous
    assert "5 sent, 0 failed, 0 deferred, 1 ambiguous" in rerun.output
    assert copies(sink, addresses) == [1] * 6  # measured: each of the five once, no loss


def test_refusals_racing_a_success_on_another_connection_stop_the_run_with_nobody_failed(
    site_dir: Path,
) -> None:
    refused = readers(10)
    accepted = [f"late{n}@example.com" for n in range(6)]
    with SmtpSink(data_delay=0.3) as sink:  # a slow 250 arrives after the streak trips
        config = site_with(site_dir, sink, [*refused, *accepted], connections=2)
        for address in refused:
            sink.fail(address, (554, "5.7.1 Relay access denied"), forever=True)

        stopped = publisher(config, "digest")

        after_stop = {str(row[0]) for row in ledger(site_dir, "SELECT status FROM deliveries")}
        assert stopped.exit_code == 75, stopped.output
        assert "0 failed" in stopped.output and "still pending" in stopped.output
        assert after_stop <= {"pending", "sent"}  # measured: 0 failed (was 10 beside the hint)
        for address in refused:
            sink.fail_rcpt.pop(address)
        fixed = publisher(config, "digest")

        assert fixed.exit_code == 0, fixed.output
        assert copies(sink, [*refused, *accepted]) == [1] * 16


def test_a_tripped_streak_stays_tripped_whatever_another_connection_reports() -> None:
    held: list[str] = []
    streak = Streak(3, lambda result: held.append(result.key))

    def refusal(key: str) -> Result:
        return Result(key, Outcome.PERMANENT, 554, "5.7.1 Relay access denied", 1, "RCPT")

    first = [streak.offer(refusal(str(n)), f"r{n}@example.{n % 2}") for n in range(3)]
    late_success = streak.offer(Result("9", Outcome.SENT, 250, "ok", 1, "message"), "x@a.b")
    late_refusal = streak.offer(refusal("10"), "r10@example.org")

    assert held == ["0", "1", "2"]  # each row back to pending as it was held
    assert first[2].tripped_by is not None
    assert [(r.key, r.outcome) for r in first[2].report] == [
        (str(n), Outcome.TEMPORARY) for n in range(3)
    ]
    assert [r.outcome for r in late_success.report] == [Outcome.SENT]  # releases nothing
    assert [r.outcome for r in late_refusal.report] == [Outcome.TEMPORARY]
    assert streak.settle(finished=True) == []


def test_a_relay_without_smtputf8_fails_only_the_readers_that_need_it(site_dir: Path) -> None:
    utf8 = [f"독자{n:02d}@example.org" for n in range(12)]
    ascii_readers = readers(5)
    with SmtpSink(smtputf8=False) as sink:
        config = site_with(site_dir, sink, [*utf8, *ascii_readers], connections=1)

        first = publisher(config, "digest")
        again = publisher(config, "digest")

        assert first.exit_code == 3, first.output  # failed for good: exit 3, not 75
        assert "5 sent, 12 failed" in first.output  # measured: 5 sent (was 0, on every run)
        assert "SMTPUTF8" in first.output
        assert copies(sink, ascii_readers) == [1] * 5
        assert again.exit_code == 0 and "nothing sent" in again.output


def test_refusals_from_one_dead_domain_fail_its_readers_and_the_rest_get_the_digest(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    dead = [f"staff{n:02d}@defunct.example" for n in range(10)]
    others = readers(5)
    config = site_with(site_dir, smtp_sink, [*dead, *others], connections=1)
    for address in dead:
        smtp_sink.fail(address, (550, "5.4.1 Recipient address rejected"), forever=True)

    first = publisher(config, "digest")
    again = publisher(config, "digest")

    assert first.exit_code == 3, first.output
    assert "5 sent, 10 failed" in first.output  # measured: 5 sent (was 0 and exit 75)
    assert copies(smtp_sink, others) == [1] * 5
    assert again.exit_code == 0 and "nothing sent" in again.output


def test_a_streak_below_the_threshold_fails_those_readers_and_retry_requeues_them(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(12)
    config = site_with(site_dir, smtp_sink, addresses, relay_failure_threshold=5)
    blocked = addresses[2:5]
    for address in blocked:
        smtp_sink.fail(address, (554, "5.7.1 message refused by policy"), forever=True)
    smtp_sink.fail(addresses[9], (550, "5.1.1 no such user"), forever=True)

    first = publisher(config, "digest")
    assert first.exit_code == 3, first.output
    assert "8 sent, 4 failed" in first.output  # measured: 3 policy, 1 unknown user
    for address in blocked:
        smtp_sink.fail_rcpt.pop(address)
        smtp_sink.fail_rcpt_forever.discard(address)

    retried = publisher(config, "digest", "retry", "1", "--code", "5.7.1")
    again = publisher(config, "digest")

    assert retried.exit_code == 0, retried.output
    assert "requeued 3 failed recipients of digest 1" in retried.output
    assert again.exit_code == 0, again.output
    assert "(resumed): 3 sent" in again.output
    assert copies(smtp_sink, addresses) == [1] * 9 + [0] + [1] * 2
    assert statuses(site_dir)[addresses[9]] == "failed"  # 5.1.1 was not requeued


def test_retry_since_requeues_only_the_rows_that_failed_from_then_on(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(3)
    early, late, fine = addresses
    config = site_with(site_dir, smtp_sink, addresses, connections=1, retries=0)
    refusal = (554, "5.7.1 message refused by policy")
    smtp_sink.fail(early, refusal, forever=True)
    smtp_sink.fail(late, (451, "4.7.1 try again later"), refusal, forever=True)

    def at(moment: datetime, *args: str) -> CliResult:
        return CliRunner().invoke(
            cli, ["--config", str(config), "--now", moment.isoformat(), *args]
        )

    first = at(NOW, "digest")  # early fails now; late is deferred
    second = at(NOW + timedelta(hours=2), "digest")  # late fails two hours later
    smtp_sink.fail_rcpt.clear()  # the relay is fixed
    since = (NOW + timedelta(hours=1)).isoformat()
    retried = at(NOW + timedelta(hours=3), "digest", "retry", "1", "--since", since)
    third = at(NOW + timedelta(hours=3), "digest")

    assert first.exit_code == 3 and second.exit_code == 3, first.output + second.output
    assert retried.exit_code == 0, retried.output
    assert "requeued 1 failed recipient of digest 1" in retried.output  # measured: 1 of 2
    assert third.exit_code == 0, third.output
    assert copies(smtp_sink, [early, late, fine]) == [0, 1, 1]
    assert statuses(site_dir)[early] == "failed"


def test_retry_never_requeues_sent_or_ambiguous_rows(site_dir: Path, smtp_sink: SmtpSink) -> None:
    addresses = readers(3)
    config = site_with(site_dir, smtp_sink, addresses, connections=1)
    smtp_sink.raw_data_reply[addresses[1]] = "garbled"
    assert publisher(config, "digest").exit_code == 3

    retried = publisher(config, "digest", "retry", "1")

    assert "requeued 0 failed recipients" in retried.output
    assert publisher(config, "digest").exit_code == 0
    assert copies(smtp_sink, addresses) == [1, 1, 1]


def test_retry_says_which_failed_rows_it_left_because_the_reader_left(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    """Reproduces a review finding: after two 5.1.1 refusals (the readers became bounced),
    `digest retry 1` said "requeued 0 failed recipients" and nothing of the two it left."""
    addresses = readers(4)
    config = site_with(site_dir, smtp_sink, addresses, connections=1)
    smtp_sink.fail(addresses[0], (550, "5.1.1 no such user"), forever=True)
    smtp_sink.fail(addresses[1], (550, "5.1.1 no such user"), forever=True)
    smtp_sink.fail(addresses[2], (554, "5.7.1 message refused by policy"), forever=True)
    assert publisher(config, "digest").exit_code == 3

    retried = publisher(config, "digest", "retry", "1")
    policy_only = publisher(config, "digest", "retry", "1", "--code", "5.7.1")

    assert retried.exit_code == 0, retried.output
    assert "requeued 1 failed recipient of digest 1" in retried.output
    assert "2 failed recipients left as they are: no longer active" in retried.output
    assert "left as they are" not in policy_only.output, "the 5.1.1 rows are not asked for"


# 6. Every failure visible ------------------------------------------------------------


def test_the_summary_names_five_failures_and_status_failed_lists_them_all(
    site_dir: Path, smtp_sink: SmtpSink
) -> None:
    addresses = readers(10)
    config = site_with(site_dir, smtp_sink, addresses)
    gone = addresses[:7]
    for address in gone:
        smtp_sink.fail(address, (550, f"5.1.1 <{address}>: no such user"), forever=True)

    result = publisher(config, "digest")
    listing = publisher(config, "digest", "status", "1", "--failed")
    as_json = publisher(config, "digest", "status", "1", "--failed", "--json")

    assert result.exit_code == 3, result.output
    named = [a for a in gone if f"{a} (failed): 550 5.1.1" in result.output]
    assert len(named) == 5  # measured: 5 named of 7
    assert "2 more, with each reply: `publisher digest status 1 --failed`" in result.output
    assert listing.exit_code == 0, listing.output
    assert all(f"{a}  failed  550 5.1.1 <{a}>: no such user" in listing.output for a in gone)
    rows = json.loads(as_json.output)
    assert sorted(row["email"] for row in rows) == gone
    assert {(row["status"], row["code"]) for row in rows} == {("failed", 550)}


# 4. The kill test, small (benchmarks/kill_bench.py runs 2,000 readers and 10 kills) --


def test_sigkills_at_two_connections_leave_no_duplicate_and_one_ambiguous_per_connection(
    site_dir: Path,
) -> None:
    addresses = readers(40)
    with SmtpSink(data_delay=0.05) as sink:
        config = site_with(site_dir, sink, addresses, connections=2)
        command, environment = digest_in_a_subprocess(config)
        left_sending: list[int] = []
        for kill in range(3):
            running = subprocess.Popen(
                command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            assert sink.wait_for_messages(4 * (kill + 1), timeout=60), "never got going"
            running.send_signal(signal.SIGKILL)
            running.wait(timeout=10)
            rows = ledger(site_dir, "SELECT count(*) FROM deliveries WHERE status = 'sending'")
            left_sending.append(int(str(rows[0][0])))
        time.sleep(0.2)  # the sink finishes replies the dead clients never read
        finished = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=120, check=False
        )

        assert finished.returncode in (0, 3), finished.stderr
        final = statuses(site_dir)
        ambiguous = {a for a, s in final.items() if s == "ambiguous"}
        got = dict(zip(addresses, copies(sink, addresses), strict=True))
        assert max(got.values()) == 1  # measured: 0 duplicates
        assert {a for a, n in got.items() if n == 0} <= ambiguous  # 0 missing but ambiguous
        assert all(count <= 2 for count in left_sending)  # at most 1 per connection per kill
        assert set(final.values()) <= {"sent", "ambiguous"}
