"""The outbox transport: each message written as an .eml file into a folder."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from publisher.core.errors import DeliveryError
from publisher.newsletter.transports import Envelope, Outcome, Result, ignore, never
from publisher.outputs.files import write_if_changed

_SAFE_FILE_NAME = re.compile(r"[^A-Za-z0-9._@+-]")


class OutboxTransport:
    """Writes each message to `folder/<filename or key>.eml`, atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, envelope: Envelope) -> Path:
        name = _SAFE_FILE_NAME.sub("_", envelope.filename or envelope.key).lstrip(".")
        return self.folder / f"{name or 'message'}.eml"

    def deliver(
        self,
        envelopes: Iterable[Envelope],
        *,
        before_data: Callable[[Envelope], None],
        on_result: Callable[[Result], None],
        on_held: Callable[[Result], None] = ignore,
        should_stop: Callable[[], bool] = never,
    ) -> None:
        iterator = iter(envelopes)
        while not should_stop() and (envelope := next(iterator, None)) is not None:
            path = self.path_for(envelope)
            before_data(envelope)
            try:
                # Messages carry personal unsubscribe links: readable by the owner only.
                write_if_changed(path, envelope.message, mode=0o600)
            except OSError as e:
                on_result(Result(envelope.key, Outcome.TEMPORARY, None, str(e), 1, "outbox"))
                raise DeliveryError(
                    f"cannot write {path}: {e.strerror or e}",
                    hint="check that [paths] outbox is writable and the disk is not full",
                ) from e
            on_result(Result(envelope.key, Outcome.SENT, None, f"written to {path}", 1, "outbox"))
