"""`publisher check`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("check")
@pass_context
@reports_errors
def command(ctx: Context) -> None:
    """Validate config, posts and templates, and list posts whose date is a fallback."""
    from publisher.check import check

    report = check(ctx.config(), ctx.now())
    for warning in report.warnings:
        ctx.warn(warning)
    for name, reason in report.site.hidden:
        click.echo(f"skipped: {name}: {reason}")
    for note in report.notes:
        click.echo(f"note: {note}")
    click.echo(f"ok: {len(report.site.posts)} posts, {len(report.warnings)} with fallback dates")
