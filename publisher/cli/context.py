"""What every command shares: the context object, signals, progress, and the error boundary."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from publisher.core.errors import ExitCode, PublisherError

if TYPE_CHECKING:
    import logging
    import threading

    from publisher.core.config import Config
    from publisher.newsletter.run_report import DigestReport
    from publisher.newsletter.transports import Result


def _log() -> logging.Logger:
    """publisher's logger; logging is imported when a command logs, not for `--help`."""
    import logging

    return logging.getLogger("publisher")


class Context:
    def __init__(
        self,
        config_path: Path,
        now: datetime | None,
        *,
        quiet: bool = False,
        json: bool = False,
        new_state: bool = False,
    ) -> None:
        self.config_path = config_path
        self._now = now
        self.new_state = new_state
        """--new-state: a missing or empty state database beside earlier output is meant."""
        self.quiet = quiet
        """Print summaries only when something needs a look (for cron, which mails output)."""
        self.json = json
        """Warnings and errors as JSON log lines on stderr, like every other log line."""

    def config(self) -> Config:
        from publisher.site_config import load_config
        from publisher.state.diagnosis import refuse_accidental_new_state

        config = load_config(self.config_path)
        refuse_accidental_new_state(config, new_state=self.new_state)
        return config

    def now(self) -> datetime:
        return self._now or datetime.now(UTC)

    def say(self, text: str, *, needs_a_look: bool = False) -> None:
        """A command's summary on stdout; --quiet keeps only those that need a look."""
        if needs_a_look or not self.quiet:
            click.echo(text)

    def warn(self, text: str) -> None:
        if self.json:
            _log().warning(text)
        else:
            click.echo(f"warning: {text}", err=True)


pass_context = click.make_pass_decorator(Context)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM and SIGINT ask the work to stop after the message in flight, instead of killing
    it mid-send; the ledger then holds every row as sent or pending, none as in flight."""
    import threading

    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: object) -> None:
        _log().warning(
            "%s: finishing the message in flight, then stopping", signal.strsignal(signum)
        )
        stop.set()

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def parse_now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, like 2024-06-19T09:00:00+09:00") from None
    if moment.tzinfo is None:
        raise click.BadParameter("give a UTC offset, like 2024-06-19T09:00:00+09:00")
    return moment


def fail(error: PublisherError) -> NoReturn:
    click_ctx = click.get_current_context(silent=True)
    if click_ctx is not None and isinstance(click_ctx.obj, Context) and click_ctx.obj.json:
        problems = [
            {"where": p.where, "message": p.message, "hint": p.hint} for p in error.problems
        ]
        _log().error(error.message, extra={"problems": problems, "hint": error.hint})
        sys.exit(int(error.exit_code))
    click.echo(f"error: {error.message}", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)
        if problem.hint:
            click.echo(f"    hint: {problem.hint}", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)
    sys.exit(int(error.exit_code))


def file_error(error: OSError) -> PublisherError:
    """A file the command could not read or write (a read-only state folder, a full disk)."""
    return PublisherError(
        f"{error.filename}: {error.strerror or error}",
        hint="check that the user running publisher may write there, and that the disk has room",
    )


def reports_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command body; a PublisherError becomes `error: …` and its exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except PublisherError as error:
            fail(error)
        except OSError as error:
            if not error.filename:
                raise
            fail(file_error(error))

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


class ProgressBar:
    """`[#####     ] 12/40` on stderr, redrawn in place, when a person is watching."""

    WIDTH = 30

    def __init__(self) -> None:
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total, self.done = total, 0
        self._draw()

    def advance(self, result: Result) -> None:
        self.done += 1
        self._draw()

    def _draw(self) -> None:
        filled = self.WIDTH * self.done // self.total if self.total else self.WIDTH
        bar = "#" * filled + " " * (self.WIDTH - filled)
        click.echo(f"\r[{bar}] {self.done}/{self.total}", err=True, nl=False)


def progress() -> ProgressBar | None:
    return ProgressBar() if sys.stderr.isatty() else None


def finish_digest(ctx: Context, report: DigestReport) -> None:
    if sys.stderr.isatty() and report.runs:
        click.echo("", err=True)
    ctx.say(report.summary(), needs_a_look=report.partial)
    if report.relay_error is not None:
        fail(report.relay_error)
    if report.exit_code != ExitCode.OK:
        sys.exit(int(report.exit_code))
