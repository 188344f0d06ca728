"""The subscriber endpoint, served by uvicorn on 127.0.0.1 and spoken to over real HTTP.

Mail goes through the real SMTP transport to an aiosmtpd sink; state is a real
SQLite file; pages are parsed with lxml. Time is a clock the test moves.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import os
import re
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.error import HTTPError

import lxml.html
import pytest
from click.testing import CliRunner

from publisher.cli import cli
from publisher.core.config import Config, parse_config
from publisher.core.errors import ConfigError, TemplateError
from publisher.newsletter.credentials import signing_keys, signing_secret
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import add_subscriber
from publisher.newsletter.tokens import (
    BadToken,
    ExpiredToken,
    confirmation_token,
    form_token,
    form_token_matches,
    preferences_token,
    read_confirmation_token,
    unsubscribe_token,
)
from publisher.outputs.feeds import feed_specs
from publisher.outputs.index_page import index_page
from publisher.state.store import SubscriberRow, open_store
from publisher.web import create_app
from publisher.web.keys import LiveKeys
from publisher.web.server import ServeError, listening_socket, make_server
from publisher.web.views import Views
from tests.conftest import NOW
from tests.smtp_sink import SmtpSink

HOST = "127.0.0.1"
PREFIX = "/newsletter"
POLICY = email.policy.default
CONFIRMATION_MARK = b"\r\nAuto-Submitted: auto-generated\r\n"


# ---------------------------------------------------------------- harness


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    cookies: list[str] = field(default_factory=list)

    @property
    def document(self) -> Any:
        return lxml.html.fromstring(self.body)

    def text(self) -> str:
        return " ".join(self.document.text_content().split())


class Client:
    """A urllib client that keeps cookies like a browser, never uses a proxy, never redirects."""

    def __init__(self, *, cookies: bool = True) -> None:
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if cookies:
            self.jar: CookieJar | None = CookieJar()
            handlers.append(urllib.request.HTTPCookieProcessor(self.jar))
        else:
            self.jar = None
        self.opener = urllib.request.build_opener(*handlers)

    def request(
        self,
        url: str,
        *,
        method: str = "GET",
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        assert urllib.parse.urlsplit(url).hostname == HOST
        # only http://127.0.0.1 (asserted above)
        request = urllib.request.Request(  # noqa: S310
            url, data=data, method=method, headers=headers or {}
        )
        try:
            response = self.opener.open(request, timeout=30)
        except HTTPError as error:
            response = error
        with response:
            body = response.read().decode("utf-8")
            headers_out = {k.lower(): v for k, v in response.headers.items()}
            cookies = response.headers.get_all("Set-Cookie") or []
            return Reply(response.status, headers_out, body, cookies)

    def get(self, url: str, **kwargs: Any) -> Reply:
        return self.request(url, **kwargs)

    def post(self, url: str, fields: dict[str, str], **kwargs: Any) -> Reply:
        data = urllib.parse.urlencode(fields).encode("ascii")
        headers = {"Content-Type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})}
        return self.request(url, method="POST", data=data, headers=headers, **kwargs)

    def submit(self, page_url: str, reply: Reply, index: int = 0, **changes: str) -> Reply:
        """Send the page's form as a browser would, with some fields changed."""
        form = reply.document.forms[index]
        fields = dict(form.form_values())
        fields.update(changes)
        return self.post(urllib.parse.urljoin(page_url, form.action), fields)


@dataclass
class Site:
    url: str
    """The endpoint's public URL: http://127.0.0.1:<port>/newsletter."""
    root: str
    """The server itself, as a proxy that strips the prefix would call it."""
    config: Config
    clock: Clock
    sink: SmtpSink

    @property
    def secret(self) -> bytes:
        return signing_secret(self.config)

    def subscriber(self, email_key: str) -> SubscriberRow | None:
        store = open_store(self.config.state_db)
        try:
            return store.find_subscriber(email_key)
        finally:
            store.close()

    def status(self, email_key: str) -> str | None:
        row = self.subscriber(email_key)
        return row.status if row else None

    def active(self, email: str) -> SubscriberRow:
        return add_subscriber(self.config, email, "", self.clock()).subscriber

    def confirmation_mail(self, address: str, count: int = 1) -> EmailMessage:
        """The `count`th confirmation email to `address`, once it has arrived."""
        mails = self.wait_for(address, count, CONFIRMATION_MARK)
        parsed = email.message_from_bytes(mails[count - 1], policy=POLICY)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def wait_for(self, address: str, count: int, mark: bytes = b"") -> list[bytes]:
        """The messages to `address` (holding `mark`) once there are `count`.

        Confirmation emails leave after the response, so they may still be on their way.
        """
        deadline = time.monotonic() + 20
        while True:
            seen = len(self.sink.messages)
            found = [data for data in self.sink.messages_for(address) if mark in data]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{len(found)} of {count} emails for {address} arrived"
            self.sink.wait_for_messages(seen + 1, timeout=remaining)

    def confirmation_link(self, address: str, count: int = 1) -> str:
        body = self.confirmation_mail(address, count).get_body(("plain",))
        assert body is not None
        links = re.findall(r"https?://\S+", body.get_content())
        assert len(links) == 1
        return str(links[0])

    def confirm(self, link: str) -> Reply:
        """Open the confirmation link and press its button, as a reader does."""
        client = Client()
        page = client.get(link)
        if page.status != 200 or not page.document.forms:
            return page
        return client.submit(link, page)

    def subscribe(self, client: Client, address: str, **headers: str) -> Reply:
        page = client.get(f"{self.url}/subscribe")
        assert page.status == 200
        form = page.document.forms[0]
        fields = {**dict(form.form_values()), "email": address}
        return client.post(f"{self.url}/subscribe", fields, headers=headers)


def _serve(config: Config, clock: Clock) -> Iterator[tuple[str, Config]]:
    sock = listening_socket(HOST, 0)
    port = sock.getsockname()[1]
    web = dataclasses.replace(config.web, base_url=f"http://{HOST}:{port}{PREFIX}")
    config = dataclasses.replace(config, web=web)
    app = create_app(config, clock=clock)
    server = make_server(app, config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ready = threading.Event()
    while thread.is_alive() and not server.started:
        ready.wait(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://{HOST}:{port}", config
    finally:
        app.signups.wait_until_done()  # no sign-up of this test outlives it
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


def running_site(
    config: Config, smtp_sink: SmtpSink, clock: Clock, *, outbox: bool = False, **web: Any
) -> Iterator[Site]:
    """The endpoint serving `config`, mailing through the sink (or into the outbox folder)."""
    if not outbox:
        config = smtp_sink.configure(config)
    config = dataclasses.replace(config, web=dataclasses.replace(config.web, **web))
    for root, served in _serve(config, clock):
        yield Site(f"{root}{PREFIX}", root, served, clock, smtp_sink)


@pytest.fixture
def site(config: Config, smtp_sink: SmtpSink, clock: Clock) -> Iterator[Site]:
    yield from running_site(config, smtp_sink, clock, rate_per_ip=50, rate_per_address=5)


# ---------------------------------------------------------------- pages


def test_the_subscribe_page_is_korean_labelled_and_sends_secure_headers(site: Site) -> None:
    reply = Client().get(f"{site.url}/subscribe")
    assert reply.status == 200
    page = reply.document
    assert page.get("lang") == "ko"
    assert page.findtext(".//h1") == "이메일로 구독하기"
    assert page.xpath("//meta[@name='viewport']")
    for field_input in page.xpath("//input[not(@type='hidden')]"):
        labels = page.xpath(f"//label[@for='{field_input.get('id')}']")
        assert len(labels) == 1, f"input {field_input.get('name')} has no label"
    email_input = page.get_element_by_id("email")
    assert email_input.get("type") == "email"
    assert email_input.get("autocomplete") == "email"
    assert page.xpath("//form[@method='post']/@action") == [f"{PREFIX}/subscribe"]
    headers = reply.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    assert "server" not in headers
    (cookie,) = reply.cookies
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and f"Path={PREFIX}" in cookie


def test_the_style_sheet_is_served_from_self_with_a_visible_focus_style(site: Site) -> None:
    page = Client().get(f"{site.url}/subscribe").document
    (href,) = page.xpath("//link[@rel='stylesheet']/@href")
    reply = Client().get(urllib.parse.urljoin(site.url, href))
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in reply.body and "outline" in reply.body
    assert "public" in reply.headers["cache-control"]


def test_an_english_site_gets_english_pages(
    config: Config, smtp_sink: SmtpSink, clock: Clock
) -> None:
    english = dataclasses.replace(config, site=dataclasses.replace(config.site, language="en-GB"))
    for site in running_site(english, smtp_sink, clock):
        page = Client().get(f"{site.url}/subscribe").document
        assert page.get("lang") == "en"
        assert page.findtext(".//h1") == "Subscribe by email"
        assert page.xpath("//label[@for='email']/text()") == ["Email address"]


def test_healthz_answers_with_and_without_the_path_prefix(site: Site) -> None:
    for url in (f"{site.url}/healthz", f"{site.root}/healthz"):
        reply = Client().get(url)
        assert reply.status == 200
        assert reply.body.startswith("ok schema=")


def test_an_unknown_page_is_a_404_page_and_a_wrong_method_a_405(site: Site) -> None:
    missing = Client().get(f"{site.url}/nothing-here")
    assert missing.status == 404
    assert "페이지를 찾을 수 없습니다" in missing.text()
    assert missing.headers["x-content-type-options"] == "nosniff"
    wrong = Client().request(f"{site.url}/subscribe", method="DELETE")
    assert wrong.status == 405
    assert set(wrong.headers["allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    assert Client().request(f"{site.url}/confirm?token=x", method="PUT").status == 405


# ---------------------------------------------------------------- subscribe and confirm


def test_subscribing_stores_pending_mails_a_link_and_the_link_activates(site: Site) -> None:
    client = Client()
    reply = site.subscribe(client, "reader@example.org")
    assert reply.status == 200
    assert reply.document.findtext(".//h1") == "받은편지함을 확인해 주세요"

    message = site.confirmation_mail("reader@example.org")
    assert site.status("reader@example.org") == "pending"
    assert message["To"] == "reader@example.org"
    assert message["Subject"] == "뉴스다오 속보 구독을 확인해 주세요"
    assert message["From"] == "뉴스다오 속보 <digest@news.example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"] is None
    link = site.confirmation_link("reader@example.org")
    assert link.startswith(f"{site.url}/confirm?token=")

    confirmed = site.confirm(link)
    assert confirmed.status == 200
    assert confirmed.document.findtext(".//h1") == "구독이 완료되었습니다"
    feeds = confirmed.document.xpath("//ul[@class='feeds']//a/@href")
    assert "https://news.example.org/feed.atom" in feeds
    assert site.status("reader@example.org") == "active"
    # opening the link again is harmless
    assert site.confirm(link).status == 200
    assert site.status("reader@example.org") == "active"


def test_with_the_outbox_transport_the_confirmation_email_is_a_file(
    config: Config, smtp_sink: SmtpSink, clock: Clock
) -> None:
    outbox = dataclasses.replace(config, mail=dataclasses.replace(config.mail, transport="outbox"))
    for site in running_site(outbox, smtp_sink, clock, outbox=True):
        assert site.subscribe(Client(), "filed@example.org").status == 200
        folder = outbox.paths.outbox / "confirmations"
        deadline = time.monotonic() + 20
        while not list(folder.glob("*.eml")):
            assert time.monotonic() < deadline, "no confirmation email in the outbox"
            time.sleep(0.05)
        (path,) = folder.glob("*.eml")
        message = email.message_from_bytes(path.read_bytes(), policy=POLICY)
        assert message["To"] == "filed@example.org"
        body = message.get_body(("plain",))
        assert body is not None
        assert f"{site.url}/confirm?token=" in body.get_content()
        assert site.sink.messages == []


def test_a_head_request_on_the_confirmation_link_activates_nobody(site: Site) -> None:
    site.subscribe(Client(), "head@example.org")
    link = site.confirmation_link("head@example.org")
    assert Client().request(link, method="HEAD").status == 200
    assert site.status("head@example.org") == "pending"


def test_new_and_known_addresses_get_the_same_status_and_body(site: Site) -> None:
    site.active("active@example.org")
    unsubscribed = site.active("gone@example.org")
    store = open_store(site.config.state_db)
    store.set_subscriber_status(unsubscribed.id, "unsubscribed", NOW)
    store.close()
    site.subscribe(Client(), "pending@example.org")

    replies = {
        address: site.subscribe(Client(), address)
        for address in (
            "new@example.org",
            "active@example.org",
            "gone@example.org",
            "pending@example.org",
        )
    }
    first = replies["new@example.org"]
    for address, reply in replies.items():
        assert (reply.status, reply.body, reply.cookies) == (first.status, first.body, []), address
        assert reply.headers.get("content-length") == first.headers.get("content-length")
    assert "new@example.org" not in first.body
    assert site.status("active@example.org") == "active"
    assert site.status("gone@example.org") == "unsubscribed"


def test_an_unsubscribed_reader_can_come_back_by_confirming(site: Site) -> None:
    gone = site.active("back@example.org")
    store = open_store(site.config.state_db)
    store.set_subscriber_status(gone.id, "unsubscribed", NOW)
    store.close()
    site.clock.advance(minutes=1)
    site.subscribe(Client(), "back@example.org")
    assert site.status("back@example.org") == "unsubscribed"  # until they confirm
    assert site.confirm(site.confirmation_link("back@example.org")).status == 200
    assert site.status("back@example.org") == "active"


def test_an_invalid_address_is_shown_again_with_the_error_next_to_the_field(site: Site) -> None:
    reply = site.subscribe(Client(), "not-an-address")
    assert reply.status == 400
    page = reply.document
    field_input = page.get_element_by_id("email")
    assert field_input.get("value") == "not-an-address"
    assert field_input.get("aria-invalid") == "true"
    assert "email-error" in field_input.get("aria-describedby")
    assert page.get_element_by_id("email-error").get("role") == "alert"
    assert site.subscriber("not-an-address") is None


def test_the_static_index_page_has_a_subscribe_form_only_with_web_base_url(
    site: Site, config: Config
) -> None:
    without = lxml.html.fromstring(index_page(config, [], feed_specs(config, [])))
    assert without.xpath("//form") == []
    page = lxml.html.fromstring(index_page(site.config, [], feed_specs(site.config, [])))
    (form,) = page.xpath("//form")
    assert form.get("method") == "post"
    assert form.get("action") == f"{site.url}/subscribe"
    assert page.xpath("//label[@for='subscribe-email']")
    assert [i.get("name") for i in form.xpath(".//input")] == ["email"]


def test_a_form_without_our_token_is_shown_again_filled_in_and_changes_nothing(
    site: Site,
) -> None:
    # what the static index page's form sends
    reply = Client().post(f"{site.url}/subscribe", {"email": "static@example.org"})
    assert reply.status == 200
    assert reply.document.get_element_by_id("email").get("value") == "static@example.org"
    assert "구독하기를 눌러 주세요" in reply.text()
    assert site.status("static@example.org") is None
    # pressing the button on that page completes it
    client = Client()
    again = client.post(f"{site.url}/subscribe", {"email": "static@example.org"})
    done = client.submit(f"{site.url}/subscribe", again)
    assert done.status == 200
    site.wait_for("static@example.org", 1)
    assert site.status("static@example.org") == "pending"


def test_forged_stale_and_tampered_form_tokens_are_refused(site: Site) -> None:
    victim = Client()
    token = dict(victim.get(f"{site.url}/subscribe").document.forms[0].form_values())["csrf_token"]
    attacker = Client()  # has a cookie of its own, not the victim's
    attacker.get(f"{site.url}/subscribe")
    forged = attacker.post(f"{site.url}/subscribe", {"email": "a@example.org", "csrf_token": token})
    no_cookie = Client(cookies=False).post(
        f"{site.url}/subscribe", {"email": "a@example.org", "csrf_token": token}
    )
    payload, signature = token.rsplit(".", 1)
    # Change a whole character of the signature: the last one also carries ignored bits.
    altered = f"{payload}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"
    tampered = victim.post(
        f"{site.url}/subscribe", {"email": "a@example.org", "csrf_token": altered}
    )
    site.clock.advance(hours=3)
    stale = victim.post(f"{site.url}/subscribe", {"email": "a@example.org", "csrf_token": token})
    for reply in (forged, no_cookie, tampered, stale):
        assert reply.status == 403
        assert reply.document.get_element_by_id("email").get("value") == "a@example.org"
    assert site.status("a@example.org") is None
    assert site.sink.messages == []


def test_a_filled_honeypot_looks_accepted_but_stores_and_sends_nothing(site: Site) -> None:
    client = Client()
    page = client.get(f"{site.url}/subscribe")
    bot = client.submit(
        f"{site.url}/subscribe", page, email="bot@example.org", website="http://spam.example"
    )
    human = site.subscribe(Client(), "human@example.org")
    assert (bot.status, bot.body) == (human.status, human.body)
    site.wait_for("human@example.org", 1)
    assert site.status("bot@example.org") is None
    assert site.sink.messages_for("bot@example.org") == []


def test_one_ip_is_limited_and_others_are_not(
    config: Config, smtp_sink: SmtpSink, clock: Clock
) -> None:
    for site in running_site(config, smtp_sink, clock, rate_per_ip=3, rate_window=600):
        for number in range(3):
            assert site.subscribe(Client(), f"r{number}@example.org").status == 200
        limited = site.subscribe(Client(), "r3@example.org")
        assert limited.status == 429
        assert 0 < int(limited.headers["retry-after"]) <= 600
        assert "요청이 너무 많습니다" in limited.text()
        assert site.status("r3@example.org") is None
        # behind the trusted proxy (127.0.0.1) each forwarded client counts on its own
        other = site.subscribe(Client(), "r4@example.org", **{"X-Forwarded-For": "203.0.113.9"})
        assert other.status == 200
        clock.advance(seconds=601)
        assert site.subscribe(Client(), "r5@example.org").status == 200


def test_one_address_gets_only_so_many_confirmation_emails(
    config: Config, smtp_sink: SmtpSink, clock: Clock
) -> None:
    for site in running_site(config, smtp_sink, clock, rate_per_address=2, rate_per_ip=50):
        replies = [site.subscribe(Client(), "target@example.org") for _ in range(3)]
        assert {(r.status, r.body) for r in replies} == {(replies[0].status, replies[0].body)}
        site.subscribe(Client(), "marker@example.org")
        site.wait_for("marker@example.org", 1)
        site.wait_for("target@example.org", 2)
        assert len(site.sink.messages_for("target@example.org")) == 2
        clock.advance(hours=1, seconds=1)
        site.subscribe(Client(), "target@example.org")
        assert len(site.wait_for("target@example.org", 3)) == 3


def test_an_expired_confirmation_link_gets_a_400_page_and_changes_nothing(site: Site) -> None:
    site.subscribe(Client(), "late@example.org")
    link = site.confirmation_link("late@example.org")
    site.clock.advance(hours=site.config.web.confirm_hours, seconds=1)
    reply = Client().get(link)
    assert reply.status == 400
    assert reply.document.findtext(".//h1") == "링크가 만료되었습니다"
    assert "48시간" in reply.text()
    assert site.status("late@example.org") == "pending"


def test_tampered_and_other_subscribers_confirmation_tokens_change_nothing(site: Site) -> None:
    site.subscribe(Client(), "mine@example.org")
    site.subscribe(Client(), "theirs@example.org")
    link = site.confirmation_link("mine@example.org")
    site.confirmation_link("theirs@example.org")
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["token"][0]
    mine = site.subscriber("mine@example.org")
    theirs = site.subscriber("theirs@example.org")
    assert mine and theirs
    bad_tokens = [
        token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"),
        # their id with my address hash, signed with the real secret
        confirmation_token(site.secret, theirs.id, mine.email_key, NOW),
        confirmation_token(b"another secret", mine.id, mine.email_key, NOW),
        unsubscribe_token(site.secret, mine.id, mine.email_key),
        "",
    ]
    for bad in bad_tokens:
        url = f"{site.url}/confirm?token={urllib.parse.quote(bad)}"
        for reply in (Client().get(url), Client(cookies=False).post(url, {})):
            assert reply.status == 400, bad
            assert reply.document.findtext(".//h1") == "이 링크는 사용할 수 없습니다"
    assert site.status("mine@example.org") == "pending"
    assert site.status("theirs@example.org") == "pending"


def test_a_confirmation_link_from_before_an_unsubscribe_does_not_resubscribe(
    site: Site,
) -> None:
    site.subscribe(Client(), "changed@example.org")
    link = site.confirmation_link("changed@example.org")
    assert site.confirm(link).status == 200
    row = site.subscriber("changed@example.org")
    assert row is not None
    site.clock.advance(minutes=5)
    token = unsubscribe_token(site.secret, row.id, row.email_key)
    Client(cookies=False).post(
        f"{site.url}/unsubscribe?token={token}", {"List-Unsubscribe": "One-Click"}
    )
    assert site.status("changed@example.org") == "unsubscribed"
    site.clock.advance(minutes=5)
    assert site.confirm(link).status == 400
    assert site.status("changed@example.org") == "unsubscribed"


# ---------------------------------------------------------------- unsubscribe


def _unsubscribe_url(site: Site, row: SubscriberRow) -> str:
    return f"{site.url}/unsubscribe?token={unsubscribe_token(site.secret, row.id, row.email_key)}"


def test_a_get_shows_one_button_and_never_unsubscribes(site: Site) -> None:
    row = site.active("stay@example.org")
    url = _unsubscribe_url(site, row)
    for method in ("GET", "HEAD", "GET"):
        assert Client().request(url, method=method).status == 200
    reply = Client().get(url)
    assert "stay@example.org" in reply.text()
    (form,) = reply.document.forms
    assert form.method == "POST"
    assert urllib.parse.urljoin(url, form.action) == url
    assert dict(form.form_values()) == {"List-Unsubscribe": "One-Click"}
    assert len(reply.document.xpath("//form//button[@type='submit']")) == 1
    assert site.status("stay@example.org") == "active"


def test_one_click_post_exactly_as_gmail_sends_it_unsubscribes_at_once(site: Site) -> None:
    row = site.active("gmail@example.org")
    url = _unsubscribe_url(site, row)
    gmail = Client(cookies=False)
    for _ in range(2):  # a retried POST is fine too
        reply = gmail.request(
            url,
            method="POST",
            data=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert reply.status == 200
        assert site.status("gmail@example.org") == "unsubscribed"


def test_a_post_without_the_one_click_body_changes_nothing(site: Site) -> None:
    row = site.active("careful@example.org")
    url = _unsubscribe_url(site, row)
    for body in (b"", b"List-Unsubscribe=Yes", b"other=One-Click"):
        reply = Client(cookies=False).request(
            url,
            method="POST",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert reply.status == 400
    assert site.status("careful@example.org") == "active"


def test_the_button_unsubscribes_and_the_page_offers_to_resubscribe(site: Site) -> None:
    row = site.active("undo@example.org")
    url = _unsubscribe_url(site, row)
    client = Client()
    done = client.submit(url, client.get(url))
    assert done.status == 200
    assert done.document.findtext(".//h1") == "구독이 해지되었습니다"
    assert site.status("undo@example.org") == "unsubscribed"
    (form,) = done.document.forms
    assert dict(form.form_values())["email"] == "undo@example.org"
    site.clock.advance(minutes=1)
    again = client.submit(url, done)
    assert again.status == 200
    assert site.status("undo@example.org") == "unsubscribed"  # until they confirm by email
    assert site.confirm(site.confirmation_link("undo@example.org")).status == 200
    assert site.status("undo@example.org") == "active"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_unsubscribe_tokens_get_a_400_page_and_change_nothing(site: Site, method: str) -> None:
    mine = site.active("me@example.org")
    theirs = site.active("them@example.org")
    good = unsubscribe_token(site.secret, mine.id, mine.email_key)
    bad_tokens = [
        good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        unsubscribe_token(site.secret, theirs.id, mine.email_key),
        unsubscribe_token(b"another secret", mine.id, mine.email_key),
        confirmation_token(site.secret, mine.id, mine.email_key, NOW),
        unsubscribe_token(site.secret, 9999, mine.email_key),
        "",
    ]
    for bad in bad_tokens:
        url = f"{site.url}/unsubscribe?token={urllib.parse.quote(bad)}"
        if method == "GET":
            reply = Client().get(url)
        else:
            reply = Client(cookies=False).post(url, {"List-Unsubscribe": "One-Click"})
        assert reply.status == 400, bad
        assert reply.document.findtext(".//h1") == "이 링크는 사용할 수 없습니다"
    assert site.status("me@example.org") == "active"
    assert site.status("them@example.org") == "active"


def test_after_a_one_click_unsubscribe_the_digest_skips_the_address(site: Site) -> None:
    leaving = site.active("leaving@example.org")
    site.active("staying@example.org")
    reply = Client(cookies=False).request(
        _unsubscribe_url(site, leaving),
        method="POST",
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200
    report = send_digests(site.config, NOW)
    assert [run.sent for run in report.runs] == [1]
    assert len(site.sink.messages_for("staying@example.org")) == 1
    assert site.sink.messages_for("leaving@example.org") == []


def test_a_secret_rotated_while_serving_signs_the_next_links_and_retires_the_old_on_time(
    site: Site,
) -> None:
    assert site.config.digest.secret_env not in os.environ, "this test rotates secret.key"
    row = site.active("reader@example.org")
    old_link = _unsubscribe_url(site, row)
    assert Client().get(old_link).status == 200

    command = ["secret", "rotate", "--grace-days", "30"]
    at = ["--config", str(site.config.file), "--now", site.clock().isoformat()]
    rotated = CliRunner().invoke(cli, [*at, *command])

    assert rotated.exit_code == 0, rotated.output
    new = signing_keys(site.config, site.clock()).current  # what the next digest signs with
    unsubscribe = f"{site.url}/unsubscribe?token={unsubscribe_token(new, row.id, row.email_key)}"
    preferences = f"{site.url}/preferences?token={preferences_token(new, row.id, row.email_key)}"
    assert Client().get(unsubscribe).status == 200  # measured: 200 (was 400 until a restart)
    assert Client().get(preferences).status == 200  # measured: 200 (was 400 until a restart)
    assert Client().get(old_link).status == 200  # within its grace
    site.clock.advance(days=31)
    assert Client().get(old_link).status == 400  # measured: 400 (was 200 past its grace)
    assert Client().get(unsubscribe).status == 200
    assert site.status("reader@example.org") == "active"


def test_tokens_never_reach_the_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    row = site.active("private@example.org")
    url = _unsubscribe_url(site, row)
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["token"][0]
    Client().get(url)
    Client(cookies=False).post(url, {"List-Unsubscribe": "One-Click"})
    assert site.status("private@example.org") == "unsubscribed"
    assert any(record.getMessage() == "unsubscribed" for record in caplog.records)
    assert token not in caplog.text
    assert "private@example.org" not in caplog.text


# ---------------------------------------------------------------- setup and tokens


def test_create_app_needs_web_base_url(config: Config) -> None:
    with pytest.raises(ConfigError, match=r"\[web\] base_url"):
        create_app(config)


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://news.example.org/newsletter", True),
        ("http://127.0.0.1:8080", True),
        ("http://news.example.org/newsletter", False),
        ("https://news.example.org/newsletter?x=1", False),
        ("news.example.org", False),
    ],
)
def test_web_base_url_is_https_except_on_localhost(config: Config, url: str, ok: bool) -> None:
    data = {
        "site": {
            "title": "t",
            "base_url": "https://news.example.org",
            "id_authority": "news.example.org,2024",
        },
        "web": {"base_url": url + "/"},
    }
    if ok:
        assert parse_config(data, config.file).web.base_url == url
    else:
        with pytest.raises(ConfigError) as caught:
            parse_config(data, config.file)
        assert any("[web] base_url" in str(problem) for problem in caught.value.problems)


def test_a_config_without_a_web_table_still_loads(config: Config) -> None:
    assert config.web.base_url == ""
    assert config.web.confirm_hours == 48


def test_serving_on_a_busy_port_is_a_clear_error() -> None:
    with listening_socket(HOST, 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=f"cannot listen on {HOST}:{port}"):
            listening_socket(HOST, port)


def test_confirmation_tokens_expire_and_are_not_form_or_unsubscribe_tokens() -> None:
    secret = b"s" * 32
    token = confirmation_token(secret, 7, "a@example.org", NOW)
    claim = read_confirmation_token(secret, token, now=NOW, max_age=timedelta(hours=1))
    assert (claim.subscriber_id, claim.issued_at) == (7, NOW)
    with pytest.raises(ExpiredToken):
        read_confirmation_token(
            secret, token, now=NOW + timedelta(hours=1, seconds=1), max_age=timedelta(hours=1)
        )
    with pytest.raises(BadToken):
        read_confirmation_token(
            secret, token, now=NOW - timedelta(hours=1), max_age=timedelta(hours=1)
        )
    for other in (unsubscribe_token(secret, 7, "a@example.org"), form_token(secret, "n", NOW)):
        with pytest.raises(BadToken):
            read_confirmation_token(secret, other, now=NOW, max_age=timedelta(hours=1))
    form = form_token(secret, "nonce-1", NOW)
    assert form_token_matches(secret, form, "nonce-1", now=NOW, max_age=timedelta(hours=1))
    assert not form_token_matches(secret, form, "nonce-2", now=NOW, max_age=timedelta(hours=1))
    assert not form_token_matches(secret, token, "nonce-1", now=NOW, max_age=timedelta(hours=1))


def test_a_sites_templates_override_the_built_ins_file_by_file(
    config: Config, tmp_path: Path
) -> None:
    own = tmp_path / "own-templates"
    (own / "web").mkdir(parents=True)
    (own / "web" / "style.css").write_text("body { color: rebeccapurple }\n")
    site = dataclasses.replace(
        config,
        paths=dataclasses.replace(config.paths, templates=own),
        web=dataclasses.replace(config.web, base_url="https://news.example.org/newsletter"),
    )
    views = Views(site, LiveKeys(site, lambda: NOW))
    assert views.style == b"body { color: rebeccapurple }\n"
    page = bytes(views.bad_link().body).decode()  # web/error.html.j2: from the built-ins
    assert "<html lang=" in page and "rebeccapurple" not in page

    (own / "web" / "error.html.j2").write_text('{% extends "web/base.html.j2" %}\n{% if %}\n')
    with pytest.raises(TemplateError, match=r"own-templates/web/error\.html\.j2:2"):
        create_app(site)
