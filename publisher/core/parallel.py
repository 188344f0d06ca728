"""Sharing work with forked helper processes, in order, with no helper left behind.

Hand-written rather than `concurrent.futures.ProcessPoolExecutor`, because on
Python 3.11 that pool can hang when a worker dies while a queued task is being
cancelled (CPython gh-132969, fixed only in later versions), and its `spawn`
and `forkserver` start methods import the CLI again in every worker, which
costs more than the work saved on a site of a few thousand posts.

Helpers are forked only where `os.fork` exists (Linux, which the project
targets, and other Unixes; never on Windows), only when no other thread runs in
this process (the fork would copy a lock another thread holds, and the helper
would wait on it forever), and only when the work reaches the caller's
threshold; otherwise everything runs here, in order. A helper that fails costs
time, never results: its chunks are done here.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

MAX_HELPERS = 3
_CHUNK = 50
_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1 << 20


def helper_count(work: int, worth_it: int) -> int:
    """Processes to fork for `work`: none below `worth_it`, or when forking is unsafe
    (another thread may hold a lock the child would wait on forever) or unavailable."""
    if work < worth_it or threading.active_count() > 1 or not hasattr(os, "fork"):
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(0, min(cores - 1, MAX_HELPERS))


def _take(bounds: Any, from_back: bool) -> int | None:
    """The next chunk from the front or the back; None when they met."""
    with bounds.get_lock():
        front, back = bounds[0], bounds[1]
        if front >= back:
            return None
        if from_back:
            bounds[1] = back - 1
            return int(back - 1)
        bounds[0] = front + 1
        return int(front)


def _serve(
    bounds: Any, chunks: Sequence[Sequence[Any]], remote: Callable[[Any], Any], out: Any
) -> None:
    """A helper's life: results of chunks from the back, each sent as soon as it is done."""
    with contextlib.suppress(OSError):  # a bigger pipe, so sending rarely waits (Linux)
        fcntl.fcntl(out.fileno(), _F_SETPIPE_SZ, _PIPE_BYTES)
    while (index := _take(bounds, from_back=True)) is not None:
        out.send((index, [remote(job) for job in chunks[index]]))


def shared_map(
    jobs: Sequence[Any],
    local: Callable[[Any], Any],
    *,
    helpers: int,
    remote: Callable[[Any], Any] | None = None,
    absorb: Callable[[Any, Any], Any] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[Any]:
    """`local(job)` for every job, in order, with `helpers` forked processes.

    This process takes chunks of jobs from the front, the helpers from the back,
    until they meet. A helper computes `remote(job)` (default: `local`), which
    must pickle, and sends each chunk back as it is done; this process turns
    each into `absorb(job, result)` (default: the result) between chunks of its
    own. A helper that fails only means its chunks are done here, so an error
    in a job is raised here as it would be without helpers. `meanwhile` runs
    here while the helpers start on their chunks.
    """
    import multiprocessing  # only where work is shared: not on a build with nothing to do

    remote = remote or local
    chunk_size = max(1, min(_CHUNK, len(jobs) // (4 * (helpers + 1))))
    chunks = _chunks(jobs, chunk_size)
    results: list[list[Any] | None] = [None] * len(chunks)
    bounds = multiprocessing.get_context("fork").Array("q", [0, len(chunks)])
    readers: dict[int, Any] = {}

    def take_in(block: bool) -> None:
        for pid, reader in list(readers.items()):
            while block or reader.poll():
                try:
                    index, got = reader.recv()
                except (EOFError, OSError):  # the helper is done, or gone
                    reader.close()
                    del readers[pid]
                    os.waitpid(pid, 0)
                    break
                results[index] = [
                    absorb(job, result) if absorb else result
                    for job, result in zip(chunks[index], got, strict=True)
                ]

    for stream in (sys.stdout, sys.stderr):  # or the helper would write their buffers again
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        for _ in range(helpers):
            reader, writer = multiprocessing.Pipe(duplex=False)
            pid = os.fork()
            if pid == 0:  # pragma: no cover (the helper, reported through its pipe)
                code = 0
                try:
                    reader.close()
                    _serve(bounds, chunks, remote, writer)
                except BaseException:
                    code = 1
                finally:
                    os._exit(code)
            writer.close()
            readers[pid] = reader
        if meanwhile is not None:
            meanwhile()
        while (index := _take(bounds, from_back=False)) is not None:
            results[index] = [local(job) for job in chunks[index]]
            take_in(block=False)
        take_in(block=True)
    finally:
        for pid, reader in readers.items():  # only after an error here
            reader.close()
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
    for index, chunk in enumerate(chunks):
        if results[index] is None:
            results[index] = [local(job) for job in chunk]
    return [result for chunk_results in results if chunk_results for result in chunk_results]


def _chunks(jobs: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [jobs[i : i + size] for i in range(0, len(jobs), size)]


@contextlib.contextmanager
def collections_paused() -> Iterator[None]:
    """No cyclic garbage collection while many long-lived objects are made: it would
    walk them again and again for nothing (parsing makes no cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
