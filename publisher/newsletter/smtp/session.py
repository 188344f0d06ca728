"""One relay connection's SMTP transaction per message.

MAIL FROM, RCPT TO, DATA with the content, then the caller's `before_data`, then the
final dot: the only moment after which a lost connection makes a message ambiguous.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Callable
from typing import TYPE_CHECKING

from publisher.core.errors import DeliveryError
from publisher.newsletter.domains import DomainError, ascii_domain
from publisher.newsletter.smtp.relay_failures import is_size_refusal, relay_refused
from publisher.newsletter.smtp.replies import LOST, CannotConnect, Failure, reply_text
from publisher.newsletter.transports import Envelope, Outcome, Result

if TYPE_CHECKING:
    from publisher.newsletter.smtp.transport import SmtpTransport


class Connection:
    """One worker's connection to the relay, opened lazily and reused."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.smtp: smtplib.SMTP | None = None
        self.gave_up = False
        """Could not connect even after retries: this worker takes no more envelopes."""
        self.fatal: DeliveryError | None = None
        """What stops the whole run once the current envelope is reported."""

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

    def _attempt(self, envelope: Envelope, announce: Callable[[], None]) -> Result | Failure:
        if self.smtp is None:
            try:
                self.smtp = self.transport.connect()
            except CannotConnect as e:
                return Failure(e.code, e.text, "connect", connect=True)
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
                return self._relay_wide(envelope, code, text, stage)
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
        except LOST as e:
            self._drop()
            return Failure(None, f"connection lost at {stage}: {e}", stage, stale=stage == "MAIL")
        try:
            announce()
        except BaseException:
            self._drop()  # mid-DATA: closing is the only way out that sends no dot
            raise
        return self._final_dot(envelope)

    def _final_dot(self, envelope: Envelope) -> Result | Failure:
        assert self.smtp is not None
        try:
            self.smtp.send(_END_OF_DATA)
            code, reply = self.smtp.getreply()
        except LOST as e:
            self._drop()
            return _ambiguous(envelope, f"the connection was lost ({e})")
        text = reply_text(reply)
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
        return code, reply_text(reply)

    def _refused(self, envelope: Envelope, code: int, text: str, stage: str) -> Result | Failure:
        if code == 421:  # the relay is closing this connection
            self._drop()
        else:
            self._reset()
        if 500 <= code < 600 and is_size_refusal(code, text):
            return self._relay_wide(envelope, code, text, stage)
        if 500 <= code < 600:
            return Result(envelope.key, Outcome.PERMANENT, code, text, 0, stage)
        return Failure(code, text, stage, stale=code == 421 and stage == "MAIL")

    def _relay_wide(self, envelope: Envelope, code: int, text: str, stage: str) -> Result:
        """A refusal of every message: this one stays pending and the run stops (`fatal`)."""
        self.fatal = relay_refused(self.transport.where, stage, code, text)
        return Result(envelope.key, Outcome.TEMPORARY, code, text, 0, stage)

    def _reset(self) -> None:
        if self.smtp is None:
            return
        try:
            code, _ = self.smtp.rset()
        except LOST:
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
        except LOST:
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
