"""How a person asks: arguments, help text, and turning errors into messages and exit codes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from publisher import __version__
from publisher.commands.build import build
from publisher.commands.check import check
from publisher.config import Config, load_config
from publisher.errors import ExitCode, PublisherError


class Context:
    def __init__(self, config_path: Path, now: datetime | None) -> None:
        self.config_path = config_path
        self._now = now

    def config(self) -> Config:
        return load_config(self.config_path)

    def now(self) -> datetime:
        return self._now or datetime.now(UTC)


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
@click.pass_context
def cli(ctx: click.Context, config_path: Path, now: datetime | None) -> None:
    """Publish Atom, RSS and JSON feeds and email digests from a folder of posts."""
    ctx.obj = Context(config_path, now)


pass_context = click.make_pass_decorator(Context)


@cli.command("build")
@pass_context
@reports_errors
def build_command(ctx: Context) -> None:
    """Write the feeds and index.html into the output folder."""
    report = build(ctx.config(), ctx.now())
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())


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
    click.echo(f"ok: {len(report.site.posts)} posts, {len(report.warnings)} with fallback dates")


@cli.command("run")
@pass_context
@reports_errors
def run_command(ctx: Context) -> None:
    """The main job, for cron and `make run`: build the feeds."""
    report = build(ctx.config(), ctx.now())
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())


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
