"""Sign-ups done after the answer: the subscribe page is the same work for every address.

`POST /subscribe` checks the form and answers; once the answer has been sent, it hands
the address to `SignupQueue`. What differs between a new, a pending and an active address
(storing the row, making and sending the confirmation email) happens here, in one worker
thread, so the time to answer tells nothing about who is subscribed. The thread
starts with the first sign-up and ends when it has been idle a while; at interpreter
exit it finishes what is queued (it is not a daemon thread).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from publisher.core.config import Config
from publisher.core.errors import PublisherError
from publisher.newsletter.addresses import Address
from publisher.newsletter.confirmation import (
    ConfirmationMailer,
    confirmation_link,
    subscriber_to_confirm,
)
from publisher.newsletter.tokens import Choice
from publisher.state.store import SubscriberRow, open_store
from publisher.web.keys import LiveKeys

logger = logging.getLogger(__name__)

CAPACITY = 1000
"""Sign-ups waiting at most; past it one is dropped with a warning (rate limits keep the
queue far shorter)."""
IDLE_SECONDS = 2.0
"""How long the worker waits for another sign-up before it ends."""


@dataclass(frozen=True)
class SignUp:
    address: Address
    at: datetime
    choice: Choice | None = None
    """The categories and cadence the form asked for; the confirmation link carries them."""


class SignupQueue:
    """Runs `handle(sign_up)` for each submitted sign-up, in order, in one worker thread."""

    def __init__(self, handle: Callable[[SignUp], None]) -> None:
        self._handle = handle
        self._queue: queue.Queue[SignUp] = queue.Queue(CAPACITY)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, sign_up: SignUp) -> None:
        """Queue the sign-up and return at once."""
        try:
            self._queue.put_nowait(sign_up)
        except queue.Full:
            logger.warning("too many sign-ups waiting; one was dropped")
            return
        with self._lock:
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, name="publisher-signups")
                self._worker.start()

    async def hand_over(self, sign_up: SignUp) -> None:
        """`submit`, as a response's background task: run once the answer has been sent."""
        self.submit(sign_up)

    def wait_until_done(self) -> None:
        """Block until every sign-up submitted so far is handled (for tests and shutdown)."""
        self._queue.join()

    def _work(self) -> None:
        while True:
            try:
                sign_up = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            try:
                self._handle(sign_up)
            except Exception:  # one sign-up must not end the worker
                logger.exception("sign-up failed")
            finally:
                self._queue.task_done()


class SignupWork:
    """What a sign-up does: store a new address as pending, and mail a confirmation link to
    anyone not yet active."""

    def __init__(
        self,
        config: Config,
        keys: LiveKeys,
        mailer: ConfirmationMailer,
        email_text: Callable[[str], tuple[str, str]],
        link_lifetime: timedelta,
    ) -> None:
        self.config = config
        self.keys = keys
        self.mailer = mailer
        self.email_text = email_text
        """The (subject, body) of the confirmation email for a link."""
        self.link_lifetime = link_lifetime

    def __call__(self, sign_up: SignUp) -> None:
        now = sign_up.at
        subscriber = self._subscriber_to_confirm(sign_up.address, now)
        if subscriber is None:
            return
        link = confirmation_link(self.config, self.keys.ring(), subscriber, now, sign_up.choice)
        subject, text = self.email_text(link)
        data = self.mailer.message(subscriber.email, subject, text, now)
        self._send(subscriber, data, now)

    def _subscriber_to_confirm(self, address: Address, now: datetime) -> SubscriberRow | None:
        with open_store(self.config.state_db) as store:
            # Sign-ups nobody confirmed while their link was valid (and as long again) go.
            store.forget_unconfirmed(now - 2 * self.link_lifetime)
            return subscriber_to_confirm(store, address, now)

    def _send(self, subscriber: SubscriberRow, data: bytes, now: datetime) -> None:
        try:
            result = self.mailer.send(subscriber, data, now)
        except PublisherError as e:
            logger.error(
                "confirmation email not sent: %s", e.message, extra={"subscriber": subscriber.id}
            )
            return
        if result is None or result.outcome != "sent":
            logger.warning(
                "confirmation email not sent: %s",
                f"{result.outcome} {result.code} {result.text}" if result else "no result",
                extra={"subscriber": subscriber.id},
            )
