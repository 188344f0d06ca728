"""Exit codes stay honest (issue 12, item 12): an unsubscribe during a send is a skip."""

from __future__ import annotations

from pathlib import Path

from publisher.core.config import Config
from publisher.core.errors import ExitCode
from publisher.newsletter.delivery import send_digests
from publisher.newsletter.subscribers import import_subscribers, list_subscribers
from publisher.newsletter.transports import Result
from publisher.newsletter.unsubscribe import unsubscribe
from publisher.state.store import reading
from tests.conftest import NOW

READERS = ("ann@example.org", "bo@example.org", "cy@example.org")


class UnsubscribesOnceTheSendBegins:
    """A progress display; once the run has begun (its digest made, its recipients counted),
    one reader unsubscribes, as one-click unsubscribe does from the web endpoint, which
    takes no lock."""

    def __init__(self, config: Config, address: str) -> None:
        self.config = config
        self.address = address

    def start(self, total: int) -> None:
        assert total == len(READERS)
        unsubscribe(self.config, self.address, NOW)

    def advance(self, result: Result) -> None:
        pass


def test_an_unsubscribe_during_a_send_is_a_skip_and_the_run_exits_0(
    config: Config, tmp_path: Path
) -> None:
    """Reproduces item 12: a reader who unsubscribed while a digest was going out was left
    `pending`, so the run reported them "left for the next run", exited 75 (deferred) and
    left the digest unfinished, although nothing was deferred."""
    csv = tmp_path / "readers.csv"
    csv.write_text("".join(f"{address}\n" for address in READERS))
    assert import_subscribers(config, csv, NOW).added == len(READERS)
    leaving = READERS[1]

    report = send_digests(config, NOW, progress=UnsubscribesOnceTheSendBegins(config, leaving))

    (run,) = report.runs
    assert (run.sent, run.skipped_inactive, run.left_pending) == (len(READERS) - 1, 1, 0)
    assert report.exit_code == ExitCode.OK
    assert "1 skipped (no longer subscribed)" in report.summary()
    with reading(config.state_db) as store:
        assert store is not None
        assert store.digest(run.digest_id).completed_at is not None
    assert {s.email for s in list_subscribers(config, "unsubscribed")} == {leaving}
    sent = {
        path.read_bytes().split(b"\r\nTo: ", 1)[1].split(b"\r\n", 1)[0]
        for path in config.paths.outbox.glob("digest-*/*.eml")
    }
    assert sent == {b"ann@example.org", b"cy@example.org"}
