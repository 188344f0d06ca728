"""Hostile clients at the subscriber endpoint (issue 12, items 3, 4, 5 and 11).

The real server (uvicorn on 127.0.0.1) over real HTTP and raw sockets; state in a real
SQLite file; mail through the aiosmtpd sink. Timing itself is measured in
benchmarks/subscribe_bench.py, never asserted here.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from urllib.error import HTTPError

import pytest

from publisher.core.config import Config
from publisher.newsletter.tokens import unsubscribe_token
from publisher.web.server import listening_socket
from tests.smtp_sink import SmtpSink
from tests.test_web import HOST, PREFIX, Client, Clock, Site, clock, running_site, site

__all__ = ["clock", "site"]  # fixtures used below

WAIT = 20.0
"""Longest we wait for the server to act (a bound against hanging, not a measurement)."""


def raw(site: Site) -> socket.socket:
    port = int(urllib.parse.urlsplit(site.url).port or 80)
    conn = socket.create_connection((HOST, port), timeout=WAIT)
    return conn


def closed_by_server(conn: socket.socket, trickle: bytes = b"") -> bool:
    """Read (sending `trickle` a byte at a time meanwhile) until the server closes the
    connection; False if it is still open after WAIT seconds."""
    conn.settimeout(0.25)
    deadline = time.monotonic() + WAIT
    position = 0
    while time.monotonic() < deadline:
        try:
            if conn.recv(65536) == b"":
                return True
        except TimeoutError:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True
        if position < len(trickle):
            try:
                conn.sendall(trickle[position : position + 1])
            except (ConnectionResetError, BrokenPipeError):
                return True
            position += 1
    return False


# ------------------------------------------------------------------ item 3: constant shape


@contextlib.contextmanager
def store_locked(config: Config) -> Iterator[None]:
    """Hold the state database's write lock, as a long transaction elsewhere would."""
    db = sqlite3.connect(config.state_db, timeout=1, isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        yield
        db.execute("ROLLBACK")
    finally:
        db.close()


def test_subscribe_answers_every_address_without_touching_the_store(site: Site) -> None:
    """Reproduces item 3: the answer to `POST /subscribe` waited for the store (a new row,
    the confirmation email made), so new, pending and active addresses took measurably
    different times (4.6, 3.3 and 2.3 ms). Now the answer does the same work for all: here
    the store is locked while every kind of address is answered, and the sign-ups happen
    once it is free."""
    site.active("active@example.org")
    site.subscribe(Client(), "pending@example.org")
    site.confirmation_mail("pending@example.org")
    forms = {}
    for address in ("new@example.org", "pending@example.org", "active@example.org"):
        client = Client()
        forms[address] = (
            client,
            dict(client.get(f"{site.url}/subscribe").document.forms[0].form_values()),
        )
    with store_locked(site.config):
        replies = {
            address: client.post(f"{site.url}/subscribe", {**fields, "email": address})
            for address, (client, fields) in forms.items()
        }
        assert site.sink.messages_for("new@example.org") == []
    assert {(r.status, r.body) for r in replies.values()} == {
        (200, replies["new@example.org"].body)
    }
    site.confirmation_mail("new@example.org")
    site.confirmation_mail("pending@example.org", count=2)
    assert site.status("new@example.org") == "pending"
    assert site.status("active@example.org") == "active"
    assert site.sink.messages_for("active@example.org") == []


# ------------------------------------------------------------------ items 4 and 5: confirming


def test_opening_the_confirmation_link_changes_nothing_until_the_button(site: Site) -> None:
    """Reproduces item 4: `GET /confirm?token=…` activated the subscription at once, so mail
    security scanners, which fetch every link, confirmed sign-ups someone else started."""
    site.subscribe(Client(), "scanned@example.org")
    link = site.confirmation_link("scanned@example.org")
    scanner = Client(cookies=False)
    for method in ("GET", "HEAD", "GET"):
        assert scanner.request(link, method=method).status == 200
    assert site.status("scanned@example.org") == "pending"
    page = Client().get(link)
    (form,) = page.document.forms
    assert form.method == "POST"
    assert urllib.parse.urljoin(link, form.action) == link
    assert len(page.document.xpath("//form//button[@type='submit']")) == 1
    assert "scanned@example.org" in page.text()
    assert Client().submit(link, page).document.findtext(".//h1") == "구독이 완료되었습니다"
    assert site.status("scanned@example.org") == "active"


def test_a_link_from_before_an_unsubscribe_in_the_same_instant_does_not_resubscribe(
    site: Site,
) -> None:
    """Reproduces item 5: a confirmation link re-activated an address that unsubscribed in
    the same second (times compared in whole seconds). The clock does not move at all here."""
    site.subscribe(Client(), "quick@example.org")
    link = site.confirmation_link("quick@example.org")
    assert site.confirm(link).status == 200
    row = site.subscriber("quick@example.org")
    assert row is not None and row.status == "active"
    token = unsubscribe_token(site.secret, row.id, row.email_key)
    gone = Client(cookies=False).post(
        f"{site.url}/unsubscribe?token={token}", {"List-Unsubscribe": "One-Click"}
    )
    assert gone.status == 200
    for _ in range(3):
        assert Client().get(link).status == 400
        assert Client(cookies=False).post(link, {}).status == 400
        assert site.status("quick@example.org") == "unsubscribed"


# ------------------------------------------------------------------ item 11: abusive clients


@pytest.fixture
def strict(config: Config, smtp_sink: SmtpSink, clock: Clock) -> Iterator[Site]:
    yield from running_site(config, smtp_sink, clock, request_timeout=1.0)


def test_slow_and_silent_clients_are_disconnected(strict: Site) -> None:
    """Reproduces item 11: clients that trickle a request byte by byte were never timed out
    (300 of them stayed open for 40 s); neither were ones that connect and say nothing."""
    head = f"POST {PREFIX}/subscribe HTTP/1.1\r\nHost: {HOST}\r\n".encode()
    headers_trickled = [raw(strict) for _ in range(20)]
    for conn in headers_trickled:
        conn.sendall(head)
    silent = raw(strict)
    body_trickled = raw(strict)
    body_trickled.sendall(
        head + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n"
    )
    for conn in headers_trickled:
        assert closed_by_server(conn, trickle=b"X-Slow: " + b"a" * 200)
    assert closed_by_server(silent)
    assert closed_by_server(body_trickled, trickle=b"email=" + b"x" * 190)
    # and the server still answers everyone else
    assert Client().get(f"{strict.url}/healthz").status == 200


def test_a_client_that_drops_its_request_body_is_one_info_line(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """Reproduces item 11: every client that dropped a request body midway logged about
    110 lines of ERROR traceback."""
    caplog.set_level(logging.INFO)
    conn = raw(site)
    conn.sendall(
        f"POST {PREFIX}/subscribe HTTP/1.1\r\nHost: {HOST}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
        "email=half".encode()
    )
    conn.close()
    deadline = time.monotonic() + WAIT
    while not any("body incomplete" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.05)
    assert Client().get(f"{site.url}/healthz").status == 200
    gone = [r for r in caplog.records if "body incomplete" in r.getMessage()]
    assert [r.levelno for r in gone] == [logging.INFO]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert "Traceback" not in caplog.text


def test_more_connections_than_the_limit_are_answered_503(
    config: Config, smtp_sink: SmtpSink, clock: Clock
) -> None:
    for limited in running_site(config, smtp_sink, clock, max_connections=4, request_timeout=30):
        idle = [raw(limited) for _ in range(4)]
        reply = Client().get(f"{limited.url}/healthz")
        assert reply.status == 503
        for conn in idle:
            conn.close()
        deadline = time.monotonic() + WAIT
        while Client().get(f"{limited.url}/healthz").status != 200:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_connections_are_tcp_so_responses_are_not_held_back() -> None:
    """The listening socket names IPPROTO_TCP, so asyncio sets TCP_NODELAY on every
    connection; without it each response written in two parts (headers, then body) waited
    about 40 ms for the client's delayed ACK (found while measuring item 3)."""
    with listening_socket(HOST, 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP


def no_redirects() -> urllib.request.OpenerDirector:
    class Keep(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), Keep())


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (f"{PREFIX}/subscribe/", "/subscribe"),
        (f"{PREFIX}/unsubscribe/?token=abc", "/unsubscribe?token=abc"),
        (PREFIX, "/"),
        ("/subscribe/", "/subscribe"),  # behind a proxy that strips the prefix
    ],
)
def test_redirects_never_reflect_the_host_header(site: Site, path: str, target: str) -> None:
    """Reproduces item 11: the trailing-slash redirect sent clients to whatever Host the
    request named, so a forged Host put another site's address in our Location header."""
    root = site.url.removesuffix(PREFIX)
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 only)
        root + path, headers={"Host": "evil.example"}
    )
    try:
        no_redirects().open(request, timeout=WAIT)
    except HTTPError as error:
        status, location = error.code, error.headers.get("Location", "")
    else:
        pytest.fail("no redirect")
    assert status == 307
    assert location == site.config.web.base_url + target
    assert "evil.example" not in location
