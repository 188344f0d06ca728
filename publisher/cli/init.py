"""`publisher init`."""

from __future__ import annotations

from pathlib import Path

import click

from publisher.cli.context import Context, pass_context, reports_errors


@click.command("init")
@click.argument(
    "folder", required=False, default=".", type=click.Path(path_type=Path), metavar="[DIR]"
)
@pass_context
@reports_errors
def command(ctx: Context, folder: Path) -> None:
    """Make a new site: a commented config.toml and content/ with one example post."""
    from publisher.scaffold import init_site

    for line in init_site(folder, ctx.now()).lines():
        click.echo(line)
