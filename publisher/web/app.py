"""`create_app`: the subscriber endpoint as an ASGI app, for `publisher serve` or any server."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from publisher.core.config import Config
from publisher.core.errors import ConfigError
from publisher.newsletter.confirmation import make_confirmation_mailer
from publisher.web.handlers import Handlers
from publisher.web.keys import LiveKeys
from publisher.web.preferences import PreferencePages
from publisher.web.redirects import SlashRedirects
from publisher.web.security import PathPrefix, SecurityHeaders
from publisher.web.signups import SignupQueue
from publisher.web.views import Views

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
BOTH = ["GET", "POST"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


Endpoint = Callable[[Request], Awaitable[Response]]


def _by_method(get: Endpoint, post: Endpoint) -> Endpoint:
    """One route for GET (and HEAD) and POST, so a 405 lists every allowed method."""

    async def endpoint(request: Request) -> Response:
        return await (post if request.method == "POST" else get)(request)

    return endpoint


class SubscriberEndpoint:
    """The subscriber endpoint as an ASGI app, with the queue of sign-ups it hands off."""

    def __init__(self, app: ASGIApp, signups: SignupQueue) -> None:
        self.app = app
        self.signups = signups
        """`signups.wait_until_done()` before stopping, so no sign-up is cut off."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def create_app(config: Config, *, clock: Callable[[], datetime] = _utc_now) -> SubscriberEndpoint:
    """The app, with config, secret, templates, mail settings and state checked up front."""
    if not config.web.base_url:
        raise ConfigError(
            "[web] base_url is not set",
            hint='add `base_url = "https://news.example.org/newsletter"` to [web] in config.toml',
        )
    keys = LiveKeys(config, clock)  # checks the secret; creates and migrates the state
    views = Views(config, keys)
    views.check(clock())
    handlers = Handlers(config, keys, views, make_confirmation_mailer(config), clock)
    preferences = PreferencePages(config, keys, views, clock)
    routes = [
        Route("/", handlers.subscribe_form, methods=["GET"]),
        Route("/subscribe", _by_method(handlers.subscribe_form, handlers.subscribe), methods=BOTH),
        Route("/confirm", _by_method(handlers.confirm_page, handlers.confirm), methods=BOTH),
        Route(
            "/unsubscribe",
            _by_method(handlers.unsubscribe_page, handlers.unsubscribe),
            methods=BOTH,
        ),
        Route("/preferences", _by_method(preferences.page, preferences.save), methods=BOTH),
        Route("/style.css", handlers.style, methods=["GET"]),
        Route("/healthz", handlers.health, methods=["GET"]),
    ]

    def http_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        t = views.t
        if error.status_code == 404:
            return views.error(404, t.not_found_title, t.not_found_body)
        if error.status_code == 405:
            return views.error(
                405, t.not_allowed_title, t.not_allowed_body, dict(error.headers or {})
            )
        return views.error(error.status_code, t.not_allowed_title, str(error.detail))

    def server_error(_request: Request, error: Exception) -> Response:
        logger.error("unhandled error", exc_info=error)
        return views.error(500, views.t.server_error_title, views.t.server_error_body)

    def client_gone(_request: Request, _error: Exception) -> Response:
        # One line, not a traceback: clients drop all the time (or were cut off as too slow).
        logger.info("request body incomplete: the client went away or was too slow; nothing done")
        return Response(status_code=400)  # nobody is there to read it

    app = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: http_error,
            ClientDisconnect: client_gone,
            500: server_error,
        },
        max_body_size=MAX_BODY_BYTES,
    )
    app.router.redirect_slashes = False  # SlashRedirects does it without the Host header
    redirects = SlashRedirects(app, config.web.base_url, [route.path for route in routes])
    prefix = urlsplit(config.web.base_url).path.rstrip("/")
    return SubscriberEndpoint(PathPrefix(SecurityHeaders(redirects), prefix), handlers.signups)
