"""`publisher unsubscribe`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("unsubscribe")
@click.argument("token_or_email")
@pass_context
@reports_errors
def command(ctx: Context, token_or_email: str) -> None:
    """Unsubscribe by the token from an email's link, or by address."""
    from publisher.newsletter.unsubscribe import unsubscribe

    subscriber, changed = unsubscribe(ctx.config(), token_or_email, ctx.now())
    if changed:
        click.echo(f"unsubscribed {subscriber.email}")
    else:
        click.echo(f"{subscriber.email} was already unsubscribed")
