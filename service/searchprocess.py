"""One search process (service/pool.py): started from the serving process, and its own life once started.

`spawn` starts one and waits until it says it is ready with the runtime and reranker the serving process has;
`_Worker` is the serving process's handle on it. In the child, `run_search_process` loads the model and the index,
then answers the questions it reads from its pipe until told to stop or the pipe's other end is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing import resource_tracker
from typing import TYPE_CHECKING, Any

from .counts import Counts

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnContext
    from multiprocessing.process import BaseProcess

    from .engine import Engine
    from .settings import Settings

START_TIMEOUT = 600.0  # seconds a search process may take to load the model and the index
# signals sent to a whole process group (Ctrl+C, `kill -- -PGID`, `timeout`): the serving process's to handle
GROUP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


@dataclass(eq=False)
class _Worker:
    slot: int
    process: BaseProcess
    conn: Connection
    runtime: str
    counts: Counts = Counts()  # noqa: RUF009 (frozen: one instance shared by all is safe)
    started: float = 0.0  # monotonic
    stale_since: float | None = None  # monotonic: since when it answers "another generation"


def spawn(
    context: SpawnContext,
    settings: Settings,
    slot: int,
    threads: int,
    cpus: frozenset[int],
    runtime: str,
    reranker: str | None,
    stop: threading.Event,
) -> tuple[_Worker | None, str]:
    """Start search process `slot` with `threads` threads on `cpus` and wait until it is ready: its handle, or None
    and why not (it ended, took longer than `START_TIMEOUT`, `stop` was set, or it runs another runtime or reranker
    than `runtime` and `reranker`, the serving process's)."""
    settings = settings.model_copy(update={"runtime": _setting_for(runtime, settings.runtime)})
    ours, theirs = context.Pipe()
    process = context.Process(
        target=run_search_process,
        args=(settings, threads, slot, theirs, cpus),
        name=f"pqa-search-{slot}",
    )
    process.daemon = True
    start_shielded(process)
    theirs.close()  # the child holds its end; ours alone here, so its death reads as EOF
    deadline = time.monotonic() + START_TIMEOUT
    try:
        while not ours.poll(0.2):
            if stop.is_set() or not process.is_alive() or time.monotonic() >= deadline:
                reason = "stopped" if stop.is_set() else f"exit code {process.exitcode}"
                if process.is_alive():
                    reason = f"not ready after {START_TIMEOUT:.0f} s"
                raise EOFError(reason)
        kind, detail = ours.recv()
    except (EOFError, OSError) as exc:
        _kill(process)
        ours.close()
        return None, str(exc) or "it ended before it was ready"
    problem = str(detail) if kind != "ready" else _differs(detail, runtime, reranker)
    if problem:
        _kill(process)
        ours.close()
        return None, problem
    described = f"{runtime} on {threads} thread{'s' if threads != 1 else ''}"
    return _Worker(slot, process, ours, described, started=time.monotonic()), ""


def start_shielded(process: BaseProcess) -> None:
    """Start `process` with the signals sent to a whole process group blocked (Ctrl+C, `kill` of the group,
    `timeout`, a supervisor's stop): the mask outlives exec, so a signal during the child's imports is ignored there,
    not a traceback or a death the monitor would replace while the service stops; the child ignores them, then
    unblocks them. Multiprocessing's resource tracker is started first: its own start blocks and then unblocks the
    same signals in this thread, which inside `process.start()` would undo the block for the child started then."""
    resource_tracker.ensure_running()
    signal.pthread_sigmask(signal.SIG_BLOCK, GROUP_SIGNALS)
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, GROUP_SIGNALS)


def _setting_for(runtime: str, configured: str) -> str:
    """The runtime setting that loads `runtime` (what the serving process's embedder says it runs) and nothing
    else; `configured` where no setting names it (the runtime check at start-up still holds)."""
    from index.embedder import RUNTIMES

    if runtime.startswith("pytorch"):
        return "pytorch"
    return runtime if runtime in RUNTIMES else configured


def _differs(ready: dict[str, Any], runtime: str, reranker: str | None) -> str:
    """Why a search process that says it is ready cannot answer for the serving process ("" where it can)."""
    if ready.get("runtime") != runtime:
        return f"it runs {ready.get('runtime')}, the serving process {runtime}"
    if ready.get("reranker") != reranker:
        return f"its reranker is {ready.get('reranker')}, the serving process's {reranker}"
    return ""


def _kill(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=5)


# -- in the search process ---------------------------------------------------------------------


def run_search_process(
    settings: Settings, threads: int, slot: int, conn: Connection, cpus: frozenset[int] = frozenset()
) -> None:
    """A search process's life: load the model and the index (on `cpus` where given), say "ready", answer until told
    to stop or the serving process is gone. Interrupts are the serving process's to handle (Ctrl+C reaches the whole
    process group, SIGTERM too where the group is stopped): it ends them (the pipe's "stop", or EOF)."""
    for number in GROUP_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    if cpus:
        os.sched_setaffinity(0, cpus)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, GROUP_SIGNALS)  # blocked by the parent while this one started
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"search process {slot}: %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("pqa").setLevel(logging.WARNING)

    from .engine import Engine

    engine = Engine(settings, threads=threads)
    try:
        try:
            engine.start(background=False)
        except Exception as exc:  # said to the serving process, which logs it and tries again later
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
            return
        assert engine.embedder is not None
        reranker = engine.reranker
        conn.send(("ready", {"runtime": engine.embedder.runtime, "reranker": reranker.name if reranker else None}))
        _answer_loop(engine, settings, conn)
    except OSError:  # the serving process is gone (a broken pipe): nothing to say it to
        return
    finally:
        engine.stop()


def _answer_loop(engine: Engine, settings: Settings, conn: Connection) -> None:
    from .answer import QuestionLimits, answer, body

    limits = QuestionLimits.of(settings)
    catching_up: threading.Thread | None = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the serving process is gone
        if message[0] != "answer":
            return
        _, generation, question, k, documents, kinds, rerank = message
        try:
            searcher = engine.searcher()
            if searcher.snapshot.generation != generation:
                if catching_up is None or not catching_up.is_alive():
                    catching_up = threading.Thread(
                        target=engine.catch_up, args=(generation,), name="pqa-catch-up", daemon=True
                    )
                    catching_up.start()
                reply: tuple[str, Any] = ("stale", searcher.snapshot.generation)
            else:
                response = answer(searcher, question, limits, k, documents or None, kinds or None, rerank)
                reply = ("ok", body(response).encode())
        except Exception as exc:  # the serving process answers this one itself, with the error's own response
            reply = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send((*reply, Counts.of(engine)))
        except (OSError, ValueError):
            return
