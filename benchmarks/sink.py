"""The SMTP sink in a process of its own: `python -m benchmarks.sink`.

aiosmtpd in the sending process would compete with the sender for the GIL, so
the benchmark runs the tests' SmtpSink here and talks to it over stdin/stdout,
one JSON line per request:

- on start it prints {"port": N};
- `stats` prints the messages and bytes received so far and this process's CPU seconds;
- `save PATH` writes the first message received to PATH;
- `copies` prints how many copies each recipient got (the kill benchmark's count);
- end of input stops the server.

It counts messages instead of keeping them, so 100,000 digests fit in memory.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

from tests.smtp_sink import Received, SmtpSink


class CountingSink(SmtpSink):
    """SmtpSink that keeps a count, a byte total and the first message, nothing else."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.bytes = 0
        self.first: bytes | None = None
        self.copies: dict[str, int] = {}

    def _accept(self, received: Received) -> None:
        with self._lock:
            self.count += 1
            self.bytes += len(received.data)
            for recipient in received.rcpt_tos:
                self.copies[recipient] = self.copies.get(recipient, 0) + 1
            if self.first is None:
                self.first = received.data
            self._lock.notify_all()

    def _record(self, server: Any, verb: str, arg: str, code: int) -> None:
        """Per-command events are not kept either."""

    def stats(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self._lock:
            return {
                "messages": self.count,
                "bytes": self.bytes,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }


def reply(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main() -> None:
    sink = CountingSink()
    sink.start()
    try:
        reply({"port": sink.port})
        for line in sys.stdin:
            command, _, argument = line.strip().partition(" ")
            if command == "stats":
                reply(sink.stats())
            elif command == "copies":
                with sink._lock:
                    reply({"copies": dict(sink.copies)})
            elif command == "save":
                if sink.first is not None:
                    Path(argument).write_bytes(sink.first)
                reply({"saved": sink.first is not None})
            else:
                reply({"error": f"unknown command {command!r}"})
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
