"""Running the app: the only importer of uvicorn."""

from __future__ import annotations

import logging
import socket

import uvicorn
from starlette.types import ASGIApp

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.web.app import create_app


class ServeError(PublisherError):
    pass


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound, listening TCP socket; port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
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


def make_server(app: ASGIApp, config: Config) -> uvicorn.Server:
    """Uvicorn set up for a reverse proxy: forwarded client IPs from [web] trusted_proxies.

    The access log is off because every link carries a token in its query string.
    """
    settings = uvicorn.Config(
        app,
        proxy_headers=True,
        forwarded_allow_ips=config.web.trusted_proxies,
        server_header=False,
        access_log=False,
        log_level="info",
        lifespan="off",
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
