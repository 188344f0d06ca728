"""Issue 11 case 10: the repository's own sample (top-level config.toml, content/ and
examples/subscribers.csv, as `make run` uses them) mails an unsubscribe link that
`publisher serve` on that sample answers, GET and RFC 8058 one-click POST.

The sample in the working tree is the user's to edit, and no test reads it (the guard in
tests/conftest.py): this test checks the sample as committed (`git archive HEAD`), so a
user's edits never fail it. It moves [web] base_url to a free port (the only change),
does what `make run` does, then starts `publisher serve`."""

from __future__ import annotations

import email
import email.policy
import io
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from publisher.render.template_files import builtin_templates
from tests.conftest import NOW, ROOT
from tests.smtp_sink import free_port
from tests.test_web import Client

SHIPPED_SAMPLE = ("config.toml", "content", "examples/subscribers.csv")
SAMPLE_WEB = re.compile(r'^base_url = "http://127\.0\.0\.1:8080"$', re.MULTILINE)


def publisher(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "publisher", "--config", str(site / "config.toml"), *args],
        cwd=site,
        capture_output=True,
        text=True,
        timeout=120,
    )


def committed_sample(folder: Path) -> None:
    """The sample as the repository ships it, never the working tree's (the user's)."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no committed sample to check")
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD", *SHIPPED_SAMPLE],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as files:
        files.extractall(folder, filter="data")
    shutil.copytree(builtin_templates(), folder / "templates")


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, int]:
    """A copy of the committed sample, its endpoint moved to a free port."""
    committed_sample(tmp_path)
    text = (tmp_path / "config.toml").read_text(encoding="utf-8")
    assert SAMPLE_WEB.search(text), "the sample's [web] base_url is http://127.0.0.1:8080"
    port = free_port()
    moved = SAMPLE_WEB.sub(f'base_url = "http://127.0.0.1:{port}"', text)
    (tmp_path / "config.toml").write_text(moved, encoding="utf-8")
    return tmp_path, port


@pytest.fixture
def served(sample: tuple[Path, int]) -> Iterator[tuple[Path, int]]:
    site, port = sample
    made = [
        publisher(site, "subscribers", "import", "examples/subscribers.csv"),  # as `make run`
        publisher(site, "--now", NOW.isoformat(), "run"),
    ]
    for result in made:
        assert result.returncode == 0, result.stdout + result.stderr
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "publisher",
            "--config",
            "config.toml",
            "serve",
            "--port",
            str(port),
        ],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_answering(server, port)
        yield site, port
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_until_answering(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            Client().get(f"http://127.0.0.1:{port}/unsubscribe")
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail("publisher serve did not start on the sample")


def unsubscribe_link(site: Path, address: str) -> str:
    for path in sorted((site / "outbox").glob("digest-*/*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.SMTP)
        if address in str(message["To"]):
            links: list[str] = re.findall(r"<([^<>]+)>", str(message["List-Unsubscribe"]))
            return next(link for link in links if link.startswith("http"))
    raise AssertionError(f"no digest for {address} in the outbox")


def status(site: Path, address: str) -> str:
    with sqlite3.connect(site / "state" / "publisher.sqlite3") as db:
        row = db.execute("SELECT status FROM subscribers WHERE email = ?", (address,)).fetchone()
    return str(row[0])


def test_the_samples_unsubscribe_link_is_answered_by_publisher_serve_on_the_sample(
    served: tuple[Path, int],
) -> None:
    site, port = served
    link = unsubscribe_link(site, "reader@example.org")

    assert link.startswith(f"http://127.0.0.1:{port}/unsubscribe?token=")
    page = Client().get(link)
    assert page.status == 200 and status(site, "reader@example.org") == "active"  # GET asks
    one_click = Client().post(link, {"List-Unsubscribe": "One-Click"})  # RFC 8058
    assert one_click.status == 200, one_click.text()
    assert status(site, "reader@example.org") == "unsubscribed"
    assert status(site, "editor@example.org") == "active"


def test_check_on_the_sample_finds_the_unsubscribe_link_answered(
    sample: tuple[Path, int],
) -> None:
    site, _ = sample

    checked = publisher(site, "check")

    said = checked.stdout + checked.stderr
    assert checked.returncode == 0, said
    assert "digests' unsubscribe link is" not in said, (
        said
    )  # without [web]: "… nothing here answers"
