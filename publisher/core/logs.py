"""Where log records go: stderr, as readable text or as one JSON object per line.

Command summaries stay on stdout through click; logs are for what a person
or a journal watching a long run wants to know as it happens.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")

_STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "taskName",
}


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields passed with `extra=`, in the order they were given."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD_ATTRIBUTES}


def _moment(record: logging.LogRecord) -> datetime:
    return datetime.fromtimestamp(record.created, UTC)


class TextFormatter(logging.Formatter):
    """`2026-11-25 11:41:23+00:00 INFO publisher.schedule: message key=value`."""

    def format(self, record: logging.LogRecord) -> str:
        moment = _moment(record).astimezone().isoformat(sep=" ", timespec="seconds")
        line = f"{moment} {record.levelname} {record.name}: {record.getMessage()}"
        extras = " ".join(f"{key}={value}" for key, value in extra_fields(record).items())
        if extras:
            line += f" ({extras})"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, then the extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _moment(record).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure(log_format: str = "text", verbose: bool = False, quiet: bool = False) -> None:
    """Send every log record to stderr: INFO by default, DEBUG with verbose, WARNING with quiet."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The scheduler's own chatter ("Running job …") is detail unless asked for.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)
