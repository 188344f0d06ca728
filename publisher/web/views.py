"""The subscriber pages and the confirmation email text, rendered from templates/web/."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from publisher.core import i18n
from publisher.core.config import Config
from publisher.core.errors import TemplateError
from publisher.newsletter.preferences import Choices, choices
from publisher.newsletter.tokens import form_token
from publisher.outputs.feeds import FeedLink, feed_links, feed_specs
from publisher.render.template_files import find_template
from publisher.render.templating import environment, render
from publisher.web.keys import LiveKeys

FORM_COOKIE = "publisher_form"
FORM_MAX_AGE = timedelta(hours=2)
"""How long a subscribe form may sit open before it must be submitted again."""
STYLE_FILE = "web/style.css"


@dataclass(frozen=True)
class Urls:
    """Paths the pages link to, under the endpoint's path prefix."""

    subscribe: str
    confirm: str
    unsubscribe: str
    preferences: str
    style: str


@dataclass(frozen=True)
class Form:
    email: str = ""
    csrf_token: str = ""
    error: str = ""
    note: str = ""
    categories: tuple[str, ...] | None = None
    """The categories checked; None when none are (every category)."""
    cadence: str = ""
    """The cadence chosen; empty for the site's default."""


def _nonce_of(request: Request) -> str:
    """The browser's form nonce when it has a plausible one, else a new one."""
    nonce = request.cookies.get(FORM_COOKIE, "")
    if 20 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum():
        return nonce
    return secrets.token_urlsafe(24)


class Views:
    """Turns page names and values into HTML responses with the site's language."""

    def __init__(
        self,
        config: Config,
        keys: LiveKeys,
        choices_for: Callable[[Config], Choices] = choices,
    ) -> None:
        self.config = config
        self.keys = keys
        self._choices_for = choices_for
        self.t = i18n.labels(config.site.language, "web")
        self.lang = i18n.language(config.site.language)
        self.html = environment(config.paths.templates, html=True)
        self.text = environment(config.paths.templates, html=False)
        parts = urlsplit(config.web.base_url)
        self.prefix = parts.path.rstrip("/")
        self.secure_cookie = parts.scheme == "https"
        self.urls = Urls(
            subscribe=f"{self.prefix}/subscribe",
            confirm=f"{self.prefix}/confirm",
            unsubscribe=f"{self.prefix}/unsubscribe",
            preferences=f"{self.prefix}/preferences",
            style=f"{self.prefix}/style.css",
        )
        self.hours = config.web.confirm_hours
        self.feeds: list[FeedLink] = feed_links(config, feed_specs(config, []))
        style = find_template(config.paths.templates, STYLE_FILE)
        try:
            self.style = style.read_bytes()
        except OSError as e:
            raise TemplateError(
                f"cannot read {style}: {e.strerror}",
                hint=f"remove {STYLE_FILE} from [paths] templates to use the built-in one",
            ) from e

    def choices(self) -> Choices:
        """The site's categories and cadences, read when a form is shown (a build may add some).
        It reads the state database: call it from a worker thread (`run_in_threadpool`)."""
        return self._choices_for(self.config)

    def check(self, now: datetime) -> None:
        """Render every page once with sample values, so a broken template fails at start."""
        request = Request({"type": "http", "method": "GET", "headers": []})
        sample = "reader@example.org"
        offered = self.choices()
        self.subscribe(request, now, offered, Form(sample, error="error", note="note"))
        self.sent()
        self.confirm(sample, "token")
        self.confirmed(sample)
        self.unsubscribe(sample, "token")
        self.preferences(request, now, offered, sample, ("token", "token"), Form(note="note"))
        self.unsubscribed(request, sample, now, offered)
        self.bad_link()
        self.confirmation_text("https://example.org/confirm?token=token")

    def _render(self, name: str, title: str, **values: Any) -> str:
        context = {
            "t": self.t,
            "lang": self.lang,
            "site": self.config.site,
            "urls": self.urls,
            "hours": self.hours,
        }
        return render(self.html, f"web/{name}.html.j2", {**context, "title": title, **values})

    def page(
        self,
        name: str,
        title: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        background: BackgroundTask | None = None,
        **values: Any,
    ) -> HTMLResponse:
        return HTMLResponse(
            self._render(name, title, **values),
            status_code=status,
            headers=headers,
            background=background,
        )

    def with_form(
        self,
        request: Request,
        name: str,
        title: str,
        form: Form,
        now: datetime,
        offered: Choices,
        **values: Any,
    ) -> HTMLResponse:
        """A page holding a subscribe form with the `offered` choices: the signed token in the
        page, its nonce in a cookie."""
        nonce = _nonce_of(request)
        form = dataclasses.replace(form, csrf_token=form_token(self.keys.ring(), nonce, now))
        response = self.page(name, title, form=form, choices=offered, **values)
        response.set_cookie(
            FORM_COOKIE,
            nonce,
            max_age=int(FORM_MAX_AGE.total_seconds()),
            path=self.prefix or "/",
            secure=self.secure_cookie,
            httponly=True,
            samesite="strict",
        )
        return response

    def subscribe(
        self,
        request: Request,
        now: datetime,
        offered: Choices,
        form: Form | None = None,
        *,
        status: int = 200,
    ) -> HTMLResponse:
        title = self.t.subscribe_title
        response = self.with_form(request, "subscribe", title, form or Form(), now, offered)
        response.status_code = status
        return response

    def sent(self, background: BackgroundTask | None = None) -> HTMLResponse:
        """The same page for every accepted address, known or not."""
        return self.page("sent", self.t.sent_title, background=background)

    def confirmed(self, email: str) -> HTMLResponse:
        return self.page("confirmed", self.t.confirmed_title, email=email, feeds=self.feeds)

    def confirm(self, email: str, token: str) -> HTMLResponse:
        """One button that confirms: the link's GET must change nothing."""
        action = f"{self.urls.confirm}?token={quote(token, safe='')}"
        return self.page("confirm", self.t.confirm_title, email=email, confirm_action=action)

    def unsubscribe(self, email: str, token: str) -> HTMLResponse:
        action = f"{self.urls.unsubscribe}?token={quote(token, safe='')}"
        return self.page(
            "unsubscribe", self.t.unsubscribe_title, email=email, unsubscribe_action=action
        )

    def preferences(
        self,
        request: Request,
        now: datetime,
        offered: Choices,
        email: str,
        tokens: tuple[str, str],
        form: Form,
        *,
        status: int = 200,
    ) -> HTMLResponse:
        """A reader's preference page: their categories and cadence, and unsubscribe.
        `tokens` are the page's own (preferences) and the unsubscribe link's."""
        token, unsubscribe_token = tokens
        response = self.with_form(
            request,
            "preferences",
            self.t.preferences_title,
            form,
            now,
            offered,
            email=email,
            preferences_action=f"{self.urls.preferences}?token={quote(token, safe='')}",
            unsubscribe_action=f"{self.urls.unsubscribe}?token={quote(unsubscribe_token, safe='')}",
        )
        response.status_code = status
        return response

    def unsubscribed(
        self, request: Request, email: str, now: datetime, offered: Choices
    ) -> HTMLResponse:
        title = self.t.unsubscribed_title
        return self.with_form(
            request, "unsubscribed", title, Form(email), now, offered, email=email
        )

    def error(
        self, status: int, title: str, message: str, headers: dict[str, str] | None = None
    ) -> HTMLResponse:
        return self.page("error", title, status=status, headers=headers, message=message)

    def bad_link(self) -> HTMLResponse:
        return self.error(400, self.t.bad_link_title, self.t.bad_link_body)

    def style_sheet(self) -> Response:
        return Response(
            self.style,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    def confirmation_subject(self) -> str:
        return self.t.email_subject.format(site=self.config.site.title)

    def confirmation_text(self, link: str) -> str:
        context = {
            "t": self.t,
            "site": self.config.site,
            "hours": self.hours,
            "link": link,
            "contact": self.config.mail.contact,
        }
        return render(self.text, "web/confirm_email.txt.j2", context)
