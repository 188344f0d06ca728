"""`publisher check`."""

from __future__ import annotations

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("check")
@pass_context
@reports_errors
def command(ctx: Context) -> None:
    """Validate config, posts and templates; list fallback dates and what cannot render."""
    from publisher.check import check

    report = check(ctx.config(), ctx.now())
    for warning in (*report.warnings, *report.source_warnings):
        ctx.warn(warning)
    for name, reason in report.site.hidden:
        click.echo(f"skipped: {name}: {reason}")
    for note in report.notes:
        click.echo(f"note: {note}")
    from publisher.core.plural import counted

    posts = counted(len(report.site.posts), "post")
    summary = f"ok: {posts}, {len(report.warnings)} with fallback dates"
    if others := len(report.source_warnings):
        summary += f", {counted(others, 'other warning')}"
    click.echo(summary)
