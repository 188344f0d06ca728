"""End to end in Debian's headless Chromium, driven by Playwright (no downloaded browser).

Subscribe in the page, confirm from the email the aiosmtpd sink received,
unsubscribe with the button of the link in a real digest, resubscribe, then
unsubscribe in one click as Gmail does and check the next digest skips them.
Screenshots of every page land in the test's tmp folder.
"""

from __future__ import annotations

import dataclasses
import email
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, ViewportSize, expect, sync_playwright

from publisher.core.config import Config
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import add_subscriber
from tests.conftest import NOW
from tests.smtp_sink import SmtpSink
from tests.test_web import POLICY, Client, Clock, Site, running_site

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
READER = "browser@example.org"

# CI installs Chromium (.ci/run) and sets PUBLISHER_REQUIRE_BROWSER, so there a missing
# browser fails the run; on a developer's machine without it the test is skipped.
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists() and not os.environ.get("PUBLISHER_REQUIRE_BROWSER"),
    reason="needs Debian's chromium: apt-get install -y chromium",
)


@pytest.fixture
def site(config: Config, smtp_sink: SmtpSink) -> Iterator[Site]:
    yield from running_site(config, smtp_sink, Clock(NOW))


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport=PHONE, device_scale_factor=2, locale="ko-KR")
            yield context.new_page()
        finally:
            browser.close()


def _shot(page: Page, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    # readable on a phone: nothing sticks out sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _messages(sink: SmtpSink, address: str) -> list[EmailMessage]:
    parsed = [email.message_from_bytes(data, policy=POLICY) for data in sink.messages_for(address)]
    return [message for message in parsed if isinstance(message, EmailMessage)]


def _digests(sink: SmtpSink, address: str) -> list[EmailMessage]:
    return [m for m in _messages(sink, address) if m["List-Unsubscribe"] is not None]


def test_subscribe_confirm_unsubscribe_in_a_real_browser(
    site: Site, page: Page, site_dir: Path, tmp_path: Path
) -> None:
    shots = tmp_path / "screenshots"
    shots.mkdir()
    add_subscriber(site.config, "other@example.org", "", NOW)
    digest_config = dataclasses.replace(
        site.config,
        digest=dataclasses.replace(
            site.config.digest, unsubscribe_url=f"{site.url}/unsubscribe?token={{token}}"
        ),
    )

    # 1. the subscribe page: Korean, labelled, a visible focus ring
    page.goto(f"{site.url}/subscribe")
    assert page.locator("html").get_attribute("lang") == "ko"
    _heading(page, "이메일로 구독하기")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.locator("#email")
    expect(focused).to_be_focused()
    assert focused.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    _shot(page, shots, "01-subscribe")
    page.get_by_label("이메일 주소").fill(READER)
    page.get_by_role("button", name="구독하기").click()
    _heading(page, "받은편지함을 확인해 주세요")
    _shot(page, shots, "02-check-your-inbox")

    # 2. the confirmation email from the SMTP sink; its link opens a page with one button
    link = site.confirmation_link(READER)
    assert site.status(READER) == "pending"
    page.goto(link)
    _heading(page, "구독 확인")
    assert site.status(READER) == "pending"  # opening the link (as scanners do) changes nothing
    page.get_by_role("button", name="구독 확인하기").click()
    _heading(page, "구독이 완료되었습니다")
    expect(page.locator("a[href='https://news.example.org/feed.atom']")).to_have_count(1)
    _shot(page, shots, "03-confirmed")

    # 3. active: a digest reaches them, with an unsubscribe link to this endpoint
    assert site.status(READER) == "active"
    assert [run.sent for run in send_digests(digest_config, NOW).runs] == [2]
    (digest,) = _digests(site.sink, READER)
    unsubscribe_url = re.findall(r"<(http[^>]+)>", str(digest["List-Unsubscribe"]))[0]
    assert unsubscribe_url.startswith(f"{site.url}/unsubscribe?token=")

    # 4. the link opens a page with one button; only the button unsubscribes
    site.clock.advance(minutes=5)
    page.goto(unsubscribe_url)
    _heading(page, "구독 해지")
    _shot(page, shots, "04-unsubscribe")
    assert site.status(READER) == "active"
    page.get_by_role("button", name="구독 해지하기").click()
    _heading(page, "구독이 해지되었습니다")
    _shot(page, shots, "05-unsubscribed")
    assert site.status(READER) == "unsubscribed"

    # 5. the page offers to resubscribe, by email confirmation again
    site.clock.advance(minutes=5)
    page.get_by_role("button", name="다시 구독하기").click()
    _heading(page, "받은편지함을 확인해 주세요")
    page.goto(site.confirmation_link(READER, count=2))
    page.get_by_role("button", name="구독 확인하기").click()
    _heading(page, "구독이 완료되었습니다")
    _shot(page, shots, "06-subscribed-again")
    assert site.status(READER) == "active"

    # 6. one-click unsubscribe exactly as Gmail sends it, then the next digest skips them
    site.clock.advance(minutes=5)
    reply = Client(cookies=False).request(
        unsubscribe_url,
        method="POST",
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200
    assert site.status(READER) == "unsubscribed"
    later = "---\ntitle: 새 소식\n---\n<p>다음 주 소식입니다.</p>\n"
    (site_dir / "content" / "900-later.html").write_text(later, encoding="utf-8")
    report = send_digests(digest_config, NOW + timedelta(days=1))
    assert [run.sent for run in report.runs] == [1]
    assert len(_digests(site.sink, "other@example.org")) == 2
    assert len(_digests(site.sink, READER)) == 1
    assert sorted(p.name for p in shots.iterdir()) == [
        "01-subscribe.png",
        "02-check-your-inbox.png",
        "03-confirmed.png",
        "04-unsubscribe.png",
        "05-unsubscribed.png",
        "06-subscribed-again.png",
    ]
