"""`publisher build`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("build")
@click.option(
    "--drafts",
    is_flag=True,
    help="Also read and check drafts ([source] drafts); a draft is never in a feed or a digest.",
)
@pass_context
@reports_errors
def command(ctx: Context, drafts: bool) -> None:
    """Write the feeds and index.html into the output folder."""
    import dataclasses

    from publisher.build.pipeline import build

    config = ctx.config()
    if drafts:
        config = dataclasses.replace(config, source=dataclasses.replace(config.source, drafts=True))
    report = build(config, ctx.now())
    for warning in report.warnings:
        ctx.warn(warning)
    ctx.say(report.summary())
