"""`publisher secret rotate`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.group("secret")
def command() -> None:
    """The secret that signs unsubscribe links and bounce addresses."""


@command.command("rotate")
@click.option(
    "--grace-days",
    type=click.IntRange(min=0),
    default=30,
    show_default=True,
    help="Days the old secret still verifies links in mail already sent.",
)
@click.option(
    "--lost",
    is_flag=True,
    help="The old secret is gone for good: start over; links already mailed stop working.",
)
@pass_context
@reports_errors
def rotate(ctx: Context, grace_days: int, lost: bool) -> None:
    """Replace the signing secret; the old one keeps working for links for a grace period.

    With the secret in the environment: put the new one in the variable [digest] secret_env
    names and the old one in that name plus _PREVIOUS, then run this."""
    from datetime import timedelta

    from publisher.newsletter.credentials import rotate_secret
    from publisher.state.locking import exclusive

    config = ctx.config()
    with exclusive(config):
        rotation = rotate_secret(config, ctx.now(), timedelta(days=grace_days), lost=lost)
    old = f"the old one ({rotation.old}) verifies links until {rotation.valid_until.isoformat()}"
    click.echo(
        f"new signing secret {rotation.new} in {rotation.source}; "
        + (old if rotation.old and not lost else "no old secret is kept")
    )
