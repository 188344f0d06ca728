"""`publisher serve`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("serve")
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
def command(ctx: Context, host: str, port: int) -> None:
    """Run the subscriber web endpoint: subscribe, confirm, one-click unsubscribe."""
    from publisher.web import serve

    serve(ctx.config(), host, port)
