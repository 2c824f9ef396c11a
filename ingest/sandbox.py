"""Run a parser on untrusted bytes in a separate process, under a memory and a time limit.

pypdf has had many denial-of-service advisories (loops, decompression bombs) reachable through
plain text extraction. A worker process with an address-space limit (RLIMIT_AS) and a wall-clock
deadline keeps one hostile file from hanging or exhausting the batch: the worker is killed, the
file is reported with the limit it broke, and the next file is parsed. Workers are forked from a
`forkserver`, a small clean process, never from the caller (which may hold a model's threads).
"""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from .errors import IngestError

T = TypeVar("T")
A = TypeVar("A")
MB = 1024 * 1024
Report = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits of a parse: wall-clock seconds, address space in MB, and pages."""

    seconds: float = 120.0
    memory_mb: int = 1536
    max_pages: int = 1000

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.memory_mb <= 0 or self.max_pages <= 0:
            raise ValueError(f"limits must be positive, got {self}")


def _child(function: Callable[[A, Report], T], argument: A, limits: Limits, connection: Connection) -> None:
    """Runs in the worker: apply the limits, call the function, send back ("ok"|"error"|"memory", payload)."""
    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 5  # a backstop should the parent vanish; the parent's deadline comes first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    def report(done: int, total: int) -> None:
        connection.send(("progress", (done, total)))

    reply: tuple[str, Any]
    try:
        reply = ("ok", function(argument, report))
    except IngestError as exc:
        reply = ("error", str(exc))
    except MemoryError:
        reply = ("memory", None)
    except RecursionError:
        reply = ("error", "its structure nests too deeply to parse (recursion limit); re-export it and try again")
    try:
        connection.send(reply)
    except MemoryError:
        connection.send(("memory", None))
    finally:
        connection.close()


_context: Any = None


def _forkserver() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(["ingest.extraction"])
    return _context


def run_limited(
    function: Callable[[A, Report], T], argument: A, limits: Limits, progress: Report | None = None
) -> T:
    """`function(argument, report)` in a worker process; IngestError naming the limit when one is broken.

    `function` must be a module-level function and its argument and result picklable; it may call
    `report(done, total)`, which reaches `progress` here. An IngestError raised inside the worker
    comes back as an IngestError with the same message.
    """
    context = _forkserver()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(function, argument, limits, sender), daemon=True)
    process.start()
    sender.close()
    try:
        status, payload = _wait(receiver, process, limits, progress)
    finally:
        receiver.close()
        _stop(process)
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    if status == "memory":
        raise IngestError(_memory_reason(limits))
    raise IngestError(str(payload))


def _wait(receiver: Connection, process: Any, limits: Limits, progress: Report | None) -> tuple[str, Any]:
    deadline = time.monotonic() + limits.seconds
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not receiver.poll(remaining):
            process.kill()
            raise IngestError(
                f"parsing took longer than the time limit of {limits.seconds:g} s per file; "
                "split the file or raise the limit (pqa ingest --timeout)"
            )
        try:
            status, payload = receiver.recv()
        except EOFError:
            process.join(5)
            raise IngestError(_crash_reason(process.exitcode, limits)) from None
        if status != "progress":
            return status, payload
        if progress is not None:
            progress(*payload)


def _memory_reason(limits: Limits) -> str:
    return (
        f"parsing needed more than the memory limit of {limits.memory_mb} MB per file; "
        "split the file or raise the limit (pqa ingest --memory)"
    )


def _crash_reason(exitcode: int | None, limits: Limits) -> str:
    if exitcode is not None and exitcode < 0:
        return (
            f"the parser was stopped by signal {-exitcode} (memory limit {limits.memory_mb} MB, "
            f"time limit {limits.seconds:g} s); split the file or raise the limits"
        )
    return f"the parser exited unexpectedly (code {exitcode}); re-export the file and try again"


def _stop(process: Any) -> None:
    process.join(timeout=2)
    if process.is_alive():
        process.kill()
        process.join(timeout=5)
    process.close()
