"""`publisher adopt`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("adopt")
@click.argument("feed")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds to wait for a feed given as an http(s) URL.",
)
@pass_context
@reports_errors
def command(ctx: Context, feed: str, timeout: float) -> None:
    """Keep the entry ids of the feed subscribers read before (a file or an http(s) URL)."""
    from publisher.adoption import adopt

    adoption = adopt(ctx.config(), feed, ctx.now(), timeout=timeout)
    ctx.say(adoption.summary())
    for entry in adoption.unmatched:
        ctx.say(f"not matched: {entry.title or '(no title)'} <{entry.link}>", needs_a_look=True)
