"""Relay connections shared by the workers of one send, and the rules that stop a run.

Each envelope ends in one `Result`. The one rule that matters for "exactly
once": a relay keeps a message only once it has read the final "." of DATA
(RFC 5321 4.1.1.4), so the caller's `before_data` runs after the content and
just before that dot. A failure before it is safe to retry; once the dot has
gone out, a lost connection or a reply that is not a valid SMTP reply is
AMBIGUOUS and the message is never sent again.

A refusal of the whole relay (see relay_failures.py) raises RelayRefused.
"""

from __future__ import annotations

import contextlib
import random
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache

from publisher.core.config import SmtpConfig
from publisher.core.errors import DeliveryError, RelayRefused
from publisher.core.plural import counted
from publisher.newsletter.smtp.relay_failures import Streak, relay_refused
from publisher.newsletter.smtp.replies import LOST, CannotConnect, reply_text
from publisher.newsletter.smtp.session import Connection
from publisher.newsletter.transports import Envelope, Result, ignore, never

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Hosts a plain-text (security = 'none') connection may go to."""


@cache
def _helo_name() -> str:
    return socket.getfqdn()


class _RateLimit:
    """At most `rate` messages a second, shared by every connection."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.next_slot: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = self.clock()
            slot = now if self.next_slot is None else max(now, self.next_slot)
            self.next_slot = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


class SmtpTransport:
    """Sends through a relay over `settings.connections` reused connections."""

    def __init__(
        self,
        settings: SmtpConfig,
        password: str | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        retries: int = 3,
        backoff: float = 1.0,
        rng: random.Random | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if settings.security == "none" and settings.host.strip("[]").lower() not in LOCAL_HOSTS:
            raise DeliveryError(
                f"[smtp] security = 'none' would send mail to {settings.host} unencrypted",
                hint="use security = 'starttls' (port 587) or 'ssl' (port 465); "
                "'none' is only for a relay on localhost",
            )
        if settings.username and password is None:
            raise DeliveryError(
                f"[smtp] username {settings.username!r} is set but no password was given",
                hint="export the variable that [smtp] password_env names",
            )
        self.settings = settings
        self.password = password
        self.sleep = sleep
        self.retries = max(0, retries)
        self.backoff = backoff
        self.rng = rng or random.Random()
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.rate_limit = _RateLimit(settings.rate, clock, sleep)

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def deliver(
        self,
        envelopes: Iterable[Envelope],
        *,
        before_data: Callable[[Envelope], None],
        on_result: Callable[[Result], None],
        on_held: Callable[[Result], None] = ignore,
        should_stop: Callable[[], bool] = never,
    ) -> None:
        streak = Streak(self.settings.relay_failure_threshold, on_held)
        run = _Run(iter(envelopes), should_stop, streak)
        threads = [
            threading.Thread(
                target=run.work,
                args=(Connection(self), before_data, on_result),
                name=f"smtp-{number}",
            )
            for number in range(self.settings.connections)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:
            # Interrupted: let in-flight messages finish and be reported, then re-raise.
            run.abort.set()
            for thread in threads:
                thread.join()
            raise
        finally:
            for held in streak.settle(finished=run.exhausted and not run.errors):
                on_result(held)
        if run.errors:
            raise run.errors[0]

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.backoff * 2.0 ** (attempt - 1) * self.rng.uniform(0.5, 1.5)

    def connect(self) -> smtplib.SMTP:
        """A greeted, secured and logged-in connection.

        Raises DeliveryError for what retrying cannot fix (no STARTTLS, bad
        certificate, bad password), CannotConnect for everything else.
        """
        settings = self.settings
        with self._relay_errors("connection", f"cannot connect to {self.where}"):
            if settings.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.host,
                    settings.port,
                    local_hostname=settings.helo_name or _helo_name(),
                    timeout=settings.timeout,
                    context=self.ssl_context,
                )
            else:
                smtp = smtplib.SMTP(
                    settings.host,
                    settings.port,
                    local_hostname=settings.helo_name or _helo_name(),
                    timeout=settings.timeout,
                )
        if smtp.sock is not None:
            # The final dot goes out as a small write of its own after the content; without
            # this, Nagle's algorithm holds it until the relay's delayed ACK (up to 40 ms).
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self._prepare(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _prepare(self, smtp: smtplib.SMTP) -> None:
        settings = self.settings
        with self._relay_errors("EHLO", f"connection to {self.where} failed"):
            smtp.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(
                        f"the relay {self.where} does not offer STARTTLS, "
                        "and [smtp] security = 'starttls' never falls back to plain text",
                        hint="if the relay speaks implicit TLS (usually port 465) set "
                        "security = 'ssl'; otherwise enable TLS on the relay",
                    )
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if settings.username:
                self._login(smtp)

    @contextlib.contextmanager
    def _relay_errors(self, phase: str, lost: str) -> Iterator[None]:
        """smtplib's and ssl's exceptions while `phase` runs, as ours: a 5xx is the relay's
        refusal, anything else a connection to try again later."""
        try:
            yield
        except ssl.SSLCertVerificationError as e:
            raise self._certificate_error(e) from e
        except smtplib.SMTPResponseException as e:
            if 500 <= e.smtp_code < 600:
                raise relay_refused(self.where, phase, e.smtp_code, reply_text(e.smtp_error)) from e
            raise CannotConnect(e.smtp_code, reply_text(e.smtp_error)) from e
        except LOST as e:
            raise CannotConnect(None, f"{lost}: {e}") from e

    def _login(self, smtp: smtplib.SMTP) -> None:
        settings = self.settings
        if not smtp.has_extn("auth"):
            raise DeliveryError(
                f"the relay {self.where} does not offer AUTH, but [smtp] username is set",
                hint="many relays only offer AUTH after STARTTLS; or clear [smtp] username",
            )
        try:
            smtp.login(settings.username, self.password or "")
        except smtplib.SMTPAuthenticationError as e:
            if 400 <= e.smtp_code < 500:
                raise
            raise RelayRefused(
                f"the relay {self.where} refused the login of {settings.username!r}: "
                f"{e.smtp_code} {reply_text(e.smtp_error)}; the run stopped and every "
                "recipient not yet sent is still pending",
                hint="check [smtp] username and the password in the variable "
                f"{settings.password_env or '[smtp] password_env names'}",
            ) from e
        except smtplib.SMTPException as e:
            if isinstance(e, smtplib.SMTPServerDisconnected | smtplib.SMTPResponseException):
                raise
            raise DeliveryError(
                f"cannot log in to {self.where}: {e}",
                hint="the relay offers no login method Python supports (PLAIN, LOGIN, CRAM-MD5)",
            ) from e

    def _certificate_error(self, error: ssl.SSLCertVerificationError) -> DeliveryError:
        return DeliveryError(
            f"the TLS certificate of {self.where} did not verify: {error.verify_message}",
            hint="check that [smtp] host is the name on the relay's certificate",
        )


@dataclass
class _Run:
    """What the connections of one deliver() call share."""

    envelopes: Iterator[Envelope]
    should_stop: Callable[[], bool]
    streak: Streak
    take_lock: threading.Lock = field(default_factory=threading.Lock)
    abort: threading.Event = field(default_factory=threading.Event)
    errors: list[BaseException] = field(default_factory=list)
    exhausted: bool = False
    """Every envelope was taken: nothing was left untried for a stop or an error."""

    def take(self) -> Envelope | None:
        # The caller's iterator is usually a generator: not safe to share unlocked.
        with self.take_lock:
            if self.abort.is_set() or self.should_stop():
                return None
            envelope = next(self.envelopes, None)
            self.exhausted = envelope is None
            return envelope

    def work(
        self,
        connection: Connection,
        before_data: Callable[[Envelope], None],
        on_result: Callable[[Result], None],
    ) -> None:
        try:
            while (envelope := self.take()) is not None:
                offered = self.streak.offer(
                    connection.send(envelope, before_data), envelope.recipient
                )
                for result in offered.report:
                    on_result(result)
                if (cause := offered.tripped_by) is not None:
                    raise relay_refused(
                        connection.transport.where,
                        cause.stage,
                        cause.code,
                        cause.text,
                        f"the same refusal for {counted(self.streak.threshold, 'recipient')} "
                        "in a row, "
                        "of more than one domain",
                    )
                if connection.fatal is not None:
                    raise connection.fatal
                if connection.gave_up:
                    return
        except BaseException as e:
            self.abort.set()
            self.errors.append(e)
        finally:
            connection.quit()


def offers_smtputf8(transport: SmtpTransport) -> bool | str:
    """Whether the relay offers SMTPUTF8 after EHLO (and STARTTLS and login), or why we
    could not ask it."""
    try:
        smtp = transport.connect()
    except (DeliveryError, CannotConnect) as e:
        return str(e)
    try:
        return bool(smtp.has_extn("smtputf8"))
    finally:
        with contextlib.suppress(*LOST):
            smtp.quit()
