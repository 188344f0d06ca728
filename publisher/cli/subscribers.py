"""`publisher subscribers add|remove|list|import|export`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from publisher.cli.context import Context, pass_context, reports_errors
from publisher.core.errors import ExitCode
from publisher.core.models import CADENCES, SUBSCRIBER_STATUSES


@click.group("subscribers")
def command() -> None:
    """Manage the subscriber list in the state store."""


@command.command("add")
@click.argument("email")
@click.option("--name", default="", help="The subscriber's name, used in the greeting.")
@click.option(
    "--category",
    "categories",
    multiple=True,
    metavar="SLUG",
    help="Only posts in this category (repeat for more); default: every category.",
)
@click.option(
    "--cadence",
    type=click.Choice(CADENCES),
    help="weekly, daily or each (a mail per new post); default: the first of [digest] cadences.",
)
@pass_context
@reports_errors
def add(
    ctx: Context, email: str, name: str, categories: tuple[str, ...], cadence: str | None
) -> None:
    """Add an active subscriber (an existing address is left as it is)."""
    from publisher.newsletter.subscribers import SMTPUTF8_NOTE, add_subscriber

    outcome = add_subscriber(
        ctx.config(), email, name, ctx.now(), categories=categories, cadence=cadence or ""
    )
    subscriber = outcome.subscriber
    if outcome.created:
        click.echo(f"added {subscriber.email}")
        if outcome.needs_smtputf8:
            ctx.warn(f"{subscriber.email} {SMTPUTF8_NOTE}")
    else:
        click.echo(f"{subscriber.email} is already on the list ({subscriber.status}); unchanged")


@command.command("remove")
@click.argument("email")
@pass_context
@reports_errors
def remove(ctx: Context, email: str) -> None:
    """Unsubscribe an address (it is remembered, so imports never re-activate it)."""
    from publisher.newsletter.subscribers import remove_subscriber

    subscriber = remove_subscriber(ctx.config(), email, ctx.now())
    click.echo(f"{subscriber.email} is now {subscriber.status}")


@command.command("list")
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only this status.")
@pass_context
@reports_errors
def list_(ctx: Context, status: str | None) -> None:
    """List subscribers: email, status and name, one per line."""
    from publisher.newsletter.subscribers import list_subscribers

    for subscriber in list_subscribers(ctx.config(), status):
        click.echo(f"{subscriber.email}\t{subscriber.status}\t{subscriber.name}".rstrip())


@command.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, dir_okay=False))
@pass_context
@reports_errors
def import_(ctx: Context, csv_file: Path) -> None:
    """Import `email,name,status,categories,cadence` rows from a CSV file (all but email may
    be left out; the header line is optional)."""
    from publisher.newsletter.subscribers import SMTPUTF8_NOTE, import_subscribers

    report = import_subscribers(ctx.config(), csv_file, ctx.now())
    for email in report.needs_smtputf8:
        ctx.warn(f"{email} {SMTPUTF8_NOTE}")
    for line, reason in report.bad_rows:
        click.echo(f"{csv_file}:{line}: {reason}", err=True)
    for email in report.kept_inactive:
        click.echo(f"kept as it is (unsubscribed or bounced): {email}", err=True)
    click.echo(
        f"imported {report.added}, already present {report.already_present}, "
        f"kept inactive {len(report.kept_inactive)}, "
        f"set inactive {len(report.deactivated)}, "
        f"preferences changed {len(report.preferences_changed)}, bad rows {len(report.bad_rows)}"
    )
    if report.bad_rows:
        sys.exit(int(ExitCode.PARTIAL))


@command.command("export")
@pass_context
@reports_errors
def export(ctx: Context) -> None:
    """Write every subscriber as CSV (email,name,status,categories,cadence) to standard output."""
    from publisher.newsletter.subscribers import export_subscribers

    click.echo(export_subscribers(ctx.config()), nl=False)
