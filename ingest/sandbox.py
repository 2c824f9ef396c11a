"""Run a parser on untrusted bytes in a separate process, under a memory and a time limit.

pypdf has had many denial-of-service advisories (loops, decompression bombs) reachable through
plain text extraction. A worker process with an address-space limit (RLIMIT_AS) and a wall-clock
deadline keeps one hostile file from hanging or exhausting the batch: the worker is killed, the
file is reported with the limit it broke, and the next file is parsed.

The worker is a fresh interpreter (`python -m ingest.sandbox`), not a fork: the caller may hold
a model's threads, and a fresh process needs no `if __name__ == "__main__"` guard in whatever
script called us. Requests and replies are pickled frames on the worker's stdin and stdout.
"""

from __future__ import annotations

import importlib
import os
import pickle
import resource
import select
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from .errors import IngestError

T = TypeVar("T")
A = TypeVar("A")
MB = 1024 * 1024
Report = Callable[[int, int], None]
_FRAME = struct.Struct("!Q")


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-file limits of a parse: wall-clock seconds, address space in MB, pages, and file size in MB."""

    seconds: float = 120.0
    memory_mb: int = 1536
    max_pages: int = 1000
    max_mb: int = 200

    def __post_init__(self) -> None:
        if self.seconds <= 0 or self.memory_mb <= 0 or self.max_pages <= 0 or self.max_mb <= 0:
            raise ValueError(f"limits must be positive, got {self}")


def run_limited(function: Callable[[A, Report], T], argument: A, limits: Limits, progress: Report | None = None) -> T:
    """`function(argument, report)` in a worker process; IngestError naming the limit when one is broken.

    `function` must be a module-level function and its argument and result picklable; it may call
    `report(done, total)`, which reaches `progress` here. An IngestError raised inside the worker
    comes back as an IngestError with the same message.
    """
    request = pickle.dumps((function.__module__, function.__qualname__, argument, limits))
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "ingest.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env=env,
        )
        try:
            assert process.stdin is not None and process.stdout is not None
            process.stdin.write(_frame(request))
            process.stdin.close()
            status, payload = _wait(process, process.stdout, limits, progress, errors)
        finally:
            _stop(process)
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    if status == "memory":
        raise IngestError(_memory_reason(limits))
    raise IngestError(str(payload))


def _frame(data: bytes) -> bytes:
    return _FRAME.pack(len(data)) + data


def _wait(
    process: subprocess.Popen[bytes], out: IO[bytes], limits: Limits, progress: Report | None, errors: IO[bytes]
) -> tuple[str, Any]:
    deadline = time.monotonic() + limits.seconds
    reader = _Frames(out)
    while True:
        message = reader.next(deadline)
        if message is None:
            if time.monotonic() >= deadline:
                raise IngestError(
                    f"parsing took longer than the time limit of {limits.seconds:g} s per file; "
                    "split the file or raise the limit (pqa ingest --timeout)"
                )
            raise IngestError(_crash_reason(process.wait(5), limits, errors))
        status, payload = pickle.loads(message)
        if status != "progress":
            return status, payload
        if progress is not None:
            progress(*payload)


class _Frames:
    """Length-prefixed frames from a pipe, read against a deadline."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.fd = pipe.fileno()
        self.buffer = b""

    def next(self, deadline: float) -> bytes | None:
        """The next frame, or None when the deadline passed or the pipe closed first."""
        while True:
            if len(self.buffer) >= _FRAME.size:
                (size,) = _FRAME.unpack_from(self.buffer)
                if len(self.buffer) >= _FRAME.size + size:
                    frame = self.buffer[_FRAME.size : _FRAME.size + size]
                    self.buffer = self.buffer[_FRAME.size + size :]
                    return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                return None
            chunk = os.read(self.fd, 1 << 20)
            if not chunk:
                return None
            self.buffer += chunk


def _memory_reason(limits: Limits) -> str:
    return (
        f"parsing needed more than the memory limit of {limits.memory_mb} MB per file; "
        "split the file or raise the limit (pqa ingest --memory)"
    )


def _crash_reason(exitcode: int | None, limits: Limits, errors: IO[bytes]) -> str:
    errors.seek(0)
    lines = errors.read().decode("utf-8", "replace").strip().splitlines()
    if exitcode is not None and exitcode < 0:
        return (
            f"the parser was stopped by signal {-exitcode} (memory limit {limits.memory_mb} MB, "
            f"time limit {limits.seconds:g} s); split the file or raise the limits"
        )
    if lines and "MemoryError" in lines[-1]:
        return _memory_reason(limits)
    detail = f": {lines[-1][:200]}" if lines else ""
    return f"the parser exited unexpectedly (code {exitcode}){detail}; re-export the file and try again"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


def _serve() -> None:
    """The worker: read one request, apply the limits, run it, write progress frames and one reply."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    (size,) = _FRAME.unpack(stdin.read(_FRAME.size))
    module, name, argument, limits = pickle.loads(stdin.read(size))
    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limits.seconds) + 5  # a backstop should the parent vanish; its deadline comes first
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))

    def send(message: tuple[str, Any]) -> None:
        stdout.write(_frame(pickle.dumps(message)))
        stdout.flush()

    reply: tuple[str, Any]
    try:
        function = getattr(importlib.import_module(module), name)
        reply = ("ok", function(argument, lambda done, total: send(("progress", (done, total)))))
    except IngestError as exc:
        reply = ("error", str(exc))
    except MemoryError:
        reply = ("memory", None)
    except RecursionError:
        reply = ("error", "its structure nests too deeply to parse (recursion limit); re-export it and try again")
    try:
        send(reply)
    except MemoryError:
        send(("memory", None))


if __name__ == "__main__":
    _serve()
