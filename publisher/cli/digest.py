"""`publisher digest` and `publisher digest status`."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from publisher.cli.context import (
    Context,
    finish_digest,
    parse_now,
    pass_context,
    progress,
    reports_errors,
    stop_on_signals,
)
from publisher.core.errors import ExitCode
from publisher.core.models import CADENCES
from publisher.core.plural import counted


@click.group("digest", invoke_without_command=True)
@click.option("--preview", is_flag=True, help="Render the next digest into outbox/preview/.")
@click.option("--to", "test_address", metavar="EMAIL", help="Send a test copy to one address.")
@click.option("--mark-sent", is_flag=True, help="Record every published post as already mailed.")
@click.option(
    "--resend-ambiguous",
    is_flag=True,
    help="Resend to recipients whose earlier send was interrupted mid-message.",
)
@click.option(
    "--cadence",
    "cadences",
    multiple=True,
    type=click.Choice(CADENCES),
    help="Only this cadence's readers (repeat for more); default: every offered cadence.",
)
@click.pass_context
@reports_errors
def command(
    click_ctx: click.Context,
    preview: bool,
    test_address: str | None,
    mark_sent: bool,
    resend_ambiguous: bool,
    cadences: tuple[str, ...],
) -> None:
    """Mail every active reader the new posts in their categories, one issue per cadence."""
    given = {
        "--preview": preview,
        "--to": test_address is not None,
        "--mark-sent": mark_sent,
        "--resend-ambiguous": resend_ambiguous,
    }
    _refuse_combinations(
        [name for name, on in given.items() if on], cadences, click_ctx.invoked_subcommand
    )
    if click_ctx.invoked_subcommand is not None:
        return
    from publisher.newsletter.delivery import (
        mark_all_sent,
        preview_digest,
        send_digests,
        send_test_copy,
    )

    ctx: Context = click_ctx.obj
    config, now = ctx.config(), ctx.now()
    if preview:
        folder = preview_digest(config, now)
        click.echo(f"preview written to {folder}" if folder else "no new posts; nothing to preview")
    elif test_address:
        result = send_test_copy(config, now, test_address)
        if result is None:
            click.echo("no new posts; nothing to send")
        else:
            click.echo(f"test copy to {test_address}: {result.outcome} {result.text}".rstrip())
            if result.outcome != "sent":
                sys.exit(int(ExitCode.PARTIAL))
    elif mark_sent:
        count = mark_all_sent(config, now)
        click.echo(f"marked {counted(count, 'post')} as already mailed")
    else:
        from publisher.newsletter.preferences import check_cadence

        for cadence in cadences:
            check_cadence(config, cadence)
        with stop_on_signals() as stop:
            report = send_digests(
                config,
                now,
                cadences=cadences or None,
                resend_ambiguous=resend_ambiguous,
                progress=progress(),
                should_stop=stop.is_set,
            )
        finish_digest(ctx, report)


def _refuse_combinations(
    chosen: list[str], cadences: tuple[str, ...], subcommand: str | None
) -> None:
    """Refuse two actions at once, --cadence beside one, or either before a subcommand."""
    if len(chosen) > 1:
        raise click.UsageError(f"{' and '.join(chosen)} cannot be used together; choose one")
    if cadences and (other := [name for name in chosen if name != "--resend-ambiguous"]):
        raise click.UsageError(f"--cadence applies to sending, not to {other[0]}")
    if subcommand is not None and chosen:
        raise click.UsageError(f"{chosen[0]} does not apply to `digest {subcommand}`")


@command.command("status")
@click.argument("digest_id", type=int, required=False)
@click.option("--limit", default=10, show_default=True, help="How many recent digests.")
@click.option(
    "--failed",
    is_flag=True,
    help="List every recipient of digest DIGEST_ID that failed or is ambiguous, with the reply.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print as JSON for scripts: the recent digests, or with --failed the recipients.",
)
@pass_context
@reports_errors
def status_command(
    ctx: Context, digest_id: int | None, limit: int, failed: bool, as_json: bool
) -> None:
    """List recent digests and their per-status delivery counts."""
    if failed or digest_id is not None:
        _list_failed(ctx, digest_id, as_json)
        return
    from publisher.state.store import reading

    with reading(ctx.config().state_db) as store:
        rows = store.recent_digests(limit) if store is not None else []
    if as_json:
        import json

        from publisher.state.summaries import digest_summary

        digests = [digest_summary(digest, counts) for digest, counts in rows]
        click.echo(json.dumps({"digests": digests}, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no digests yet")
    for digest, counts in rows:
        state = "complete" if digest.completed_at else "unfinished"
        tally = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        click.echo(
            f"digest {digest.id}  {digest.created_at.isoformat()}  {state}  "
            f"{tally or 'no recipients'}  {digest.subject}"
        )


def _list_failed(ctx: Context, digest_id: int | None, as_json: bool) -> None:
    """`digest status N --failed [--json]`: every failed or ambiguous row, with its reply."""
    import json

    from publisher.newsletter.failures import failed_recipients

    if digest_id is None:
        raise click.UsageError(
            "--failed needs a digest number: `publisher digest status N --failed`"
        )
    rows = failed_recipients(ctx.config(), digest_id)
    if as_json:
        click.echo(json.dumps([row.as_json() for row in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        click.echo(f"digest {digest_id}: no failed or ambiguous recipients")
    for row in rows:
        click.echo(row.line())


@command.command("retry")
@click.argument("digest_id", type=int)
@click.option(
    "--code",
    default="",
    metavar="CODE",
    help="Only rows refused with this reply code (554) or enhanced status (5.7.1).",
)
@click.option(
    "--since",
    callback=parse_now,
    metavar="ISO-8601",
    help="Only rows that failed at or after this moment (with a UTC offset).",
)
@pass_context
@reports_errors
def retry_command(ctx: Context, digest_id: int, code: str, since: datetime | None) -> None:
    """Requeue failed recipients of a digest after a fix; the next `digest` sends to them.

    Rows that were sent or are ambiguous are never requeued (see --resend-ambiguous)."""
    from publisher.newsletter.failures import requeue_failed

    count, left = requeue_failed(ctx.config(), digest_id, ctx.now(), code=code, since=since)
    click.echo(
        f"requeued {counted(count, 'failed recipient')} of digest {digest_id}; "
        "`publisher digest` sends to them"
    )
    if left:
        click.echo(
            f"{counted(left, 'failed recipient')} left as they are: no longer active (bounced "
            "or unsubscribed); `publisher subscribers list --status bounced` shows them"
        )
