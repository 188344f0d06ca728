"""`publisher build`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("build")
@pass_context
@reports_errors
def command(ctx: Context) -> None:
    """Write the feeds and index.html into the output folder."""
    from publisher.build.pipeline import build

    report = build(ctx.config(), ctx.now())
    for warning in report.warnings:
        ctx.warn(warning)
    ctx.say(report.summary())
