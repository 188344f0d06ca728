"""`publisher bounces`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("bounces")
@pass_context
@reports_errors
def command(ctx: Context) -> None:
    """Read the [bounces] mailbox: act on bounces, complaints and mailed unsubscribes."""
    from publisher.core.errors import ConfigError
    from publisher.newsletter.bounces import process_bounces

    config = ctx.config()
    if not config.bounces.configured:
        raise ConfigError(
            "no bounce mailbox is configured",
            hint='set [bounces] maildir = "…", mbox = "…" or imap_host = "…" in config.toml',
        )
    ctx.say(process_bounces(config, ctx.now()).summary())
