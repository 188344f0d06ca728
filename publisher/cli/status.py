"""`publisher status`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the same as one JSON object.")
@pass_context
@reports_errors
def command(ctx: Context, as_json: bool) -> None:
    """Show the last build and digest, when the next ones are due, and the counts."""
    from publisher.status import status

    found = status(ctx.config(), ctx.now())
    if as_json:
        import json

        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    for line in found.lines():
        click.echo(line)
