"""What each route does. HTTP in, one call into the store or the confirmation module, a page out.

Store work runs in a worker thread, one short SQLite transaction at a time,
without the state folder's file lock: `publisher digest` holds that lock for a
whole send, and a one-click unsubscribe must not wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.newsletter.addresses import AddressError, parse_address
from publisher.newsletter.confirmation import (
    ConfirmationError,
    ConfirmationMailer,
    confirm_subscription,
    subscriber_to_activate,
)
from publisher.newsletter.reader_links import unsubscribing
from publisher.newsletter.tokens import form_token_matches
from publisher.state.store import SubscriberRow, open_store, reading
from publisher.web.keys import LiveKeys
from publisher.web.limits import RateLimiter
from publisher.web.preferences import NO_CHOICES, form_of, picked, read_form
from publisher.web.signups import SignUp, SignupQueue, SignupWork
from publisher.web.views import FORM_COOKIE, FORM_MAX_AGE, Views

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 320
ONE_CLICK = "One-Click"
"""RFC 8058: the POST body is `List-Unsubscribe=One-Click`."""


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


class Handlers:
    def __init__(
        self,
        config: Config,
        keys: LiveKeys,
        views: Views,
        mailer: ConfirmationMailer,
        clock: Callable[[], datetime],
    ) -> None:
        self.config = config
        self.keys = keys
        self.views = views
        self.t = views.t
        self.mailer = mailer
        self.clock = clock
        window = timedelta(seconds=config.web.rate_window)
        self.per_ip = RateLimiter(config.web.rate_per_ip, window)
        self.per_address = RateLimiter(config.web.rate_per_address, window)
        self.link_lifetime = timedelta(hours=config.web.confirm_hours)
        work = SignupWork(config, keys, mailer, self._confirmation_email, self.link_lifetime)
        self.signups = SignupQueue(work)

    # subscribe --------------------------------------------------------------

    async def subscribe_form(self, request: Request) -> Response:
        offered = await run_in_threadpool(self.views.choices)
        return self.views.subscribe(request, self.clock(), offered)

    async def subscribe(self, request: Request) -> Response:
        now = self.clock()
        ip = request.client.host if request.client else "unknown"
        if not self.per_ip.allow(ip, now):
            wait = self.per_ip.retry_after(ip, now)
            return self.views.error(
                429, self.t.too_many_title, self.t.too_many_body, {"Retry-After": str(wait)}
            )
        offered = await run_in_threadpool(self.views.choices)
        form = await read_form(request, offered)
        email = _field(form, "email")[:MAX_EMAIL_LENGTH]
        token = _field(form, "csrf_token")
        chosen = picked(form, offered)
        back = form_of(email, chosen)  # the page shown again keeps what was chosen
        if not token:  # a form without our token, such as the one on the static index page
            again = replace(back, note=self.t.resubmit_note)
            return self.views.subscribe(request, now, offered, again)
        cookie = request.cookies.get(FORM_COOKIE, "")
        if not form_token_matches(self.keys.ring(), token, cookie, now=now, max_age=FORM_MAX_AGE):
            stale = replace(back, note=self.t.stale_form)
            return self.views.subscribe(request, now, offered, stale, status=403)
        if _field(form, "website"):
            logger.info("honeypot field filled; nothing stored", extra={"client": ip})
            return self.views.sent()
        try:
            address = parse_address(email)
        except AddressError:
            form_back = replace(back, error=self.t.invalid_email)
            return self.views.subscribe(request, now, offered, form_back, status=400)
        # The same steps for every address: whether it is new, pending or active is found
        # out after the answer has been sent (the worker would otherwise share the CPU with
        # the answer), so the time to answer tells nobody which it is.
        if not self.per_address.allow(address.key, now):
            return self.views.sent()
        # The confirmation carries the choice: it takes effect only when the address confirms.
        choice = (list(chosen.categories) if chosen.categories else None, chosen.cadence)
        sign_up = SignUp(address, now, choice)
        return self.views.sent(BackgroundTask(self.signups.hand_over, sign_up))

    def _confirmation_email(self, link: str) -> tuple[str, str]:
        return self.views.confirmation_subject(), self.views.confirmation_text(link)

    # confirm ----------------------------------------------------------------

    async def confirm_page(self, request: Request) -> Response:
        """A page with one button. A GET (or HEAD) never confirms: mail scanners open every
        link, and would confirm sign-ups that someone else started."""
        token = request.query_params.get("token", "")
        try:
            subscriber = await run_in_threadpool(self._to_confirm, token, self.clock())
        except ConfirmationError as e:
            return self._refused(e)
        if subscriber.status == "active":
            return self.views.confirmed(subscriber.email)
        return self.views.confirm(subscriber.email, token)

    async def confirm(self, request: Request) -> Response:
        """The button: a POST with the link's token activates the subscription."""
        await read_form(request, NO_CHOICES)
        token = request.query_params.get("token", "")
        try:
            subscriber = await run_in_threadpool(self._confirm, token, self.clock())
        except ConfirmationError as e:
            return self._refused(e)
        return self.views.confirmed(subscriber.email)

    def _refused(self, error: ConfirmationError) -> Response:
        if error.expired:
            body = self.t.expired_body.format(hours=self.config.web.confirm_hours)
            return self.views.error(400, self.t.expired_title, body)
        return self.views.bad_link()

    def _to_confirm(self, token: str, now: datetime) -> SubscriberRow:
        with open_store(self.config.state_db) as store:
            keys = self.keys.ring()
            return subscriber_to_activate(store, keys, token, now, self.link_lifetime)[0]

    def _confirm(self, token: str, now: datetime) -> SubscriberRow:
        with open_store(self.config.state_db) as store:
            return confirm_subscription(store, self.keys.ring(), token, now, self.link_lifetime)

    # unsubscribe ------------------------------------------------------------

    async def unsubscribe_page(self, request: Request) -> Response:
        """A page with one button. A GET never unsubscribes: scanners prefetch links."""
        token = request.query_params.get("token", "")
        subscriber = await run_in_threadpool(self._token_subscriber, token)
        if subscriber is None:
            return self.views.bad_link()
        if subscriber.status == "unsubscribed":
            offered = await run_in_threadpool(self.views.choices)
            return self.views.unsubscribed(request, subscriber.email, self.clock(), offered)
        return self.views.unsubscribe(subscriber.email, token)

    async def unsubscribe(self, request: Request) -> Response:
        """RFC 8058 one-click: a POST with List-Unsubscribe=One-Click acts at once."""
        form = await read_form(request, NO_CHOICES)
        if _field(form, "List-Unsubscribe") != ONE_CLICK:
            return self.views.error(400, self.t.bad_link_title, self.t.one_click_missing)
        token = request.query_params.get("token", "")
        now = self.clock()
        subscriber = await run_in_threadpool(self._unsubscribe, token, now)
        if subscriber is None:
            return self.views.bad_link()
        offered = await run_in_threadpool(self.views.choices)
        return self.views.unsubscribed(request, subscriber.email, now, offered)

    def _token_subscriber(self, token: str) -> SubscriberRow | None:
        with open_store(self.config.state_db) as store:
            return unsubscribing(store, self.keys.ring(), token)

    def _unsubscribe(self, token: str, now: datetime) -> SubscriberRow | None:
        with open_store(self.config.state_db) as store:
            subscriber = unsubscribing(store, self.keys.ring(), token)
            if subscriber is None:
                return None
            if subscriber.status != "unsubscribed":
                store.set_subscriber_status(subscriber.id, "unsubscribed", now)
                logger.info("unsubscribed", extra={"subscriber": subscriber.id})
            return subscriber

    # the rest ---------------------------------------------------------------

    async def style(self, _request: Request) -> Response:
        return self.views.style_sheet()

    async def health(self, _request: Request) -> Response:
        try:
            version = await run_in_threadpool(self._schema_version)
        except PublisherError as e:
            logger.error("health check failed: %s", e.message)
            return PlainTextResponse("state database unavailable\n", status_code=503)
        return PlainTextResponse(f"ok schema={version}\n")

    def _schema_version(self) -> int:
        with reading(self.config.state_db) as store:
            if store is None:
                raise PublisherError(f"no state database at {self.config.state_db}")
            return store.schema_version()
