"""The SMTP transport: the only importer of smtplib.

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
import re
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
from publisher.newsletter.domains import DomainError, ascii_domain
from publisher.newsletter.relay_failures import Streak, is_size_refusal, relay_refused
from publisher.newsletter.transports import Envelope, Outcome, Result, never

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
"""Hosts a plain-text (security = 'none') connection may go to."""

_LOST = (smtplib.SMTPException, OSError)
"""What smtplib raises when the connection breaks or the server talks nonsense."""


@cache
def _helo_name() -> str:
    return socket.getfqdn()


def _reply_text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())


@dataclass(frozen=True)
class _Failure:
    """A failed attempt that is safe to retry: the content never went out whole."""

    code: int | None
    text: str
    stage: str
    connect: bool = False
    """The connection could not be opened at all."""
    stale: bool = False
    """A reused connection turned out to be closed when the envelope began."""


class _CannotConnect(Exception):
    def __init__(self, code: int | None, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


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
        should_stop: Callable[[], bool] = never,
    ) -> None:
        run = _Run(iter(envelopes), should_stop, Streak(self.settings.relay_failure_threshold))
        threads = [
            threading.Thread(
                target=run.work,
                args=(_Connection(self), before_data, on_result),
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
        if run.errors:
            raise run.errors[0]
        for held in run.streak.release():
            on_result(held)

    def backoff_delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.backoff * 2.0 ** (attempt - 1) * self.rng.uniform(0.5, 1.5)

    def connect(self) -> smtplib.SMTP:
        """A greeted, secured and logged-in connection.

        Raises DeliveryError for what retrying cannot fix (no STARTTLS, bad
        certificate, bad password), _CannotConnect for everything else.
        """
        settings = self.settings
        try:
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
        except ssl.SSLCertVerificationError as e:
            raise self._certificate_error(e) from e
        except smtplib.SMTPResponseException as e:
            if 500 <= e.smtp_code < 600:
                raise relay_refused(
                    self.where, "connection", e.smtp_code, _reply_text(e.smtp_error)
                ) from e
            raise _CannotConnect(e.smtp_code, _reply_text(e.smtp_error)) from e
        except _LOST as e:
            raise _CannotConnect(None, f"cannot connect to {self.where}: {e}") from e
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
        try:
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
        except DeliveryError:
            raise
        except ssl.SSLCertVerificationError as e:
            raise self._certificate_error(e) from e
        except smtplib.SMTPResponseException as e:
            if 500 <= e.smtp_code < 600:
                raise relay_refused(
                    self.where, "EHLO", e.smtp_code, _reply_text(e.smtp_error)
                ) from e
            raise _CannotConnect(e.smtp_code, _reply_text(e.smtp_error)) from e
        except _LOST as e:
            raise _CannotConnect(None, f"connection to {self.where} failed: {e}") from e

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
                f"{e.smtp_code} {_reply_text(e.smtp_error)}; the run stopped and every "
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

    def take(self) -> Envelope | None:
        # The caller's iterator is usually a generator: not safe to share unlocked.
        with self.take_lock:
            if self.abort.is_set() or self.should_stop():
                return None
            return next(self.envelopes, None)

    def work(
        self,
        connection: _Connection,
        before_data: Callable[[Envelope], None],
        on_result: Callable[[Result], None],
    ) -> None:
        try:
            while (envelope := self.take()) is not None:
                reported, relay_wide = self.streak.offer(connection.send(envelope, before_data))
                for result in reported:
                    on_result(result)
                if relay_wide:
                    held = self.streak.held[-1]
                    raise relay_refused(
                        connection.transport.where,
                        held.stage,
                        held.code,
                        held.text,
                        f"the same refusal for {self.streak.threshold} recipients in a row",
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


class _Connection:
    """One worker's connection to the relay, opened lazily and reused."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.smtp: smtplib.SMTP | None = None
        self.gave_up = False
        """Could not connect even after retries: this worker takes no more envelopes."""
        self.fatal: DeliveryError | None = None

    def send(self, envelope: Envelope, before_data: Callable[[Envelope], None]) -> Result:
        transport = self.transport
        announced = False

        def announce() -> None:
            nonlocal announced
            if not announced:
                announced = True
                before_data(envelope)

        attempt = 0
        stale_retried = False
        while True:
            attempt += 1
            reused = self.smtp is not None
            try:
                step = self._attempt(envelope, announce)
            except DeliveryError as e:
                self.fatal = e
                if not announced:
                    raise
                return Result(envelope.key, Outcome.TEMPORARY, None, e.message, attempt, "connect")
            if isinstance(step, Result):
                return _with_attempts(step, attempt)
            if step.stale and reused and not stale_retried:
                # An idle connection the relay had closed: reconnect at once, no penalty.
                stale_retried = True
                attempt -= 1
                continue
            if attempt > transport.retries:
                self.gave_up = step.connect
                return Result(
                    envelope.key, Outcome.TEMPORARY, step.code, step.text, attempt, step.stage
                )
            transport.sleep(transport.backoff_delay(attempt))

    def _attempt(self, envelope: Envelope, announce: Callable[[], None]) -> Result | _Failure:
        if self.smtp is None:
            try:
                self.smtp = self.transport.connect()
            except _CannotConnect as e:
                return _Failure(e.code, e.text, "connect", connect=True)
        smtp = self.smtp
        prepared = _prepare_envelope(envelope, smtp)
        if isinstance(prepared, Result):
            return prepared
        sender, recipient, options = prepared
        self.transport.rate_limit.wait()
        stage = "MAIL"
        try:
            smtp.command_encoding = "utf-8" if "SMTPUTF8" in options else "ascii"
            code, text = self._command(f"MAIL FROM:<{sender}>{''.join(' ' + o for o in options)}")
            if 500 <= code < 600:
                self._reset()
                raise relay_refused(self.transport.where, stage, code, text)
            if not 200 <= code < 300:
                return self._refused(envelope, code, text, stage)
            stage = "RCPT"
            code, text = self._command(f"RCPT TO:<{recipient}>")
            if not 200 <= code < 300:
                return self._refused(envelope, code, text, stage)
            stage = "DATA"
            code, text = self._command("DATA")
            if code != 354:
                return self._refused(envelope, code, text, stage)
            # Everything but the final dot: without it the relay discards the transaction.
            smtp.send(_data_content(envelope.message))
        except _LOST as e:
            self._drop()
            return _Failure(None, f"connection lost at {stage}: {e}", stage, stale=stage == "MAIL")
        try:
            announce()
        except BaseException:
            self._drop()  # mid-DATA: closing is the only way out that sends no dot
            raise
        return self._final_dot(envelope)

    def _final_dot(self, envelope: Envelope) -> Result | _Failure:
        assert self.smtp is not None
        try:
            self.smtp.send(_END_OF_DATA)
            code, reply = self.smtp.getreply()
        except _LOST as e:
            self._drop()
            return _ambiguous(envelope, f"the connection was lost ({e})")
        text = _reply_text(reply)
        if not 200 <= code < 600:
            # smtplib says -1 for a reply without a numeric code: the relay may have the message.
            self._drop()
            return _ambiguous(envelope, f"the relay's reply was not a valid SMTP reply: {text!r}")
        if 200 <= code < 300:
            return Result(envelope.key, Outcome.SENT, code, text, 0, "message")
        if 300 <= code < 400:
            self._drop()
            return _ambiguous(envelope, f"the relay replied {code} {text}")
        return self._refused(envelope, code, text, "message")

    def _command(self, line: str) -> tuple[int, str]:
        assert self.smtp is not None
        self.smtp.putcmd(line)
        code, reply = self.smtp.getreply()
        return code, _reply_text(reply)

    def _refused(self, envelope: Envelope, code: int, text: str, stage: str) -> Result | _Failure:
        if code == 421:  # the relay is closing this connection
            self._drop()
        else:
            self._reset()
        if 500 <= code < 600 and is_size_refusal(code, text):
            raise relay_refused(self.transport.where, stage, code, text)
        if 500 <= code < 600:
            return Result(envelope.key, Outcome.PERMANENT, code, text, 0, stage)
        return _Failure(code, text, stage, stale=code == 421 and stage == "MAIL")

    def _reset(self) -> None:
        if self.smtp is None:
            return
        try:
            code, _ = self.smtp.rset()
        except _LOST:
            code = 0
        if code != 250:
            self._drop()

    def _drop(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def quit(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except _LOST:
            pass
        finally:
            self._drop()


def _ambiguous(envelope: Envelope, what: str) -> Result:
    return Result(
        envelope.key,
        Outcome.AMBIGUOUS,
        None,
        f"{what} after the message's final dot; the relay may have it, so it is not resent",
        0,
        "message",
    )


def _with_attempts(result: Result, attempts: int) -> Result:
    return Result(result.key, result.outcome, result.code, result.text, attempts, result.stage)


_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


_END_OF_DATA = b".\r\n"


def _line_starts_with_dot(message: bytes) -> bool:
    """Whether any line starts with a dot. A digest has none (its bodies are base64, with
    no dot at all), and looking at each of its few dots is 10 × faster than a search."""
    at = message.find(b".")
    while at != -1:
        if at == 0 or message[at - 1] == 0x0A:
            return True
        at = message.find(b".", at + 1)
    return False


def _data_content(message: bytes) -> bytes:
    """The message dot-stuffed (RFC 5321 4.5.2), ending in CRLF, without the final dot."""
    payload = _LEADING_DOT.sub(b"..", message) if _line_starts_with_dot(message) else message
    if not payload.endswith(b"\r\n"):
        payload += b"\r\n"
    return payload


_FORBIDDEN_IN_ADDRESS = re.compile(r"[\x00-\x20\x7f<>]")


class _Unsendable(Exception):
    pass


def _prepare_envelope(
    envelope: Envelope, smtp: smtplib.SMTP
) -> tuple[str, str, list[str]] | Result:
    """Envelope addresses as this relay can take them, and the MAIL FROM parameters."""
    smtputf8 = smtp.has_extn("smtputf8")
    try:
        sender, sender_utf8 = _wire_address(envelope.sender, smtputf8)
    except _Unsendable as e:
        return Result(envelope.key, Outcome.PERMANENT, None, f"sender {e}", 0, "MAIL")
    try:
        recipient, recipient_utf8 = _wire_address(envelope.recipient, smtputf8)
    except _Unsendable as e:
        return Result(envelope.key, Outcome.PERMANENT, None, f"recipient {e}", 0, "RCPT")
    options = []
    if sender_utf8 or recipient_utf8:
        options.append("SMTPUTF8")
    if smtp.has_extn("8bitmime") and not envelope.message.isascii():
        options.append("BODY=8BITMIME")
    if smtp.has_extn("size"):
        options.append(f"SIZE={len(envelope.message)}")
    return sender, recipient, options


def _wire_address(address: str, smtputf8: bool) -> tuple[str, bool]:
    """The address for MAIL/RCPT, and whether it needs SMTPUTF8."""
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or _FORBIDDEN_IN_ADDRESS.search(address):
        raise _Unsendable(f"{address!r} is not a valid address")
    if address.isascii():
        return address, False
    if not local.isascii():
        if smtputf8:
            return address, True
        raise _Unsendable(
            f"{address!r} has a non-ASCII local part and the relay does not offer SMTPUTF8 "
            "(RFC 6531); it cannot be sent through this relay"
        )
    try:
        return f"{local}@{ascii_domain(domain)}", False
    except DomainError as e:
        raise _Unsendable(f"{address!r}: {e}") from None


def offers_smtputf8(transport: SmtpTransport) -> bool | str:
    """Whether the relay offers SMTPUTF8 after EHLO (and STARTTLS and login), or why we
    could not ask it."""
    try:
        smtp = transport.connect()
    except (DeliveryError, _CannotConnect) as e:
        return str(e)
    try:
        return bool(smtp.has_extn("smtputf8"))
    finally:
        with contextlib.suppress(*_LOST):
            smtp.quit()
