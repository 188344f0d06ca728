"""A real SMTP server on 127.0.0.1 for tests, with fault injection.

`SmtpSink` runs aiosmtpd's Controller in its own thread on a free port. Use it
as a context manager, or through the `smtp_sink` fixture:

    def test_x(smtp_sink):
        smtp_sink.fail("b@example.org", (451, "4.7.1 try later"))        # once, then accept
        smtp_sink.fail("c@example.org", (550, "5.1.1 no such user"), forever=True)
        transport = SmtpTransport(smtp_sink.smtp_config(), None)
        ...
        assert smtp_sink.messages_for("a@example.org") == [wire_bytes]

Faults (set before sending; each is safe to change while the server runs):

- `fail_rcpt[address]`: replies to RCPT TO on successive attempts, consumed one
  by one; then the address is accepted. With the address in
  `fail_rcpt_forever`, the last reply repeats forever.
- `fail_data[address]`: the same, for the reply after the message content.
- `drop_after = N`: once N messages have been accepted (whole server), the next
  MAIL FROM gets no reply: the connection is closed under the client. Once.
- `drop_during_data = N`: the content of the Nth message received (whole
  server, 1-based) is read, then the connection is closed without a reply, so
  the client cannot know whether it was taken. `drop_data_for` does the same
  for the listed recipients, once each. Such messages are in `dropped`, not in
  `messages`.
- `refuse_mail`: the reply to every MAIL FROM (530 "authentication required"...).
- `refuse_every_rcpt`: the reply to every RCPT TO (554 5.7.1, a policy block).
- `raw_data_reply[address]`: a line sent verbatim after that recipient's content, such
  as one with no numeric code; the message counts as received. Once per address.
- `data_size_limit`: aiosmtpd's own limit: SIZE= over it is refused at MAIL FROM,
  content over it with 552 after the dot.
- `data_delay`: seconds between accepting a message and replying 250, to give
  a test time to kill a sending process "mid-DATA". The message counts as
  received (it is in `messages`), as it would at a real relay.

Everything the server records is guarded by one lock; the read accessors
return copies.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, NoReturn

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import DATA_SIZE_DEFAULT, SMTP, AuthResult, LoginPassword, Session
from aiosmtpd.smtp import Envelope as ServerEnvelope

from publisher.core.config import Config, SmtpConfig

HOST = "127.0.0.1"
SERVER_NAME = "sink.test"

Reply = tuple[int, str]


class Received(NamedTuple):
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


class Event(NamedTuple):
    """One step the server saw: MAIL, RCPT, DATA (with the reply code it gave) or DROP."""

    verb: str
    arg: str
    code: int
    peer_port: int = 0
    """The client's port: one per connection."""
    tls: bool = False


class TlsCert(NamedTuple):
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and nothing else)."""
        return ssl.create_default_context(cafile=str(self.cert))


def make_tls_cert(folder: Path) -> TlsCert | None:
    """A self-signed certificate for 127.0.0.1 and localhost, or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "sink-cert.pem", folder / "sink-key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=IP:{HOST},DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return TlsCert(cert, key)


def free_port() -> int:
    # aiosmtpd's Controller cannot bind port 0 (its self-test needs the number first).
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpSink:
    def __init__(
        self,
        *,
        starttls: bool = False,
        implicit_tls: bool = False,
        cert: TlsCert | None = None,
        require_auth: bool = False,
        username: str = "sink",
        password: str = "sink-password",  # noqa: S107 (the test server's own)
        smtputf8: bool = True,
        data_delay: float = 0.0,
        data_size_limit: int = 0,
    ) -> None:
        if (starttls or implicit_tls) and cert is None:
            raise ValueError("starttls and implicit_tls need a cert (see make_tls_cert)")
        self.starttls = starttls
        self.implicit_tls = implicit_tls
        self.cert = cert
        self.require_auth = require_auth
        self.username = username
        self.password = password
        self.smtputf8 = smtputf8
        self.data_delay = data_delay
        self.data_size_limit = data_size_limit
        self.refuse_mail: Reply | None = None
        self.refuse_every_rcpt: Reply | None = None
        self.raw_data_reply: dict[str, str] = {}
        self.fail_rcpt: dict[str, list[Reply]] = {}
        self.fail_rcpt_forever: set[str] = set()
        self.fail_data: dict[str, list[Reply]] = {}
        self.drop_after: int | None = None
        self.drop_during_data: int | None = None
        self.drop_data_for: set[str] = set()
        self.port = 0
        self._lock = threading.Condition()
        self._messages: list[Received] = []
        self._dropped: list[Received] = []
        self._events: list[Event] = []
        self._logins: list[str] = []
        self._hello_names: list[str] = []
        self._contents_seen = 0
        self._dropped_before_mail = False
        self._controller: Controller | None = None

    # ---- fault injection

    def fail(self, address: str, *replies: Reply, forever: bool = False) -> None:
        """Refuse RCPT TO for `address` with these replies, in turn; the last one forever
        when asked."""
        with self._lock:
            self.fail_rcpt[address] = list(replies)
            if forever:
                self.fail_rcpt_forever.add(address)

    # ---- what arrived

    @property
    def messages(self) -> list[Received]:
        """Every accepted message, in the order the server accepted them."""
        with self._lock:
            return list(self._messages)

    @property
    def dropped(self) -> list[Received]:
        """Messages whose content arrived but whose connection was dropped before a reply."""
        with self._lock:
            return list(self._dropped)

    @property
    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    @property
    def hello_names(self) -> list[str]:
        """The EHLO/HELO name of the session behind each MAIL FROM."""
        with self._lock:
            return list(self._hello_names)

    @property
    def logins(self) -> list[str]:
        with self._lock:
            return list(self._logins)

    def messages_for(self, address: str) -> list[bytes]:
        with self._lock:
            return [m.data for m in self._messages if address in m.rcpt_tos]

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> bool:
        """Block until at least `count` messages were accepted; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: len(self._messages) >= count, timeout)

    # ---- settings that point at this sink

    def smtp_config(self, **overrides: Any) -> SmtpConfig:
        security = "ssl" if self.implicit_tls else "starttls" if self.starttls else "none"
        settings = SmtpConfig(
            host=HOST, port=self.port, security=security, timeout=10.0, helo_name="publisher.test"
        )
        if self.require_auth:
            settings = dataclasses.replace(settings, username=self.username)
        return dataclasses.replace(settings, **overrides)

    def configure(self, config: Config, **overrides: Any) -> Config:
        """`config` sending through this sink: [mail] transport = 'smtp' and its [smtp]."""
        mail = dataclasses.replace(config.mail, transport="smtp")
        return dataclasses.replace(config, mail=mail, smtp=self.smtp_config(**overrides))

    def toml(self, **overrides: Any) -> str:
        """An [smtp] table for a config.toml that a `publisher` subprocess reads."""
        settings = self.smtp_config(**overrides)
        lines = ["[smtp]"]
        for spec in dataclasses.fields(settings):
            lines.append(f"{spec.name} = {json.dumps(getattr(settings, spec.name))}")
        return "\n".join(lines) + "\n"

    def send_site_through(self, config_path: Path, **overrides: Any) -> Path:
        """Rewrite a site's config.toml to send through this sink: [mail] transport = "smtp"
        and an [smtp] table pointing here, for tests that run `publisher` itself."""
        text = config_path.read_text(encoding="utf-8")
        text = text.replace('transport = "outbox"', 'transport = "smtp"')
        text = re.sub(r"\[smtp\]\n(?:[^\[\n].*\n|\n)*", "", text)
        config_path.write_text(text + "\n" + self.toml(**overrides), encoding="utf-8")
        return config_path

    # ---- lifecycle

    def start(self) -> SmtpSink:
        last_error: Exception | None = None
        for _ in range(5):  # another process may take the free port before we bind it
            port = free_port()
            controller = Controller(
                _Handler(self),
                hostname=HOST,
                port=port,
                server_hostname=SERVER_NAME,
                ready_timeout=10.0,
                ssl_context=self.cert.server_context() if self.implicit_tls and self.cert else None,
                tls_context=self.cert.server_context() if self.starttls and self.cert else None,
                require_starttls=False,
                enable_SMTPUTF8=self.smtputf8,
                authenticator=self._authenticate if self.require_auth else None,
                auth_required=self.require_auth,
                auth_require_tls=self.starttls,
                data_size_limit=self.data_size_limit or DATA_SIZE_DEFAULT,
            )
            try:
                controller.start()
            except Exception as e:
                last_error = e
                continue
            self.port = port
            self._controller = controller
            return self
        raise RuntimeError(f"the SMTP sink could not start: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- called from the server thread

    def _authenticate(
        self, server: SMTP, session: Session, envelope: ServerEnvelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == self.username.encode()
            and data.password == self.password.encode()
        )
        if ok:
            with self._lock:
                self._logins.append(self.username)
        # handled=False: aiosmtpd's default (True) sends no reply at all on a failure.
        return AuthResult(success=ok, handled=False)

    def _record(self, server: SMTP, verb: str, arg: str, code: int) -> None:
        peer = server.session.peer if server.session else None
        transport = server.transport
        tls = transport is not None and transport.get_extra_info("ssl_object") is not None
        event = Event(verb, arg, code, peer[1] if isinstance(peer, tuple) else 0, tls)
        with self._lock:
            self._events.append(event)

    def _should_drop_before_mail(self) -> bool:
        with self._lock:
            if self._dropped_before_mail or self.drop_after is None:
                return False
            if len(self._messages) < self.drop_after:
                return False
            self._dropped_before_mail = True
            return True

    def _next_reply(
        self, table: dict[str, list[Reply]], address: str, forever: bool
    ) -> Reply | None:
        with self._lock:
            replies = table.get(address)
            if not replies:
                return None
            if forever and len(replies) == 1:
                return replies[0]
            return replies.pop(0)

    def _should_drop_during_data(self, received: Received) -> bool:
        with self._lock:
            self._contents_seen += 1
            wanted = [r for r in received.rcpt_tos if r in self.drop_data_for]
            if self._contents_seen != self.drop_during_data and not wanted:
                return False
            self.drop_data_for.difference_update(wanted)
            self._dropped.append(received)
            return True

    def _accept(self, received: Received) -> None:
        with self._lock:
            self._messages.append(received)
            self._lock.notify_all()


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: ServerEnvelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.sink._should_drop_before_mail():
            await self._drop(server, f"MAIL {address}")
        if self.sink.refuse_mail is not None:
            code, text = self.sink.refuse_mail
            self.sink._record(server, "MAIL", address, code)
            return f"{code} {text}"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        with self.sink._lock:
            self.sink._hello_names.append(str(session.host_name))
        self.sink._record(server, "MAIL", " ".join([address, *mail_options]), 250)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: ServerEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        sink = self.sink
        forever = address in sink.fail_rcpt_forever
        reply = sink._next_reply(sink.fail_rcpt, address, forever) or sink.refuse_every_rcpt
        if reply is not None:
            sink._record(server, "RCPT", address, reply[0])
            return f"{reply[0]} {reply[1]}"
        envelope.rcpt_tos.append(address)
        sink._record(server, "RCPT", address, 250)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: ServerEnvelope) -> str:
        sink = self.sink
        received = Received(
            str(envelope.mail_from),
            tuple(envelope.rcpt_tos),
            bytes(envelope.original_content or b""),
        )
        recipients = ",".join(received.rcpt_tos)
        if sink._should_drop_during_data(received):
            await self._drop(server, f"DATA {recipients}")
        for address in received.rcpt_tos:
            reply = sink._next_reply(sink.fail_data, address, forever=False)
            if reply is not None:
                sink._record(server, "DATA", recipients, reply[0])
                return f"{reply[0]} {reply[1]}"
        sink._accept(received)
        sink._record(server, "DATA", recipients, 250)
        if sink.data_delay:
            await asyncio.sleep(sink.data_delay)
        waiting = sink.raw_data_reply
        with sink._lock:
            raw = [waiting.pop(a) for a in received.rcpt_tos if a in waiting]
        return raw[0] if raw else "250 2.0.0 OK: queued"

    async def _drop(self, server: SMTP, what: str) -> NoReturn:
        self.sink._record(server, "DROP", what, 0)
        transport = server.transport
        if isinstance(transport, asyncio.WriteTransport):
            transport.abort()
        elif transport is not None:
            transport.close()
        # connection_lost() cancels this task; nothing is ever replied.
        await asyncio.Event().wait()
        raise AssertionError("the dropped connection's task was not cancelled")


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A started SmtpSink on 127.0.0.1 offering no TLS (use security = 'none')."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> TlsCert:
    cert = make_tls_cert(tmp_path_factory.mktemp("tls"))
    if cert is None:
        pytest.skip("no openssl command to make a self-signed certificate")
    return cert
