"""How a person asks: arguments, help text, and turning errors into messages and exit codes."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from publisher import __version__
from publisher.build.pipeline import build
from publisher.check import check
from publisher.core import logs
from publisher.core.config import Config, load_config
from publisher.core.errors import ExitCode, PublisherError
from publisher.jobs import run_schedule, upcoming
from publisher.newsletter import subscribers as subscriber_commands
from publisher.newsletter.delivery import (
    DigestReport,
    digest_due,
    mark_all_sent,
    preview_digest,
    send_digests,
    send_test_copy,
)
from publisher.newsletter.transports import Result
from publisher.newsletter.unsubscribe import unsubscribe
from publisher.state.store import SUBSCRIBER_STATUSES, open_store
from publisher.status import status

log = logging.getLogger("publisher")


class Context:
    def __init__(
        self, config_path: Path, now: datetime | None, *, quiet: bool = False, json: bool = False
    ) -> None:
        self.config_path = config_path
        self._now = now
        self.quiet = quiet
        """Print summaries only when something needs a look (for cron, which mails output)."""
        self.json = json
        """Warnings and errors as JSON log lines on stderr, like every other log line."""

    def config(self) -> Config:
        return load_config(self.config_path)

    def now(self) -> datetime:
        return self._now or datetime.now(UTC)

    def say(self, text: str, *, needs_a_look: bool = False) -> None:
        """A command's summary on stdout; --quiet keeps only those that need a look."""
        if needs_a_look or not self.quiet:
            click.echo(text)

    def warn(self, text: str) -> None:
        if self.json:
            log.warning(text)
        else:
            click.echo(f"warning: {text}", err=True)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM and SIGINT ask the work to stop after the message in flight, instead of killing
    it mid-send; the ledger then holds every row as sent or pending, none as in flight."""
    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: object) -> None:
        log.warning("%s: finishing the message in flight, then stopping", signal.strsignal(signum))
        stop.set()

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parse_now(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
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
        log.error(error.message, extra={"problems": problems, "hint": error.hint})
        sys.exit(int(error.exit_code))
    click.echo(f"error: {error.message}", err=True)
    for problem in error.problems:
        click.echo(f"  {problem}", err=True)
        if problem.hint:
            click.echo(f"    hint: {problem.hint}", err=True)
    if error.hint:
        click.echo(f"hint: {error.hint}", err=True)
    sys.exit(int(error.exit_code))


def reports_errors(function: Callable[..., Any]) -> Callable[..., Any]:
    """Run a command body; a PublisherError becomes `error: …` and its exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except PublisherError as error:
            fail(error)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="publisher")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("config.toml"),
    show_default=True,
    help="The site's config file; relative paths in it are relative to its folder.",
)
@click.option(
    "--now",
    callback=_parse_now,
    metavar="ISO-8601",
    help="Act as if it were this moment (with a UTC offset); for tests and backfills.",
)
@click.option(
    "--log-format",
    type=click.Choice(logs.FORMATS),
    default="text",
    show_default=True,
    help="Logs on stderr as readable text, or as one JSON object per line.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path,
    now: datetime | None,
    log_format: str,
    verbose: bool,
    quiet: bool,
) -> None:
    """Publish Atom, RSS and JSON feeds and email digests from a folder of posts."""
    if verbose and quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet cannot be used together")
    logs.configure(log_format, verbose=verbose, quiet=quiet)
    ctx.obj = Context(config_path, now, quiet=quiet, json=log_format == "json")


pass_context = click.make_pass_decorator(Context)


@cli.command("build")
@pass_context
@reports_errors
def build_command(ctx: Context) -> None:
    """Write the feeds and index.html into the output folder."""
    report = build(ctx.config(), ctx.now())
    for warning in report.warnings:
        ctx.warn(warning)
    ctx.say(report.summary())


@cli.command("check")
@pass_context
@reports_errors
def check_command(ctx: Context) -> None:
    """Validate config, posts and templates, and list posts whose date is a fallback."""
    report = check(ctx.config(), ctx.now())
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    for name, reason in report.site.hidden:
        click.echo(f"skipped: {name}: {reason}")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"ok: {len(report.site.posts)} posts, {len(report.warnings)} with fallback dates")


class _ProgressBar:
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


def _progress() -> _ProgressBar | None:
    return _ProgressBar() if sys.stderr.isatty() else None


def _finish_digest(ctx: Context, report: DigestReport) -> None:
    if sys.stderr.isatty() and report.runs:
        click.echo("", err=True)
    ctx.say(report.summary(), needs_a_look=report.partial)
    if report.exit_code != ExitCode.OK:
        sys.exit(int(report.exit_code))


@cli.group("digest", invoke_without_command=True)
@click.option("--preview", is_flag=True, help="Render the next digest into outbox/preview/.")
@click.option("--to", "test_address", metavar="EMAIL", help="Send a test copy to one address.")
@click.option("--mark-sent", is_flag=True, help="Record every published post as already mailed.")
@click.option(
    "--resend-ambiguous",
    is_flag=True,
    help="Resend to recipients whose earlier send was interrupted mid-message.",
)
@click.pass_context
@reports_errors
def digest_command(
    click_ctx: click.Context,
    preview: bool,
    test_address: str | None,
    mark_sent: bool,
    resend_ambiguous: bool,
) -> None:
    """Mail the posts that are new since the last digest to every active subscriber."""
    if click_ctx.invoked_subcommand is not None:
        return
    ctx: Context = click_ctx.obj
    config, now = ctx.config(), ctx.now()
    if preview:
        folder = preview_digest(config, now)
        click.echo(f"preview written to {folder}" if folder else "no new posts; nothing to preview")
    elif test_address:
        result = send_test_copy(config, now, test_address)
        if result is None:
            click.echo("no new posts; nothing to send")
        else:
            click.echo(f"test copy to {test_address}: {result.outcome} {result.text}".rstrip())
            if result.outcome != "sent":
                sys.exit(int(ExitCode.PARTIAL))
    elif mark_sent:
        count = mark_all_sent(config, now)
        click.echo(f"marked {count} posts as already mailed")
    else:
        with stop_on_signals() as stop:
            report = send_digests(
                config,
                now,
                resend_ambiguous=resend_ambiguous,
                progress=_progress(),
                should_stop=stop.is_set,
            )
        _finish_digest(ctx, report)


@digest_command.command("status")
@click.option("--limit", default=10, show_default=True, help="How many recent digests.")
@pass_context
@reports_errors
def digest_status_command(ctx: Context, limit: int) -> None:
    """List recent digests and their per-status delivery counts."""
    store = open_store(ctx.config().state_db)
    try:
        rows = store.recent_digests(limit)
    finally:
        store.close()
    if not rows:
        click.echo("no digests yet")
    for digest, counts in rows:
        state = "complete" if digest.completed_at else "unfinished"
        tally = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        click.echo(
            f"digest {digest.id}  {digest.created_at.isoformat()}  {state}  "
            f"{tally or 'no recipients'}  {digest.subject}"
        )


@cli.group("subscribers")
def subscribers_group() -> None:
    """Manage the subscriber list in the state store."""


@subscribers_group.command("add")
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name, used in the greeting.")
@pass_context
@reports_errors
def subscribers_add(ctx: Context, email: str, name: str) -> None:
    """Add an active subscriber (an existing address is left as it is)."""
    outcome = subscriber_commands.add_subscriber(ctx.config(), email, name, ctx.now())
    subscriber = outcome.subscriber
    if outcome.created:
        click.echo(f"added {subscriber.email}")
    else:
        click.echo(f"{subscriber.email} is already on the list ({subscriber.status}); unchanged")


@subscribers_group.command("remove")
@click.argument("email")
@pass_context
@reports_errors
def subscribers_remove(ctx: Context, email: str) -> None:
    """Unsubscribe an address (it is remembered, so imports never re-activate it)."""
    subscriber = subscriber_commands.remove_subscriber(ctx.config(), email, ctx.now())
    click.echo(f"{subscriber.email} is now {subscriber.status}")


@subscribers_group.command("list")
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only this status.")
@pass_context
@reports_errors
def subscribers_list(ctx: Context, status: str | None) -> None:
    """List subscribers: email, status and name, one per line."""
    for subscriber in subscriber_commands.list_subscribers(ctx.config(), status):
        click.echo(f"{subscriber.email}\t{subscriber.status}\t{subscriber.name}".rstrip())


@subscribers_group.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False))
@pass_context
@reports_errors
def subscribers_import(ctx: Context, csv_file: Path) -> None:
    """Import `email,name` rows from a CSV file (the header line is optional)."""
    report = subscriber_commands.import_subscribers(ctx.config(), csv_file, ctx.now())
    for line, reason in report.bad_rows:
        click.echo(f"{csv_file}:{line}: {reason}", err=True)
    for email in report.kept_inactive:
        click.echo(f"kept as it is (unsubscribed or bounced): {email}", err=True)
    click.echo(
        f"imported {report.added}, already present {report.already_present}, "
        f"kept inactive {len(report.kept_inactive)}, "
        f"set inactive {len(report.deactivated)}, bad rows {len(report.bad_rows)}"
    )
    if report.bad_rows:
        sys.exit(int(ExitCode.PARTIAL))


@subscribers_group.command("export")
@pass_context
@reports_errors
def subscribers_export(ctx: Context) -> None:
    """Write every subscriber as CSV (email,name,status) to standard output."""
    click.echo(subscriber_commands.export_subscribers(ctx.config()), nl=False)


@cli.command("unsubscribe")
@click.argument("token_or_email")
@pass_context
@reports_errors
def unsubscribe_command(ctx: Context, token_or_email: str) -> None:
    """Unsubscribe by the token from an email's link, or by address."""
    subscriber, changed = unsubscribe(ctx.config(), token_or_email, ctx.now())
    if changed:
        click.echo(f"unsubscribed {subscriber.email}")
    else:
        click.echo(f"{subscriber.email} was already unsubscribed")


@cli.command("run")
@pass_context
@reports_errors
def run_command(ctx: Context) -> None:
    """The main job, for cron and `make run`: build the feeds, then send the digest if due."""
    config, now = ctx.config(), ctx.now()
    with stop_on_signals() as stop:
        report = build(config, now)
        for warning in report.warnings:
            ctx.warn(warning)
        ctx.say(report.summary())
        if stop.is_set():
            ctx.say("stopped on request before the digest")
            return
        due = digest_due(config, now)
        if not due.due:
            ctx.say(due.reason)
            return
        digest = send_digests(config, now, progress=_progress(), should_stop=stop.is_set)
    _finish_digest(ctx, digest)


@cli.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; keep 127.0.0.1 behind a reverse proxy.",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="TCP port to listen on.",
)
@pass_context
@reports_errors
def serve_command(ctx: Context, host: str, port: int) -> None:
    """Run the subscriber web endpoint: subscribe, confirm, one-click unsubscribe."""
    from publisher.web import serve  # keeps Starlette and uvicorn out of the other commands

    serve(ctx.config(), host, port)


@cli.command("schedule")
@click.option(
    "--next",
    "next_count",
    type=click.IntRange(min=1),
    metavar="N",
    help="Print the next N fire times of each job, in local time and UTC, and exit.",
)
@click.pass_context
@reports_errors
def schedule_command(click_ctx: click.Context, next_count: int | None) -> None:
    """Run the build and digest jobs on [schedule] until SIGTERM or SIGINT."""
    ctx: Context = click_ctx.obj
    config = ctx.config()
    if next_count is not None:
        for line in upcoming(config, ctx.now(), next_count):
            click.echo(line)
        return
    if click_ctx.find_root().params.get("now") is not None:
        raise click.UsageError(
            "--now only applies to `schedule --next`; the scheduler runs on the real clock"
        )
    run_schedule(config, lambda: datetime.now(UTC))


@cli.command("status")
@pass_context
@reports_errors
def status_command(ctx: Context) -> None:
    """Show the last build and digest, when the next ones are due, and the counts."""
    for line in status(ctx.config(), ctx.now()).lines():
        click.echo(line)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(int(ExitCode.ERROR))
    except click.ClickException as e:
        e.show()
        sys.exit(int(ExitCode.USAGE))
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
