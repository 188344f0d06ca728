"""End to end in Debian's headless Chromium, driven by Playwright (no downloaded browser).

Subscribe in the page, confirm from the email the aiosmtpd sink received,
unsubscribe with the button of the link in a real digest, resubscribe, then
unsubscribe in one click as Gmail does and check the next digest skips them.
And: subscribe to one category daily, change to every category weekly from the
"manage preferences" link of a real digest, and open the archived issue.
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

from publisher.build.pipeline import build
from publisher.core.config import Config
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import add_subscriber
from tests.conftest import NOW
from tests.smtp_sink import SmtpSink
from tests.test_preferences import sections_site
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


# ---------------------------------------------------------------- preferences


@pytest.fixture
def sections(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Site]:
    """The sections site (Politics, Economy, Tech) offering weekly and daily digests,
    served by the endpoint, with only the posts published before NOW in it yet."""
    config = sections_site(tmp_path / "site", cadences=("weekly", "daily"))
    for later in ("p4-batteries", "p5-exports", "p6-summit"):
        (config.paths.content / f"{later}.md").rename(tmp_path / f"{later}.md")
    build(config, NOW)  # records the categories the forms offer
    yield from running_site(config, smtp_sink, Clock(NOW), rate_per_ip=50)


def _publish(site: Site, *names: str) -> None:
    for name in names:
        (site.config.paths.content.parent.parent / f"{name}.md").rename(
            site.config.paths.content / f"{name}.md"
        )


def _posts_in(message: EmailMessage) -> list[str]:
    body = message.get_body(("plain",))
    assert body is not None
    return re.findall(r"https://news\.example\.org/(p\d-[a-z]+)/", body.get_content())


def test_a_reader_chooses_categories_and_cadence_then_changes_them_from_the_mail(
    sections: Site, page: Page, tmp_path: Path
) -> None:
    site = sections
    shots = tmp_path / "screenshots"
    shots.mkdir()

    # 1. subscribe choosing one category and a daily digest
    page.goto(f"{site.url}/subscribe")
    page.get_by_label("이메일 주소").fill(READER)
    page.get_by_label("Economy").check()
    page.get_by_label("일간 모음").check()
    page.get_by_role("button", name="구독하기").click()
    _heading(page, "받은편지함을 확인해 주세요")

    # 2. confirm from the mail: the link's page, then its button
    page.goto(site.confirmation_link(READER))
    page.get_by_role("button", name="구독 확인하기").click()
    _heading(page, "구독이 완료되었습니다")
    assert site.status(READER) == "active"

    # 3. posts in two categories are published; the run mails only the reader's category
    _publish(site, "p5-exports", "p6-summit")
    later = NOW + timedelta(days=1)
    site.clock.now = later
    build(site.config, later)
    first = send_digests(site.config, later)
    assert [run.sent for run in first.runs] == [1]  # one daily issue: nobody reads weekly
    (daily,) = _digests(site.sink, READER)
    assert _posts_in(daily) == ["p5-exports", "p2-rates"]

    # 4. "manage preferences" from that mail: every category, weekly
    (link,) = re.findall(r"<a[^>]+href=\"([^\"]+/preferences\?token=[^\"]+)\"", _html(daily))
    page.goto(link.replace("&amp;", "&"))
    _heading(page, "구독 설정")
    expect(page.get_by_label("Economy")).to_be_checked()
    expect(page.get_by_label("일간 모음")).to_be_checked()
    page.get_by_label("Economy").uncheck()
    page.get_by_label("주간 모음").check()
    page.get_by_role("button", name="설정 저장하기").click()
    expect(page.get_by_role("status")).to_have_text(
        "저장했습니다. 다음 메일부터 이 설정을 따릅니다."
    )
    expect(page.get_by_label("주간 모음")).to_be_checked()
    _shot(page, shots, "07-preferences")

    # 5. the next run follows: the weekly issue, every category, nothing twice
    site.clock.advance(hours=1)
    second = send_digests(site.config, site.clock.now)
    assert [run.sent for run in second.runs] == [1]
    earlier, weekly = _digests(site.sink, READER)
    assert _posts_in(earlier) == _posts_in(daily)
    assert _posts_in(weekly) == ["p6-summit", "p3-chips", "p1-assembly"]
    assert "/newsletter/2/" in _html(weekly), "the weekly issue, after the daily one"

    # 6. the issue as archived, opened from "view in browser"
    (archived,) = re.findall(r"https://news\.example\.org/newsletter/(\d+)/", _html(weekly))
    issue_page = site.config.paths.output / "newsletter" / archived / "index.html"
    page.set_viewport_size(PHONE)
    page.goto(issue_page.as_uri())
    expect(page.locator("a.post-link")).to_have_count(3)
    expect(page.locator("text=발송된 그대로의 웹 사본입니다")).to_have_count(1)
    _shot(page, shots, "08-archived-issue")
    page.goto((issue_page.parent.parent / "index.html").as_uri())
    _heading(page, "지난 뉴스레터")
    _shot(page, shots, "09-archive")
    assert sorted(p.name for p in shots.iterdir()) == [
        "07-preferences.png",
        "08-archived-issue.png",
        "09-archive.png",
    ]


def _html(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content
