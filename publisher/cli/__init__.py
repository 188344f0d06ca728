"""How a person asks: the `publisher` command group.

Each verb lives in its own module under publisher/cli/ and imports its work
only when it runs, so `publisher --help` and a no-change build stay fast
(mkdocs does the same in mkdocs/__main__.py).
"""

from __future__ import annotations

import importlib
import sys
from datetime import datetime
from pathlib import Path

import click

from publisher.cli.context import Context, parse_now
from publisher.core.errors import ExitCode

COMMANDS = {
    "adopt": "publisher.cli.adopt",
    "bounces": "publisher.cli.bounces",
    "build": "publisher.cli.build",
    "check": "publisher.cli.check",
    "digest": "publisher.cli.digest",
    "init": "publisher.cli.init",
    "run": "publisher.cli.run",
    "schedule": "publisher.cli.schedule",
    "secret": "publisher.cli.secret",
    "serve": "publisher.cli.serve",
    "status": "publisher.cli.status",
    "subscribers": "publisher.cli.subscribers",
    "unsubscribe": "publisher.cli.unsubscribe",
}
"""Verb → module whose `command` implements it."""

LOG_FORMATS = ("text", "json")


class LazyGroup(click.Group):
    """Loads a verb's module only when the verb (or the help listing) needs it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            command = importlib.import_module(COMMANDS[cmd_name]).command
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="publisher", prog_name="publisher")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The site's config file (default: ./publisher.toml if there is one, else "
    "./config.toml); relative paths in it are relative to its folder.",
)
@click.option(
    "--now",
    callback=parse_now,
    metavar="ISO-8601",
    help="Act as if it were this moment (with a UTC offset); for tests and backfills.",
)
@click.option(
    "--log-format",
    type=click.Choice(LOG_FORMATS),
    default="text",
    show_default=True,
    help="Logs on stderr as readable text, or as one JSON object per line.",
)
@click.option(
    "--new-state",
    is_flag=True,
    help="Start a new state database even though earlier feeds or digests are there "
    "(refused otherwise, so a lost database is not replaced by accident).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail too.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_path: Path | None,
    now: datetime | None,
    log_format: str,
    new_state: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Publish feeds and email digests from a folder of posts, a Jekyll site or a Hugo site."""
    from publisher.core import logs

    if verbose and quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet cannot be used together")
    logs.configure(log_format, verbose=verbose, quiet=quiet)
    from publisher.core.config import default_config_path

    ctx.obj = Context(
        config_path or default_config_path(),
        now,
        quiet=quiet,
        json=log_format == "json",
        new_state=new_state,
    )


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
