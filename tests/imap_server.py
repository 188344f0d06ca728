"""A real IMAP server for the bounce tests: Debian's Dovecot (`dovecot-imapd`), started once
per session as an unprivileged instance on 127.0.0.1 with a throwaway config, passwd-file,
Maildir and self-signed certificate in a temporary folder.

Each test starts from an empty mailbox. As root the server runs as `nobody` (Dovecot
refuses to run its login processes as root); otherwise as the current user. Without
Dovecot the tests skip, or fail under PUBLISHER_REQUIRE_PEERS=1 (CI sets it, so a missing
server is never a silent pass).
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.smtp_sink import HOST, TlsCert, free_port, make_tls_cert

USER, PASSWORD = "bounces", "imap-test-password"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/run/state
log_path = {root}/dovecot.log
protocols = imap
listen = {host}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    address = {host}
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    port: int
    """Plain text, offering STARTTLS."""
    tls_port: int
    """Implicit TLS."""
    cert: TlsCert
    root: Path

    def client(self) -> imaplib.IMAP4:
        """A logged-in connection for the test's own appends and checks."""
        imap = imaplib.IMAP4(HOST, self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, folder: str, messages: list[bytes]) -> None:
        imap = self.client()
        try:
            for data in messages:
                assert imap.append(folder, None, None, data)[0] == "OK"
        finally:
            imap.logout()

    def folder(self, name: str) -> list[tuple[str, bytes]]:
        """(flags, message) of every message in a folder; [] when there is no such folder."""
        imap = self.client()
        try:
            if imap.select(f'"{name}"', readonly=True)[0] != "OK":
                return []
            found = imap.uid("FETCH", "1:*", "(FLAGS BODY.PEEK[])")[1]
            return [
                (part[0].decode(), part[1])
                for part in found
                if isinstance(part, tuple) and isinstance(part[1], bytes)
            ]
        finally:
            imap.logout()

    def log(self) -> str:
        """Dovecot's log, and what it said before it had one."""
        paths = (self.root / "stderr.log", self.root / "dovecot.log")
        return "".join(p.read_text(errors="replace") for p in paths if p.exists())

    def empty(self) -> None:
        """Back to an empty INBOX and no other folder, for the next test."""
        imap = self.client()
        try:
            for line in imap.list()[1]:
                name = line.decode().rsplit(" ", 1)[1] if isinstance(line, bytes) else "INBOX"
                if name.strip('"') != "INBOX":
                    assert imap.delete(name)[0] == "OK"
            if imap.select("INBOX")[1] != [b"0"]:
                imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                imap.expunge()
        finally:
            imap.logout()


def require_dovecot(search: str | None = None) -> str:
    """The dovecot program (in PATH or the sbin folders); skip or fail without it."""
    search = search or os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    found = shutil.which("dovecot", path=search)
    if found:
        return found
    message = (
        "Dovecot is not installed; install the Debian package `dovecot-imapd` "
        "(apt-get install -y --no-install-recommends dovecot-imapd) to run the IMAP tests"
    )
    if os.environ.get("PUBLISHER_REQUIRE_PEERS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _account() -> pwd.struct_passwd:
    """Who Dovecot runs as: never root."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.getuid())


def _write_config(root: Path, account: pwd.struct_passwd, cert: TlsCert) -> Dovecot:
    home = root / "home" / USER
    home.mkdir(parents=True)
    (root / "run").mkdir()
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{account.pw_uid}:{account.pw_gid}::{home}::\n"
    )
    server = Dovecot(free_port(), free_port(), cert, root)
    (root / "dovecot.conf").write_text(
        CONFIG.format(
            root=root,
            host=HOST,
            cert=cert.cert,
            key=cert.key,
            user=account.pw_name,
            group=grp.getgrgid(account.pw_gid).gr_name,
            uid=account.pw_uid,
            gid=account.pw_gid,
            port=server.port,
            tls_port=server.tls_port,
        )
    )
    if os.geteuid() == 0:
        for path in [root, *root.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
    return server


def _wait_for_greeting(process: subprocess.Popen[bytes], server: Dovecot) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection((HOST, server.port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"Dovecot did not start:\n{server.log()}")


@contextmanager
def running_dovecot() -> Iterator[Dovecot]:
    program = require_dovecot()
    root = Path(tempfile.mkdtemp(prefix="publisher-dovecot-"))
    account = _account()
    cert = make_tls_cert(root)
    if cert is None:
        pytest.fail("the IMAP tests need the openssl command for a throwaway certificate")
    server = _write_config(root, account, cert)
    as_other = os.geteuid() == 0
    with open(root / "stderr.log", "wb") as stderr:
        process = subprocess.Popen(
            [program, "-F", "-c", str(root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            user=account.pw_uid if as_other else None,
            group=account.pw_gid if as_other else None,
            extra_groups=[] if as_other else None,
        )
    try:
        _wait_for_greeting(process, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: Dovecot) -> Dovecot:
    """A running Dovecot with one account (USER, PASSWORD) and an empty INBOX."""
    dovecot_server.empty()
    return dovecot_server


@pytest.fixture
def dovecot_of_its_own() -> Iterator[Dovecot]:
    """A Dovecot for this test alone: after a failed login Dovecot delays every login from
    the same address for a while, and that must not slow the other tests down."""
    with running_dovecot() as server:
        yield server
