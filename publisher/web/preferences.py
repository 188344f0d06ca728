"""The preference page: a reader opens it from the link in any digest, sees their categories
and cadence, and saves new ones; it also offers to unsubscribe.

The link's signed token names the reader, so the page never asks for an address
and answers a bad token exactly as the unsubscribe page does. Saving is a POST
with the same signed double-submit form token as the subscribe form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from publisher.core.config import Config
from publisher.newsletter.preferences import (
    Choices,
    Preferences,
    preferences_of,
    save_preferences,
)
from publisher.newsletter.reader_links import choosing
from publisher.newsletter.tokens import form_token_matches, unsubscribe_token
from publisher.state.store import SubscriberRow, open_store
from publisher.web.keys import LiveKeys
from publisher.web.views import FORM_COOKIE, FORM_MAX_AGE, Form, Views

logger = logging.getLogger(__name__)

FIXED_FIELDS = 8
"""The fields of our forms besides one per category: token, email, honeypot, cadence…"""
MAX_FORM_FIELDS = 1000
"""Fields read at most whatever the site has (the 16 KB body limit binds first)."""
NO_CHOICES = Choices({}, ())
"""For forms that offer no categories (the confirm and unsubscribe buttons)."""


def picked(form: FormData, choices: Choices) -> Preferences:
    """The categories and cadence a form asks for, kept to what the site offers: no category
    checked means every category; an unknown cadence means the default."""
    slugs = sorted({value for value in form.getlist("category") if isinstance(value, str)})
    categories = tuple(slug for slug in slugs if slug in choices.categories)
    cadence = form.get("cadence")
    if not isinstance(cadence, str) or cadence not in choices.cadences:
        cadence = choices.default_cadence
    return Preferences(categories or None, cadence)


def form_of(email: str, preferences: Preferences) -> Form:
    return Form(email, categories=preferences.categories, cadence=preferences.cadence)


async def read_form(request: Request, offered: Choices) -> FormData:
    """The form a page sent, with room for a field per category it offers."""
    fields = min(len(offered.categories) + FIXED_FIELDS, MAX_FORM_FIELDS)
    async with request.form(max_files=0, max_fields=fields, max_part_size=4096) as form:
        return form


@dataclass(frozen=True)
class _Reader:
    subscriber: SubscriberRow
    preferences: Preferences
    offered: Choices
    """What the site lets readers choose now."""


class PreferencePages:
    def __init__(
        self, config: Config, keys: LiveKeys, views: Views, clock: Callable[[], datetime]
    ) -> None:
        self.config = config
        self.keys = keys
        self.views = views
        self.t = views.t
        self.clock = clock

    async def page(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        reader = await run_in_threadpool(self._reader, token)
        if reader is None:
            return self.views.bad_link()
        return self._show(request, token, reader, Form())

    async def save(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        now = self.clock()
        reader = await run_in_threadpool(self._reader, token)
        form = await read_form(request, reader.offered if reader else NO_CHOICES)
        if reader is None:
            return self.views.bad_link()
        csrf = form.get("csrf_token")
        cookie = request.cookies.get(FORM_COOKIE, "")
        chosen = picked(form, reader.offered)
        if not isinstance(csrf, str) or not form_token_matches(
            self.keys.ring(), csrf, cookie, now=now, max_age=FORM_MAX_AGE
        ):
            stale = Form(note=self.t.stale_form)
            return self._show(request, token, reader, stale, chosen, status=403)
        if reader.subscriber.status == "unsubscribed":
            return self._show(request, token, reader, Form())
        await run_in_threadpool(self._save, reader.subscriber, chosen, now)
        logger.info("preferences saved", extra={"subscriber": reader.subscriber.id})
        return self._show(request, token, reader, Form(note=self.t.saved_note), chosen)

    def _show(
        self,
        request: Request,
        token: str,
        reader: _Reader,
        form: Form,
        shown: Preferences | None = None,
        *,
        status: int = 200,
    ) -> Response:
        subscriber = reader.subscriber
        if subscriber.status == "unsubscribed":
            message = self.t.preferences_unsubscribed.format(
                email=subscriber.email, site=self.config.site.title
            )
            return self.views.page(
                "error", self.t.preferences_title, status=status, message=message
            )
        preferences = shown or reader.preferences
        filled = Form(
            subscriber.email,
            note=form.note,
            categories=preferences.categories,
            cadence=preferences.cadence,
        )
        leave = unsubscribe_token(self.keys.ring(), subscriber.id, subscriber.email_key)
        return self.views.preferences(
            request,
            self.clock(),
            reader.offered,
            subscriber.email,
            (token, leave),
            filled,
            status=status,
        )

    def _reader(self, token: str) -> _Reader | None:
        """Worker-thread work: who the link names, their choices and what the site offers."""
        with open_store(self.config.state_db) as store:
            subscriber = choosing(store, self.keys.ring(), token)
            if subscriber is None:
                return None
            preferences = preferences_of(store, self.config, subscriber.id)
        return _Reader(subscriber, preferences, self.views.choices())

    def _save(self, subscriber: SubscriberRow, preferences: Preferences, now: datetime) -> None:
        with open_store(self.config.state_db) as store:
            save_preferences(store, subscriber.id, preferences, now)
