"""The SMTP and outbox transports, against a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import os
import random
import socket
import ssl
import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from publisher.core.config import Config, SmtpConfig
from publisher.core.errors import DeliveryError
from publisher.newsletter.outbox import OutboxTransport
from publisher.newsletter.smtp import SmtpTransport
from publisher.newsletter.smtp.session import _data_content
from publisher.newsletter.transports import (
    Envelope,
    Outcome,
    Result,
    is_no_such_user,
    open_transport,
)
from tests.smtp_sink import SmtpSink, TlsCert, free_port

SENDER = "news@example.org"


def wire_message(recipient: str) -> bytes:
    """Awkward wire bytes: a leading dot to stuff, UTF-8 8-bit text, a fake signature header."""
    return (
        b"DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel;\r\n"
        b"\tbh=abc=; b=def=\r\n"
        b"From: News <news@example.org>\r\n"
        b"To: " + recipient.encode() + b"\r\n"
        b"Subject: Digest\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n"
        b"\r\n"
        b".a line that starts with a dot\r\n"
        b"..and two\r\n"
        b".\r\n"
        b"\xec\x95\x88\xeb\x85\x95 \xed\x95\x98\xec\x84\xb8\xec\x9a\x94\r\n"
        b"  trailing spaces stay  \r\n"
    )


def envelope(recipient: str, key: str | None = None) -> Envelope:
    return Envelope(key or recipient, SENDER, recipient, wire_message(recipient))


def recipients(count: int) -> list[str]:
    return [f"r{number:03d}@example.org" for number in range(count)]


class Recorder:
    """Collects callbacks and injected sleeps; callbacks may come from several threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: list[Result] = []
        self.announced: list[str] = []
        self.sleeps: list[float] = []

    def before_data(self, envelope: Envelope) -> None:
        with self.lock:
            self.announced.append(envelope.key)

    def on_result(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.sleeps.append(seconds)

    def by_key(self) -> dict[str, Result]:
        assert len({r.key for r in self.results}) == len(self.results), "a key reported twice"
        return {r.key: r for r in self.results}


def transport(
    settings: SmtpConfig,
    recorder: Recorder,
    *,
    seed: int = 1,
    password: str | None = None,
    retries: int = 3,
    backoff: float = 1.0,
    ssl_context: ssl.SSLContext | None = None,
) -> SmtpTransport:
    return SmtpTransport(
        settings,
        password,
        sleep=recorder.sleep,
        rng=random.Random(seed),
        retries=retries,
        backoff=backoff,
        ssl_context=ssl_context,
    )


def deliver(
    smtp: SmtpTransport,
    recorder: Recorder,
    envelopes: list[Envelope] | Iterator[Envelope],
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    smtp.deliver(
        envelopes,
        before_data=recorder.before_data,
        on_result=recorder.on_result,
        should_stop=should_stop,
    )


def test_delivers_every_message_in_order_with_its_bytes_unchanged(smtp_sink: SmtpSink) -> None:
    recorder = Recorder()
    addresses = recipients(5)
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope(a) for a in addresses])

    received = smtp_sink.messages
    assert [m.rcpt_tos for m in received] == [(a,) for a in addresses]
    assert [m.mail_from for m in received] == [SENDER] * 5
    assert [m.data for m in received] == [wire_message(a) for a in addresses]
    assert [(r.key, r.outcome, r.code, r.attempts) for r in recorder.results] == [
        (a, Outcome.SENT, 250, 1) for a in addresses
    ]
    assert recorder.sleeps == []
    mail_commands = [e.arg for e in smtp_sink.events if e.verb == "MAIL"]
    assert all("BODY=8BITMIME" in arg for arg in mail_commands)
    assert len({e.peer_port for e in smtp_sink.events}) == 1, "one connection, reused"


def test_temporary_rcpt_refusals_are_retried_with_growing_jittered_backoff(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.fail("r001@example.org", (451, "4.7.1 greylisted, try later"))
    smtp_sink.fail("r002@example.org", (451, "4.7.1 try later"), (452, "4.3.1 busy"))
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder, seed=7, backoff=2.0)

    deliver(smtp, recorder, [envelope(a) for a in recipients(4)])

    results = recorder.by_key()
    assert [results[a].outcome for a in recipients(4)] == [Outcome.SENT] * 4
    assert [results[a].attempts for a in recipients(4)] == [1, 2, 3, 1]
    for address in recipients(4):
        assert len(smtp_sink.messages_for(address)) == 1
    twin = random.Random(7)
    expected = [2.0 * twin.uniform(0.5, 1.5)]
    expected += [2.0 * twin.uniform(0.5, 1.5), 4.0 * twin.uniform(0.5, 1.5)]
    assert recorder.sleeps == pytest.approx(expected)
    # the second retry of one envelope waits on a doubled base; jitter moves each off it
    assert 2.0 <= recorder.sleeps[2] <= 6.0
    assert all(delay not in (2.0, 4.0) for delay in recorder.sleeps)


def test_a_recipient_refused_temporarily_forever_ends_temporary_after_the_retries(
    smtp_sink: SmtpSink,
) -> None:
    stuck = "r001@example.org"
    smtp_sink.fail(stuck, (451, "4.7.1 try later"), forever=True)
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder, retries=2)

    deliver(smtp, recorder, [envelope(a) for a in recipients(3)])

    result = recorder.by_key()[stuck]
    assert (result.outcome, result.code, result.attempts, result.stage) == (
        Outcome.TEMPORARY,
        451,
        3,
        "RCPT",
    )
    assert "4.7.1" in result.text
    assert len(recorder.sleeps) == 2
    assert [e.code for e in smtp_sink.events if e.verb == "RCPT" and e.arg == stuck] == [451] * 3
    assert smtp_sink.messages_for(stuck) == []
    assert len(smtp_sink.messages) == 2
    assert stuck not in recorder.announced, "before_data only once DATA is next"


def test_an_unknown_user_is_permanent_and_does_not_block_the_others(smtp_sink: SmtpSink) -> None:
    gone = "r002@example.org"
    smtp_sink.fail(gone, (550, "5.1.1 <r002@example.org>: no such user"), forever=True)
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope(a) for a in recipients(5)])

    results = recorder.by_key()
    assert results[gone].outcome is Outcome.PERMANENT
    assert (results[gone].code, results[gone].attempts) == (550, 1)
    assert is_no_such_user(results[gone])
    assert recorder.sleeps == []
    assert [m.rcpt_tos[0] for m in smtp_sink.messages] == [a for a in recipients(5) if a != gone]
    assert not any(is_no_such_user(r) for key, r in results.items() if key != gone)


@pytest.mark.parametrize(
    ("outcome", "code", "text", "stage", "expected"),
    [
        (Outcome.PERMANENT, 550, "5.1.1 no such user", "RCPT", True),
        (Outcome.PERMANENT, 550, "5.1.10 recipient address has null MX", "RCPT", True),
        (Outcome.PERMANENT, 553, "Requested action not taken: mailbox User unknown", "RCPT", True),
        (Outcome.PERMANENT, 550, "The account you tried to reach does not exist", "message", True),
        (Outcome.PERMANENT, 550, "5.7.1 rejected by policy; user unknown", "RCPT", False),
        (Outcome.PERMANENT, 553, "5.1.8 sender address domain does not exist", "RCPT", False),
        (Outcome.PERMANENT, 552, "5.2.2 mailbox full", "RCPT", False),
        (
            Outcome.PERMANENT,
            554,
            "no such user here, but 554 is not about addresses",
            "RCPT",
            False,
        ),
        (Outcome.PERMANENT, 550, "5.1.1 no such user", "MAIL", False),
        (Outcome.TEMPORARY, 450, "4.1.1 no such user (yet)", "RCPT", False),
    ],
)
def test_is_no_such_user_reads_enhanced_codes_first_then_the_text(
    outcome: Outcome, code: int, text: str, stage: str, expected: bool
) -> None:
    assert is_no_such_user(Result("k", outcome, code, text, 1, stage)) is expected


def test_a_connection_dropped_between_messages_is_reopened_and_everyone_gets_one_copy(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.drop_after = 2
    recorder = Recorder()
    addresses = recipients(6)
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope(a) for a in addresses])

    assert [m.rcpt_tos[0] for m in smtp_sink.messages] == addresses
    assert [r.outcome for r in recorder.results] == [Outcome.SENT] * 6
    verbs = [e.verb for e in smtp_sink.events]
    assert verbs.count("DROP") == 1
    peers = [e.peer_port for e in smtp_sink.events if e.verb == "DATA"]
    assert peers[:2] == [peers[0]] * 2 and peers[2:] == [peers[2]] * 4 and peers[0] != peers[2]
    assert recorder.sleeps == [], "a reused connection found closed is reopened at once"


def test_a_connection_dropped_on_a_fresh_connection_is_retried_after_a_backoff(
    smtp_sink: SmtpSink,
) -> None:
    smtp_sink.drop_after = 0
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope("r000@example.org")])

    (result,) = recorder.results
    assert (result.outcome, result.attempts) == (Outcome.SENT, 2)
    assert len(recorder.sleeps) == 1
    assert len(smtp_sink.messages_for("r000@example.org")) == 1


def test_a_connection_lost_after_the_content_is_ambiguous_and_never_resent(
    smtp_sink: SmtpSink,
) -> None:
    lost = "r001@example.org"
    smtp_sink.drop_data_for = {lost}
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope(a) for a in recipients(3)])

    results = recorder.by_key()
    assert results[lost].outcome is Outcome.AMBIGUOUS
    assert (results[lost].code, results[lost].attempts, results[lost].stage) == (None, 1, "message")
    assert [m.rcpt_tos for m in smtp_sink.dropped] == [(lost,)]
    assert smtp_sink.messages_for(lost) == []
    assert [e.verb for e in smtp_sink.events if lost in e.arg] == ["RCPT", "DROP"]
    assert recorder.sleeps == []
    assert [m.rcpt_tos[0] for m in smtp_sink.messages] == ["r000@example.org", "r002@example.org"]


def test_a_temporary_refusal_after_the_content_is_retried(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_data["r000@example.org"] = [(451, "4.3.0 queue full, not taken")]
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope("r000@example.org")])

    (result,) = recorder.results
    assert (result.outcome, result.attempts) == (Outcome.SENT, 2)
    assert recorder.announced == ["r000@example.org"], "before_data once per envelope"
    assert len(smtp_sink.messages_for("r000@example.org")) == 1


def test_a_permanent_refusal_after_the_content_is_permanent(smtp_sink: SmtpSink) -> None:
    smtp_sink.fail_data["r000@example.org"] = [(554, "5.6.0 message content rejected")]
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)

    deliver(smtp, recorder, [envelope("r000@example.org"), envelope("r001@example.org")])

    results = recorder.by_key()
    assert (results["r000@example.org"].outcome, results["r000@example.org"].code) == (
        Outcome.PERMANENT,
        554,
    )
    assert not is_no_such_user(results["r000@example.org"])
    assert results["r001@example.org"].outcome is Outcome.SENT


def test_starttls_required_but_not_offered_fails_before_anything_is_sent(
    smtp_sink: SmtpSink,
) -> None:
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(security="starttls"), recorder)
    taken: list[str] = []

    def envelopes() -> Iterator[Envelope]:
        for address in recipients(20):
            taken.append(address)
            yield envelope(address)

    with pytest.raises(DeliveryError, match="does not offer STARTTLS") as caught:
        deliver(smtp, recorder, envelopes())

    assert "ssl" in caught.value.hint
    assert smtp_sink.messages == []
    assert [e for e in smtp_sink.events if e.verb == "MAIL"] == []
    assert recorder.announced == [] and recorder.results == []
    assert len(taken) <= smtp.settings.connections


def test_starttls_delivers_over_tls_with_a_trusted_certificate(tls_cert: TlsCert) -> None:
    recorder = Recorder()
    with SmtpSink(starttls=True, cert=tls_cert) as sink:
        settings = sink.smtp_config(connections=1)
        assert settings.security == "starttls"
        smtp = transport(settings, recorder, ssl_context=tls_cert.client_context())
        deliver(smtp, recorder, [envelope(a) for a in recipients(2)])
        events = sink.events
        messages = sink.messages

    assert [r.outcome for r in recorder.results] == [Outcome.SENT] * 2
    assert [m.data for m in messages] == [wire_message(a) for a in recipients(2)]
    assert events and all(e.tls for e in events)


def test_starttls_with_an_untrusted_certificate_is_a_delivery_error(tls_cert: TlsCert) -> None:
    recorder = Recorder()
    with SmtpSink(starttls=True, cert=tls_cert) as sink:
        smtp = transport(sink.smtp_config(), recorder)  # the system trust store
        with pytest.raises(DeliveryError, match="certificate"):
            deliver(smtp, recorder, [envelope("r000@example.org")])
        assert sink.messages == []
    assert recorder.sleeps == [], "a bad certificate is not retried"


def test_implicit_tls_delivers(tls_cert: TlsCert) -> None:
    recorder = Recorder()
    with SmtpSink(implicit_tls=True, cert=tls_cert) as sink:
        smtp = transport(sink.smtp_config(), recorder, ssl_context=tls_cert.client_context())
        deliver(smtp, recorder, [envelope("r000@example.org")])
        events = sink.events
    assert [r.outcome for r in recorder.results] == [Outcome.SENT]
    assert events and all(e.tls for e in events)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_with_the_right_password_sends() -> None:
    recorder = Recorder()
    with SmtpSink(require_auth=True) as sink:
        smtp = transport(sink.smtp_config(), recorder, password=sink.password)
        deliver(smtp, recorder, [envelope("r000@example.org")])
        assert sink.logins == [sink.username]
        assert len(sink.messages) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_refused_login_is_a_delivery_error_naming_password_env() -> None:
    recorder = Recorder()
    with SmtpSink(require_auth=True) as sink:
        settings = sink.smtp_config(password_env="NEWS_SMTP_PASSWORD")
        smtp = transport(settings, recorder, password="wrong")
        with pytest.raises(DeliveryError, match="refused the login") as caught:
            deliver(smtp, recorder, [envelope(a) for a in recipients(3)])
        assert sink.messages == []
    assert "NEWS_SMTP_PASSWORD" in caught.value.hint
    assert recorder.results == [] and recorder.sleeps == []


def test_plain_text_to_a_host_other_than_localhost_is_refused() -> None:
    settings = SmtpConfig(host="mail.example.org", port=25, security="none")
    with pytest.raises(DeliveryError, match=r"\[smtp\] security") as caught:
        SmtpTransport(settings, None)
    assert "starttls" in caught.value.hint


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1"])
def test_plain_text_to_localhost_is_allowed(host: str) -> None:
    assert SmtpTransport(SmtpConfig(host=host, security="none"), None).settings.host == host


def test_three_connections_deliver_each_message_exactly_once(smtp_sink: SmtpSink) -> None:
    recorder = Recorder()
    addresses = recipients(60)
    gathered = threading.Barrier(3, timeout=20)
    first_three: list[str] = []

    def before_data(env: Envelope) -> None:
        recorder.before_data(env)
        with recorder.lock:
            first = len(first_three) < 3
            if first:
                first_three.append(env.key)
        if first:  # hold the first three until all three connections are mid-message
            gathered.wait()

    smtp = transport(smtp_sink.smtp_config(connections=3), recorder)
    smtp.deliver(
        (envelope(a) for a in addresses), before_data=before_data, on_result=recorder.on_result
    )

    delivered = sorted(r for m in smtp_sink.messages for r in m.rcpt_tos)
    assert delivered == addresses
    assert sorted(recorder.by_key()) == addresses
    assert all(r.outcome is Outcome.SENT for r in recorder.results)
    assert sorted(recorder.announced) == addresses
    assert len({e.peer_port for e in smtp_sink.events if e.verb == "DATA"}) == 3


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_rate_limit_spaces_messages_on_the_injected_clock(smtp_sink: SmtpSink) -> None:
    clock = FakeClock()
    recorder = Recorder()
    smtp = SmtpTransport(
        smtp_sink.smtp_config(connections=1, rate=4.0), None, sleep=clock.sleep, clock=clock
    )

    deliver(smtp, recorder, [envelope(a) for a in recipients(5)])

    assert len(smtp_sink.messages) == 5
    assert clock.sleeps == pytest.approx([0.25] * 4)


def test_a_rate_of_zero_never_waits(smtp_sink: SmtpSink) -> None:
    clock = FakeClock()
    smtp = SmtpTransport(
        smtp_sink.smtp_config(connections=2, rate=0.0), None, sleep=clock.sleep, clock=clock
    )
    deliver(smtp, Recorder(), [envelope(a) for a in recipients(5)])
    assert len(smtp_sink.messages) == 5
    assert clock.sleeps == []


def test_should_stop_finishes_in_flight_and_leaves_the_rest_unconsumed(
    smtp_sink: SmtpSink,
) -> None:
    recorder = Recorder()
    taken: list[str] = []

    def envelopes() -> Iterator[Envelope]:
        for address in recipients(50):
            taken.append(address)
            yield envelope(address)

    smtp = transport(smtp_sink.smtp_config(connections=1), recorder)
    deliver(smtp, recorder, envelopes(), should_stop=lambda: len(recorder.results) >= 3)

    assert taken == recipients(3)
    assert [r.key for r in recorder.results] == recipients(3)
    assert len(smtp_sink.messages) == 3


def test_an_unreachable_relay_defers_the_envelopes_in_hand_and_takes_no_more() -> None:
    recorder = Recorder()
    taken: list[str] = []

    def envelopes() -> Iterator[Envelope]:
        for address in recipients(1000):
            taken.append(address)
            yield envelope(address)

    closed_port = free_port()  # nothing listens there
    settings = SmtpConfig(host="127.0.0.1", port=closed_port, security="none", connections=2)
    deliver(transport(settings, recorder, retries=2), recorder, envelopes())

    assert len(taken) == 2, "one envelope per connection, then stop"
    assert sorted(r.key for r in recorder.results) == taken
    assert all(
        (r.outcome, r.stage, r.attempts) == (Outcome.TEMPORARY, "connect", 3)
        for r in recorder.results
    )
    assert all("refused" in r.text.lower() for r in recorder.results)
    assert len(recorder.sleeps) == 4
    assert recorder.announced == []


def test_before_data_comes_after_the_content_and_before_the_final_dot(smtp_sink: SmtpSink) -> None:
    seen: list[tuple[str, list[tuple[str, str, int]]]] = []

    def before_data(env: Envelope) -> None:
        mine = [(e.verb, e.arg, e.code) for e in smtp_sink.events if env.recipient in e.arg]
        seen.append((env.key, mine))

    refused = "r001@example.org"
    smtp_sink.fail(refused, (550, "5.1.1 no such user"), forever=True)
    results: list[Result] = []
    smtp = SmtpTransport(smtp_sink.smtp_config(connections=1), None)
    smtp.deliver(
        [envelope(a) for a in recipients(3)], before_data=before_data, on_result=results.append
    )

    assert seen == [
        ("r000@example.org", [("RCPT", "r000@example.org", 250)]),
        ("r002@example.org", [("RCPT", "r002@example.org", 250)]),
    ]
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.PERMANENT, Outcome.SENT]


def test_a_failing_callback_stops_the_run_and_is_raised(smtp_sink: SmtpSink) -> None:
    taken: list[str] = []

    def envelopes() -> Iterator[Envelope]:
        for address in recipients(50):
            taken.append(address)
            yield envelope(address)

    def on_result(result: Result) -> None:
        if result.key == "r001@example.org":
            raise OSError("ledger disk full")

    smtp = SmtpTransport(smtp_sink.smtp_config(connections=1), None)
    with pytest.raises(OSError, match="ledger disk full"):
        smtp.deliver(envelopes(), before_data=lambda _: None, on_result=on_result)
    assert taken == recipients(2)


def test_a_non_ascii_local_part_uses_smtputf8_when_offered(smtp_sink: SmtpSink) -> None:
    address = "사용자@example.org"
    recorder = Recorder()
    smtp = transport(smtp_sink.smtp_config(), recorder)

    deliver(smtp, recorder, [envelope(address)])

    assert [r.outcome for r in recorder.results] == [Outcome.SENT]
    assert smtp_sink.messages[0].rcpt_tos == (address,)
    assert "SMTPUTF8" in next(e.arg for e in smtp_sink.events if e.verb == "MAIL").split()


def test_a_non_ascii_local_part_without_smtputf8_is_permanent_and_the_rest_go() -> None:
    recorder = Recorder()
    with SmtpSink(smtputf8=False) as sink:
        smtp = transport(sink.smtp_config(connections=1), recorder)
        deliver(
            smtp,
            recorder,
            [envelope("사용자@example.org"), envelope("r000@example.org")],
        )
        received = sink.messages

    results = recorder.by_key()
    refused = results["사용자@example.org"]
    assert refused.outcome is Outcome.PERMANENT and "SMTPUTF8" in refused.text
    assert not is_no_such_user(refused)
    assert results["r000@example.org"].outcome is Outcome.SENT
    assert [m.rcpt_tos for m in received] == [("r000@example.org",)]


def test_a_non_ascii_domain_goes_as_punycode_without_smtputf8() -> None:
    recorder = Recorder()
    with SmtpSink(smtputf8=False) as sink:
        smtp = transport(sink.smtp_config(), recorder)
        deliver(smtp, recorder, [envelope("user@bücher.example")])
        received = sink.messages
    assert [m.rcpt_tos for m in received] == [("user@xn--bcher-kva.example",)]


def test_the_outbox_writes_each_message_atomically_and_rewrites_nothing_unchanged(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "outbox" / "digest-00001"
    outbox = OutboxTransport(folder)
    order: list[str] = []
    messages = [
        Envelope("1", SENDER, "a@example.org", wire_message("a@example.org"), "00000001"),
        Envelope("2", SENDER, "b@example.org", wire_message("b@example.org")),
        Envelope("../3", SENDER, "c@example.org", wire_message("c@example.org")),
    ]

    def before_data(env: Envelope) -> None:
        order.append(f"before {env.key} exists={outbox.path_for(env).exists()}")

    def on_result(result: Result) -> None:
        order.append(f"{result.outcome} {result.key}")

    outbox.deliver(messages, before_data=before_data, on_result=on_result)

    assert order == [
        "before 1 exists=False",
        "sent 1",
        "before 2 exists=False",
        "sent 2",
        "before ../3 exists=False",
        "sent ../3",
    ]
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["00000001.eml", "2.eml", "_3.eml"], "no temp files left, nothing outside"
    assert (folder / "00000001.eml").read_bytes() == wire_message("a@example.org")
    assert (folder / "00000001.eml").stat().st_mode & 0o077 == 0

    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    os.utime(folder / "2.eml", ns=(1, 1))
    before["2.eml"] = (before["2.eml"][0], 1)
    changed = dataclasses.replace(messages[0], message=wire_message("a@example.org") + b"x\r\n")
    outbox.deliver([changed, *messages[1:]], before_data=lambda _: None, on_result=lambda _: None)

    after = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}
    assert after["2.eml"] == before["2.eml"] and after["_3.eml"] == before["_3.eml"]
    assert after["00000001.eml"] != before["00000001.eml"]
    assert (folder / "00000001.eml").read_bytes().endswith(b"x\r\n")


def test_the_outbox_stops_when_asked(tmp_path: Path) -> None:
    outbox = OutboxTransport(tmp_path)
    results: list[Result] = []
    outbox.deliver(
        [envelope(a) for a in recipients(5)],
        before_data=lambda _: None,
        on_result=results.append,
        should_stop=lambda: len(results) >= 2,
    )
    assert len(results) == 2
    assert len(list(tmp_path.glob("*.eml"))) == 2


def test_open_transport_follows_mail_transport(config: Config, smtp_sink: SmtpSink) -> None:
    outbox = open_transport(
        dataclasses.replace(config, mail=dataclasses.replace(config.mail, transport="outbox")),
        None,
        config.paths.outbox,
    )
    assert isinstance(outbox, OutboxTransport) and outbox.folder == config.paths.outbox
    smtp = open_transport(smtp_sink.configure(config), None, config.paths.outbox)
    assert isinstance(smtp, SmtpTransport) and smtp.settings.port == smtp_sink.port


def test_the_sink_writes_an_smtp_table_a_config_file_can_hold(smtp_sink: SmtpSink) -> None:
    table = tomllib.loads(smtp_sink.toml(connections=3))["smtp"]
    assert (table["host"], table["port"], table["security"], table["connections"]) == (
        "127.0.0.1",
        smtp_sink.port,
        "none",
        3,
    )


def test_the_sink_keeps_a_message_whose_client_vanished_before_the_reply() -> None:
    with SmtpSink(data_delay=0.5) as sink:
        with socket.create_connection(("127.0.0.1", sink.port), timeout=10) as client:
            replies = client.makefile("rb")
            assert replies.readline().startswith(b"220")
            for line in (b"HELO client", b"MAIL FROM:<a@example.org>", b"RCPT TO:<b@example.org>"):
                client.sendall(line + b"\r\n")
                assert replies.readline().startswith(b"250")
            client.sendall(b"DATA\r\n")
            assert replies.readline().startswith(b"354")
            client.sendall(b"Subject: x\r\n\r\nbody\r\n.\r\n")
            assert sink.wait_for_messages(1)
        # the client is gone before the 250; the sink still serves the next one
        recorder = Recorder()
        deliver(transport(sink.smtp_config(), recorder), recorder, [envelope("c@example.org")])
        assert sink.messages_for("b@example.org") == [b"Subject: x\r\n\r\nbody\r\n"]
        assert [r.outcome for r in recorder.results] == [Outcome.SENT]


@pytest.mark.parametrize(
    ("message", "stuffed"),
    [
        (b".first\r\nx\r\n", b"..first\r\nx\r\n"),
        (b"a.b\r\n.c.d\r\n..e\r\n", b"a.b\r\n..c.d\r\n...e\r\n"),
        (b"no dots at line starts: a.b.c\r\n", b"no dots at line starts: a.b.c\r\n"),
        (b"ends without a line end.", b"ends without a line end.\r\n"),
    ],
)
def test_the_data_is_dot_stuffed_exactly_where_a_line_starts_with_a_dot(
    message: bytes, stuffed: bytes
) -> None:
    assert _data_content(message) == stuffed
