"""`publisher run`: the main job."""

from __future__ import annotations

import click

from publisher.cli.context import (
    Context,
    finish_digest,
    pass_context,
    progress,
    reports_errors,
    stop_on_signals,
)


@click.command("run")
@pass_context
@reports_errors
def command(ctx: Context) -> None:
    """The main job, for cron and `make run`: build the feeds, then send what is due."""
    from publisher.build.pipeline import build
    from publisher.newsletter.due import digest_due

    config, now = ctx.config(), ctx.now()
    with stop_on_signals() as stop:
        report = build(config, now)
        for warning in report.warnings:
            ctx.warn(warning)
        ctx.say(report.summary())
        if stop.is_set():
            ctx.say("stopped on request before the digest")
            return
        due = digest_due(config, now)
        if not due.due:
            ctx.say(due.reason)
            return
        from publisher.newsletter.delivery import send_digests

        if config.bounces.configured:
            from publisher.core.errors import PublisherError
            from publisher.newsletter.bounces import process_bounces

            try:
                ctx.say(process_bounces(config, now).summary())
            except PublisherError as e:  # unreadable or not there yet: readers still get mail
                hint = f" ({e.hint})" if e.hint else ""
                ctx.warn(f"{e.message}; the digest goes out without reading bounces{hint}")
        digest = send_digests(
            config, now, cadences=due.cadences, progress=progress(), should_stop=stop.is_set
        )
    finish_digest(ctx, digest)
