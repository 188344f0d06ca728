"""The error tree and the exit codes every command shares."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from publisher.core.plural import counted


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    PARTIAL = 3
    TEMPFAIL = 75


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    where: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class PublisherError(Exception):
    """Base of every error the CLI turns into `error: …` / `hint: …`."""

    exit_code = ExitCode.ERROR

    def __init__(self, message: str, hint: str = "", problems: tuple[Problem, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.problems = problems


class ConfigError(PublisherError):
    exit_code = ExitCode.USAGE


class ContentError(PublisherError):
    pass


class TemplateError(PublisherError):
    pass


class StateError(PublisherError):
    pass


class DeliveryError(PublisherError):
    pass


class LockBusyError(PublisherError):
    exit_code = ExitCode.TEMPFAIL


class UnrenderableContent(ValueError):
    """A post's body that cannot be rendered so that it arrives whole (raised while rendering;
    loading a site turns it into a problem naming the file)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def many(kind: type[PublisherError], what: str, problems: list[Problem]) -> PublisherError:
    """One error carrying every problem found, so a user fixes them all in one pass."""
    return kind(f"{what}: {counted(len(problems), 'problem')}", problems=tuple(problems))


class RelayRefused(DeliveryError):
    """The relay refused something every recipient needs: not any reader's fault.

    The run stops, every recipient not yet sent stays pending, and the exit code is 75
    so that cron or a supervisor tries again after the cause is fixed.
    """

    exit_code = ExitCode.TEMPFAIL

    def __init__(self, message: str, hint: str = "", *, code: int | None = None) -> None:
        super().__init__(message, hint)
        self.code = code


class MailboxUnavailable(PublisherError):
    """The bounce mailbox's server could not be reached: try again later (exit 75)."""

    exit_code = ExitCode.TEMPFAIL
