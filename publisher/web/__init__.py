"""The subscriber web endpoint: subscribe with double opt-in, confirm, one-click unsubscribe."""

from publisher.web.app import create_app
from publisher.web.server import serve

__all__ = ["create_app", "serve"]
