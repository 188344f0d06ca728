"""Running the app: the only importer of uvicorn (and of h11, its HTTP/1.1 parser).

Limits against abusive clients: a header block may be at most MAX_HEADER_BYTES; a
request (headers and body) must arrive whole within [web] request_timeout of its first
byte, and a new connection must start one within that time; an idle kept-alive
connection closes after KEEP_ALIVE_SECONDS; at most [web] max_connections are served
at once (more get 503). uvicorn has no timeout of its own for a request that trickles in.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.web.app import create_app


class ServeError(PublisherError):
    pass


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, so asyncio sets TCP_NODELAY on each connection: without it a
    # response written in two parts (headers, body) waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise ServeError(
            f"cannot listen on {host}:{port}: {e.strerror}",
            hint="pick another --port, or stop whatever is using it",
        ) from e
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


MAX_HEADER_BYTES = 16 * 1024
KEEP_ALIVE_SECONDS = 5.0
logger = logging.getLogger(__name__)


class DeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request to arrive whole."""

    request_timeout = 10.0
    """Set per server by `make_server`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()  # a connection that never sends a request is closed too

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state in (h11.IDLE, h11.SEND_BODY):
            self._arm()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
            self._disarm()  # the request is in, or the connection is over

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._deadline = self.loop.call_later(self.request_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            # No request under way (the app logs the one whose body it was reading).
            logger.info("closed a connection that sent no whole request in time")
        self.transport.close()


def make_server(app: ASGIApp, config: Config) -> uvicorn.Server:
    """Uvicorn set up for a reverse proxy: forwarded client IPs from [web] trusted_proxies.

    The access log is off because every link carries a token in its query string.
    uvicorn's own messages go through publisher's logging (text or JSON), not its own.
    """
    protocol = type(
        "DeadlineProtocol", (DeadlineProtocol,), {"request_timeout": config.web.request_timeout}
    )
    settings = uvicorn.Config(
        app,
        http=protocol,
        proxy_headers=True,
        forwarded_allow_ips=config.web.trusted_proxies,
        server_header=False,
        access_log=False,
        log_config=None,
        log_level="info",
        lifespan="off",
        timeout_keep_alive=int(KEEP_ALIVE_SECONDS),
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        limit_concurrency=config.web.max_connections,
    )
    # access_log=False only holds while the logger has no handlers; make sure of it.
    logging.getLogger("uvicorn.access").disabled = True
    return uvicorn.Server(settings)


def serve(config: Config, host: str, port: int) -> None:
    """Serve the subscriber endpoint on host:port until interrupted."""
    app = create_app(config)
    sock = listening_socket(host, port)
    logging.getLogger("uvicorn.error").info(
        "publisher: serving %s on http://%s:%d", config.web.base_url, host, port
    )
    try:
        make_server(app, config).run(sockets=[sock])
    finally:
        sock.close()
        app.signups.wait_until_done()  # sign-ups already answered still get their email
