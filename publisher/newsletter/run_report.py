"""What a `publisher digest` run did: counts per digest, the first failures, the exit code."""

from __future__ import annotations

from dataclasses import dataclass, field

from publisher.core.errors import ExitCode, RelayRefused

FAILURES_SHOWN = 5
"""How many failed recipients the end-of-run summary names; the rest are in the ledger."""


@dataclass(frozen=True)
class FailedRecipient:
    email: str
    status: str
    """failed or ambiguous"""
    code: int | None
    reply: str

    def __str__(self) -> str:
        said = f"{self.code} {self.reply}" if self.code is not None else self.reply
        return f"{self.email} ({self.status}): {said}"


@dataclass
class DigestRun:
    digest_id: int
    new: bool
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    temporary: int = 0
    ambiguous: int = 0
    interrupted: int = 0
    """Rows a previous run left `sending`: now ambiguous, not resent."""
    skipped_inactive: int = 0
    """Pending rows of people who unsubscribed or bounced since the digest was made."""
    left_pending: int = 0
    """Rows still pending when the run ended (relay unreachable, or asked to stop)."""
    failures: list[FailedRecipient] = field(default_factory=list)
    """The first FAILURES_SHOWN recipients that failed or became ambiguous in this run."""
    relay_error: RelayRefused | None = None
    """The relay refused everyone: this run stopped with the rest pending."""

    def note_failure(self, failure: FailedRecipient) -> None:
        if len(self.failures) < FAILURES_SHOWN:
            self.failures.append(failure)

    def counts(self) -> str:
        text = (
            f"digest {self.digest_id}{' (new)' if self.new else ' (resumed)'}: "
            f"{self.sent} sent, {self.failed} failed, {self.temporary} deferred, "
            f"{self.ambiguous + self.interrupted} ambiguous"
        )
        if self.bounced:
            text += f", {self.bounced} bounced"
        if self.skipped_inactive:
            text += f", {self.skipped_inactive} skipped (no longer subscribed)"
        if self.left_pending:
            text += f", {self.left_pending} left for the next run"
        return text

    def failure_lines(self) -> list[str]:
        lines = [f"  {failure}" for failure in self.failures]
        rest = self.failed + self.ambiguous - len(self.failures)
        if lines or self.interrupted:
            where = f"`publisher digest status {self.digest_id} --failed`"
            more = f"{rest} more" if rest > 0 else "all of them"
            lines.append(f"  {more}, with each reply: {where}")
        return lines


@dataclass
class DigestReport:
    runs: list[DigestRun] = field(default_factory=list)
    note: str = ""

    stopped: bool = False
    """Asked to stop (SIGTERM/SIGINT): what is left waits for the next run, by design."""

    archive_warnings: tuple[str, ...] = ()
    """What publishing the archive of issues could not do (it tries again next run)."""

    @property
    def relay_error(self) -> RelayRefused | None:
        """The relay refused everyone: the run stopped, the rest is pending, exit 75."""
        return next((run.relay_error for run in self.runs if run.relay_error), None)

    @property
    def lost(self) -> bool:
        """Some recipient failed for good, or may or may not have the message."""
        return any(r.failed or r.ambiguous or r.interrupted for r in self.runs)

    @property
    def deferred(self) -> bool:
        """Some recipient waits for the next run because the relay said "later" or was down."""
        return self.relay_error is not None or any(
            r.temporary or (r.left_pending and not self.stopped) for r in self.runs
        )

    @property
    def partial(self) -> bool:
        return self.lost or self.deferred

    @property
    def exit_code(self) -> ExitCode:
        if self.relay_error is not None:
            return ExitCode.TEMPFAIL
        if self.lost:
            return ExitCode.PARTIAL
        return ExitCode.TEMPFAIL if self.deferred else ExitCode.OK

    def summary(self) -> str:
        if not self.runs:
            return self.note or "nothing to send"
        lines = ["; ".join(run.counts() for run in self.runs)]
        if self.note:
            lines[0] += f"; {self.note}"
        if self.stopped:
            lines[0] += "; stopped on request; the rest goes out on the next run"
        for run in self.runs:
            lines.extend(run.failure_lines())
        return "\n".join(lines)
