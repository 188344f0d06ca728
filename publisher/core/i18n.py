"""Every label publisher shows people, in every language it speaks: one catalogue.

Sections: `index` (public/index.html), `digest` (the email), `web` (the
subscriber pages and the confirmation email), `archive` (the web archive of
past issues and its feeds). Placeholders are `str.format`
fields. A new language is one more top-level entry with the same keys as "en"
(a test checks); a tag whose primary language is missing falls back to English.
"""

from __future__ import annotations

from datetime import datetime

DEFAULT_LANGUAGE = "en"

ENGLISH_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
"""English month names, whatever the process locale (long dates, and the sources' date
and URL rules: Ruby's and Go's names are these)."""
ENGLISH_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
"""English day names, in Python's `weekday()` order."""


class Labels(dict[str, str]):
    """One section's labels in one language; `labels.key` and `labels["key"]` both work."""

    def __getattr__(self, name: str) -> str:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def language(tag: str) -> str:
    """The catalogue language for a language tag: its primary subtag ('ko-KR' → 'ko'),
    or English when the catalogue does not have it."""
    primary = tag.split("-", 1)[0].casefold()
    return primary if primary in CATALOGUE else DEFAULT_LANGUAGE


def labels(tag: str, section: str) -> Labels:
    return Labels(CATALOGUE[language(tag)][section])


def long_date(moment: datetime, tag: str) -> str:
    """A date as people write it: '20 June 2024', '2024년 6월 20일'."""
    if language(tag) == "ko":
        return f"{moment.year}년 {moment.month}월 {moment.day}일"
    return f"{moment.day} {ENGLISH_MONTHS[moment.month - 1]} {moment.year}"


_CHOICES_EN = {
    "categories_legend": "Categories",
    "categories_hint": "Check the ones you want, or none to get every category, new ones included.",
    "cadence_legend": "How often",
    "cadence_weekly": "A weekly digest",
    "cadence_daily": "A daily digest",
    "cadence_each": "An email for each new post",
}
"""The subscribe and preference forms' choices (en), on index.html and the web pages."""

_CHOICES_KO = {
    "categories_legend": "분야",
    "categories_hint": "원하는 분야를 고르세요. 하나도 고르지 않으면 새로 생기는 분야까지 모두 받습니다.",
    "cadence_legend": "받는 주기",
    "cadence_weekly": "주간 모음",
    "cadence_daily": "일간 모음",
    "cadence_each": "새 글마다 바로",
}
"""The subscribe and preference forms' choices (ko), on index.html and the web pages."""

CATALOGUE: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "index": {
            "subscribe": "Subscribe",
            "feeds_intro": "Paste one of these addresses into your feed reader.",
            "email_label": "Get new posts by email",
            "email_button": "Subscribe by email",
            "latest": "Latest posts",
            "atom": "Atom",
            "rss": "RSS",
            "json": "JSON Feed",
            **_CHOICES_EN,
            "archive_link": "Past newsletters",
        },
        "digest": {
            "read_more": "Read more",
            "in_this_issue": "In this issue",
            "intro_one": "Here is the new post from {site}.",
            "intro_many": "Here are {count} new posts from {site}.",
            "hello": "Hello,",
            "hello_name": "Hello {name},",
            "why": "You are receiving this because {email} subscribed to {site} at {url}.",
            "unsubscribe": "Unsubscribe",
            "website": "Visit the website",
            "unsubscribe_text": "Unsubscribe with one click",
            "manage_preferences": "Manage preferences",
            "view_in_browser": "View in your browser",
            "archive_note": "This is the web copy of an issue of {site}, as it was sent.",
            "subscribe": "Subscribe",
            "reader": "a reader",
        },
        "web": {
            "subscribe_title": "Subscribe by email",
            "subscribe_intro": "Get new posts from {site} by email. First we send you a link to confirm the address.",
            "email_label": "Email address",
            "email_hint": "We use it only to send you the newsletter. Every email has an unsubscribe link.",
            "honeypot_label": "Leave this field empty",
            "subscribe_button": "Subscribe",
            "invalid_email": "Enter an email address like name@example.com.",
            "resubmit_note": "Almost done: check the address and press Subscribe.",
            "stale_form": "This form expired or came from another page. Check the address and press Subscribe again.",
            "sent_title": "Check your inbox",
            "sent_body": "Unless the address is already subscribed, we have sent it a link to confirm the subscription. The link works for {hours} hours.",
            "sent_spam": "If nothing arrives in a few minutes, look in your spam folder.",
            "confirm_title": "Confirm your subscription",
            "confirm_question": "Send new posts from {site} to {email}?",
            "confirm_button": "Confirm subscription",
            "confirmed_title": "You are subscribed",
            "confirmed_body": "Thank you. New posts from {site} will be sent to {email}.",
            "feeds_intro": "You can also follow the site in a feed reader:",
            "home_link": "Go to {site}",
            "unsubscribe_title": "Unsubscribe",
            "unsubscribe_question": "Stop sending {site} emails to {email}?",
            "unsubscribe_button": "Unsubscribe",
            "unsubscribed_title": "You are unsubscribed",
            "unsubscribed_body": "{email} will get no more emails from {site}.",
            "resubscribe_intro": "Unsubscribed by mistake?",
            "resubscribe_button": "Subscribe again",
            "bad_link_title": "This link does not work",
            "bad_link_body": "The link is incomplete, was changed, or is no longer valid. Copy the whole link from the email, or subscribe again.",
            "expired_title": "This link has expired",
            "expired_body": "Confirmation links work for {hours} hours. Subscribe again to get a new one.",
            "one_click_missing": "The unsubscribe request is incomplete. Open the link from the email and press the button.",
            "too_many_title": "Too many requests",
            "too_many_body": "Please wait a while and try again.",
            "not_found_title": "Page not found",
            "not_found_body": "There is nothing at this address.",
            "not_allowed_title": "Not allowed",
            "not_allowed_body": "This page cannot be used that way.",
            "server_error_title": "Something went wrong",
            "server_error_body": "Please try again later.",
            "back_to_subscribe": "Go to the subscribe page",
            "email_subject": "Confirm your subscription to {site}",
            "email_greeting": "Hello,",
            "email_body": "Someone, probably you, asked to receive {site} by email at this address. To confirm, open this link within {hours} hours and press the button on the page:",
            "email_ignore": "If it was not you, ignore this email and nothing more will be sent.",
            **_CHOICES_EN,
            "preferences_title": "Your email preferences",
            "preferences_intro": "Choose what {site} sends to {email}.",
            "save_button": "Save preferences",
            "saved_note": "Saved. The next email follows these preferences.",
            "unsubscribe_instead": "Rather get nothing at all?",
            "preferences_unsubscribed": "{email} is unsubscribed, so {site} sends it nothing. Subscribe again to choose what you get.",
        },
        "archive": {
            "title": "Newsletter archive",
            "intro": "Every issue of the {site} newsletter, as it was sent, newest first.",
            "issue": "Issue {number}",
            "feed_title": "{site} · newsletter",
            "feeds_intro": "Follow new issues in a feed reader:",
            "empty": "No issue has been sent yet.",
            "subscribe": "Subscribe by email",
            "home_link": "Go to {site}",
            "cadence_weekly": "Weekly",
            "cadence_daily": "Daily",
            "cadence_each": "New post",
        },
    },
    "ko": {
        "index": {
            "subscribe": "구독하기",
            "feeds_intro": "아래 주소 중 하나를 피드 리더에 붙여 넣으세요.",
            "email_label": "새 글을 이메일로 받아 보세요",
            "email_button": "이메일로 구독하기",
            "latest": "최근 글",
            "atom": "Atom 피드",
            "rss": "RSS 피드",
            "json": "JSON 피드",
            **_CHOICES_KO,
            "archive_link": "지난 뉴스레터 보기",
        },
        "digest": {
            "read_more": "계속 읽기",
            "in_this_issue": "이번 호 소식",
            "intro_one": "{site}의 새 글을 전해 드립니다.",
            "intro_many": "{site}의 새 글 {count}편을 모았습니다.",
            "hello": "안녕하세요.",
            "hello_name": "{name}님, 안녕하세요.",
            "why": "{email} 주소로 {site} 소식을 구독하셔서 받으신 메일입니다. ({url})",
            "unsubscribe": "수신 거부",
            "website": "웹사이트 방문",
            "unsubscribe_text": "한 번에 수신 거부하기",
            "manage_preferences": "구독 설정 바꾸기",
            "view_in_browser": "웹 브라우저에서 보기",
            "archive_note": "{site} 뉴스레터가 발송된 그대로의 웹 사본입니다.",
            "subscribe": "구독하기",
            "reader": "구독자",
        },
        "web": {
            "subscribe_title": "이메일로 구독하기",
            "subscribe_intro": "{site}의 새 글을 이메일로 받아 보세요. 먼저 주소를 확인하는 링크를 보내 드립니다.",
            "email_label": "이메일 주소",
            "email_hint": "뉴스레터 발송에만 사용합니다. 모든 메일에 구독 해지 링크가 있습니다.",
            "honeypot_label": "이 칸은 비워 두세요",
            "subscribe_button": "구독하기",
            "invalid_email": "name@example.com 같은 이메일 주소를 입력해 주세요.",
            "resubmit_note": "거의 다 되었습니다. 주소를 확인하고 구독하기를 눌러 주세요.",
            "stale_form": "이 양식은 만료되었거나 다른 페이지에서 왔습니다. 주소를 확인하고 구독하기를 다시 눌러 주세요.",
            "sent_title": "받은편지함을 확인해 주세요",
            "sent_body": "이미 구독 중인 주소가 아니라면 구독을 확인하는 링크를 보냈습니다. 링크는 {hours}시간 동안 유효합니다.",
            "sent_spam": "몇 분이 지나도 메일이 오지 않으면 스팸함을 확인해 주세요.",
            "confirm_title": "구독 확인",
            "confirm_question": "{site}의 새 글을 {email} 주소로 받으시겠어요?",
            "confirm_button": "구독 확인하기",
            "confirmed_title": "구독이 완료되었습니다",
            "confirmed_body": "감사합니다. {site}의 새 글을 {email} 주소로 보내 드립니다.",
            "feeds_intro": "피드 리더로도 구독할 수 있습니다.",
            "home_link": "{site} 바로 가기",
            "unsubscribe_title": "구독 해지",
            "unsubscribe_question": "{email} 주소로 {site} 메일을 그만 받으시겠어요?",
            "unsubscribe_button": "구독 해지하기",
            "unsubscribed_title": "구독이 해지되었습니다",
            "unsubscribed_body": "{email} 주소로 더 이상 {site} 메일을 보내지 않습니다.",
            "resubscribe_intro": "실수로 해지하셨나요?",
            "resubscribe_button": "다시 구독하기",
            "bad_link_title": "이 링크는 사용할 수 없습니다",
            "bad_link_body": "링크가 잘렸거나 바뀌었거나 더 이상 유효하지 않습니다. 메일에 있는 링크 전체를 복사하거나 다시 구독해 주세요.",
            "expired_title": "링크가 만료되었습니다",
            "expired_body": "확인 링크는 {hours}시간 동안만 유효합니다. 다시 구독하시면 새 링크를 보내 드립니다.",
            "one_click_missing": "구독 해지 요청이 완전하지 않습니다. 메일의 링크를 열고 버튼을 눌러 주세요.",
            "too_many_title": "요청이 너무 많습니다",
            "too_many_body": "잠시 후 다시 시도해 주세요.",
            "not_found_title": "페이지를 찾을 수 없습니다",
            "not_found_body": "요청하신 주소에 페이지가 없습니다.",
            "not_allowed_title": "허용되지 않는 요청입니다",
            "not_allowed_body": "이 페이지는 그런 방식으로 사용할 수 없습니다.",
            "server_error_title": "문제가 발생했습니다",
            "server_error_body": "잠시 후 다시 시도해 주세요.",
            "back_to_subscribe": "구독 페이지로 가기",
            "email_subject": "{site} 구독을 확인해 주세요",
            "email_greeting": "안녕하세요.",
            "email_body": "이 주소로 {site} 소식을 받아 보겠다는 신청이 들어왔습니다. 구독을 확인하시려면 {hours}시간 안에 아래 링크를 열고 페이지의 버튼을 눌러 주세요.",
            "email_ignore": "직접 신청하지 않으셨다면 이 메일을 무시해 주세요. 더 이상 메일이 가지 않습니다.",
            **_CHOICES_KO,
            "preferences_title": "구독 설정",
            "preferences_intro": "{site}에서 {email} 주소로 보낼 소식을 고르세요.",
            "save_button": "설정 저장하기",
            "saved_note": "저장했습니다. 다음 메일부터 이 설정을 따릅니다.",
            "unsubscribe_instead": "아예 받지 않으시려면",
            "preferences_unsubscribed": "{email} 주소는 구독이 해지되어 {site} 메일을 받지 않습니다. 받을 소식을 고르시려면 다시 구독해 주세요.",
        },
        "archive": {
            "title": "지난 뉴스레터",
            "intro": "{site} 뉴스레터를 발송된 그대로, 최신 호부터 모았습니다.",
            "issue": "제{number}호",
            "feed_title": "{site} · 뉴스레터",
            "feeds_intro": "피드 리더로 새 호를 받아 보세요.",
            "empty": "아직 발송된 뉴스레터가 없습니다.",
            "subscribe": "이메일로 구독하기",
            "home_link": "{site} 바로 가기",
            "cadence_weekly": "주간",
            "cadence_daily": "일간",
            "cadence_each": "새 글",
        },
    },
}
