"""Problems found in a Jekyll site's files, each located by file and line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from publisher.core.errors import Problem


@dataclass(frozen=True)
class JekyllProblem:
    """One thing wrong in one file; `line` is 1-based, 0 when the file as a whole is wrong."""

    file: str
    line: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class JekyllInputError(ValueError):
    """Every problem found in one pass over an input, so they can all be fixed at once."""

    def __init__(self, problems: Sequence[JekyllProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def as_problems(error: JekyllInputError) -> tuple[Problem, ...]:
    """The error's problems as publisher reports them (file:line, message, hint)."""
    return tuple(
        Problem(f"{p.file}:{p.line}" if p.line else p.file, p.message, p.hint)
        for p in error.problems
    )
