"""`publisher status`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("status")
@pass_context
@reports_errors
def command(ctx: Context) -> None:
    """Show the last build and digest, when the next ones are due, and the counts."""
    from publisher.status import status

    for line in status(ctx.config(), ctx.now()).lines():
        click.echo(line)
