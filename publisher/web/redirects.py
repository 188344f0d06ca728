"""Redirects that name only [web] base_url, never the Host a request claims.

Starlette redirects `/subscribe/` to `/subscribe` (and the bare prefix to `/`) at the
URL the request was made to, Host header and all, so a forged Host put another site's
address in our Location header. Here the same redirects point at [web] base_url.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class SlashRedirects:
    """A path that is one of `paths` but for a trailing slash is redirected to that path."""

    def __init__(self, app: ASGIApp, base_url: str, paths: Collection[str]) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.prefix = urlsplit(base_url).path.rstrip("/")
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (target := self._target(scope)) is not None:
            await RedirectResponse(target, status_code=307)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _target(self, scope: Scope) -> str | None:
        path = str(scope["path"])
        if self.prefix and (path == self.prefix or path.startswith(self.prefix + "/")):
            path = path[len(self.prefix) :]  # a proxy that keeps the prefix
        if path in self.paths:
            return None
        other = path[:-1] if path.endswith("/") else path + "/"
        if other not in self.paths:
            return None
        query = scope.get("query_string", b"").decode("latin-1")
        return self.base_url + other + (f"?{query}" if query else "")
