"""`publisher schedule`."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from publisher.cli.context import Context, reports_errors


@click.command("schedule")
@click.option(
    "--next",
    "next_count",
    type=click.IntRange(min=1),
    metavar="N",
    help="Print the next N fire times of each job, in local time and UTC, and exit.",
)
@click.pass_context
@reports_errors
def command(click_ctx: click.Context, next_count: int | None) -> None:
    """Run the build and digest jobs on [schedule] until SIGTERM or SIGINT."""
    from publisher.jobs import run_schedule, upcoming

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
