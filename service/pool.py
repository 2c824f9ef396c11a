"""Search processes: `pqa serve --search-processes N` answers questions in N processes beside the serving one.

One process answers under one interpreter lock: at 8 clients its Python (the search outside the model, the HTTP
layers, the JSON) is the queue, not the cores (README, "Speed"). Each search process loads the model on its share
of the cores (`threads`, by default cores / N) and follows the index's CURRENT generation as the serving process
does (service/engine.py). The serving process keeps everything else (HTTP, validation, re-index jobs, metrics, rate
limits, the pages): it checks the question, hands it to an idle search process together with the generation it
serves, and returns the JSON it gets back, byte for byte what it would have written itself (service/answer.py
`body`).

An answer never comes from another generation than the one /readyz names, and never waits for a search process to
start: a search process that serves another generation (a swap in progress) says so and catches up in the
background; one that fails, dies or does not answer within `ANSWER_TIMEOUT` is replaced; while none is ready
(start-up, after a crash) and for every question a search process could not answer (a bad filter, the reranker
asked for where none runs), the serving process answers itself, with the same errors. Search processes start once
the serving process has its model (so a first run builds a converted model once, not once per process), and end
with it: each reads its instructions from a pipe, and a pipe whose other end is gone ends the process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from multiprocessing import get_context
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from .engine import Engine
    from .settings import Settings

log = logging.getLogger("pqa.pool")

START_TIMEOUT = 600.0  # seconds a search process may take to load the model and the index
ANSWER_TIMEOUT = 60.0  # seconds a search process may take over one question before it is replaced
IDLE_WAIT = 30.0  # seconds a question waits for an idle search process before the serving process answers it
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0)  # between failed starts of one slot, the last repeated


def cores() -> int:
    """The cores this process may run on (its affinity mask, which a container's cpuset narrows)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Counts:
    """What a search process has counted since it started: the model's questions and the reranker's work."""

    batches: int = 0
    questions: int = 0
    cache_hits: int = 0
    cache_misses: int = 0
    cache_entries: int = 0
    rerank_calls: int = 0
    rerank_pairs: int = 0
    rerank_seconds: float = 0.0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @classmethod
    def of(cls, engine: Engine) -> Counts:
        embedder, reranker = engine.embedder, engine.reranker
        if embedder is None:
            return cls()
        cache = embedder.cache
        return cls(
            embedder.batches,
            embedder.questions,
            cache.hits,
            cache.misses,
            len(cache),
            reranker.calls if reranker is not None else 0,
            reranker.pairs if reranker is not None else 0,
            reranker.seconds if reranker is not None else 0.0,
        )


class _Turns:
    """The idle search processes, handed to the questions waiting for one in the order they came (a queue.Queue lets
    a question that arrives as a process comes free take it before those already waiting: under 8 clients that
    doubled the p99)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: deque[_Worker] = deque()
        self._waiting: deque[_Waiter] = deque()

    def put(self, worker: _Worker) -> None:
        with self._lock:
            if self._waiting:
                waiter = self._waiting.popleft()
                waiter.worker = worker
                waiter.given.set()
            else:
                self._idle.append(worker)

    def get(self, timeout: float) -> _Worker | None:
        """The next idle search process for this question, or None after `timeout` seconds."""
        with self._lock:
            if self._idle:
                return self._idle.popleft()
            waiter = _Waiter()
            self._waiting.append(waiter)
        waiter.given.wait(timeout)
        with self._lock:
            if waiter.worker is None:  # not given one in time: out of the line (under the lock, so never given one now)
                self._waiting.remove(waiter)
            return waiter.worker


class _Waiter:
    __slots__ = ("given", "worker")

    def __init__(self) -> None:
        self.given = threading.Event()
        self.worker: _Worker | None = None


@dataclass
class _Worker:
    slot: int
    process: BaseProcess
    conn: Connection
    runtime: str
    counts: Counts = Counts()


class SearchPool:
    """`size` search processes, each with the model on `threads` cores; `answer()` hands a question to an idle one."""

    def __init__(self, settings: Settings, size: int, threads: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"a search pool needs at least one process, got {size}")
        self.settings = settings
        self.size = size
        self.threads = threads or max(1, cores() // size)
        self.answered = 0  # questions the search processes answered
        self.declined = 0  # questions handed over but answered by the serving process (stale, error, lost)
        self.restarts = 0  # search processes started again after one ended or failed to start
        self._turns = _Turns()
        self._workers: dict[int, _Worker] = {}
        self._ended = Counts()  # counted by processes that have ended
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._context = get_context("spawn")  # never fork a process with threads (the model's, the server's)

    # -- life cycle --------------------------------------------------------------------------

    def start(self, model_loaded: Callable[[float], object]) -> None:
        """Start every slot in the background, each once `model_loaded(timeout)` returns (the serving process's
        model: a first run converts it once, into the cache the search processes then read)."""
        for slot in range(self.size):
            self._start_slot(slot, model_loaded)

    def _start_slot(self, slot: int, model_loaded: Callable[[float], object] | None, delay: float = 0.0) -> None:
        thread = threading.Thread(
            target=self._launch, args=(slot, model_loaded, delay), name=f"pqa-search-{slot}", daemon=True
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _launch(self, slot: int, model_loaded: Callable[[float], object] | None, delay: float) -> None:
        if delay and self._stop.wait(delay):
            return
        if model_loaded is not None:
            try:
                model_loaded(START_TIMEOUT)
            except Exception as exc:  # the serving process reports its own model's failure; nothing to start
                log.error("search process %d not started: the model did not load (%s)", slot, exc)
                return
        failures = 0
        while not self._stop.is_set():
            worker, problem = self._spawn(slot)
            if worker is not None:
                with self._lock:
                    if self._stop.is_set():
                        self._end(worker)
                        return
                    self._workers[slot] = worker
                self._turns.put(worker)
                log.info("search process %d ready (pid %d, %s)", slot, worker.process.pid, worker.runtime)
                return
            pause = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
            failures += 1
            log.error("search process %d failed to start: %s; trying again in %.0f s", slot, problem, pause)
            with self._lock:
                self.restarts += 1
            if self._stop.wait(pause):
                return

    def _spawn(self, slot: int) -> tuple[_Worker | None, str]:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=run_search_process,
            args=(self.settings, self.threads, slot, theirs),
            name=f"pqa-search-{slot}",
            daemon=True,
        )
        process.start()
        theirs.close()  # the child holds its end; ours alone here, so its death reads as EOF
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while not ours.poll(0.2):
                if self._stop.is_set() or not process.is_alive() or time.monotonic() >= deadline:
                    reason = "stopped" if self._stop.is_set() else f"exit code {process.exitcode}"
                    if process.is_alive():
                        reason = f"not ready after {START_TIMEOUT:.0f} s"
                    raise EOFError(reason)
            kind, detail = ours.recv()
        except (EOFError, OSError) as exc:
            _kill(process)
            ours.close()
            return None, str(exc) or "it ended before it was ready"
        if kind != "ready":
            _kill(process)
            ours.close()
            return None, str(detail)
        return _Worker(slot, process, ours, str(detail)), ""

    def stop(self) -> None:
        """End every search process (each finishes the question it has)."""
        self._stop.set()
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            self._end(worker)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _end(self, worker: _Worker) -> None:
        with contextlib.suppress(OSError, ValueError):
            worker.conn.send(("stop",))
        worker.process.join(timeout=10)
        _kill(worker.process)
        worker.conn.close()

    # -- questions ---------------------------------------------------------------------------

    def ready(self) -> int:
        """Search processes ready to answer (idle or answering)."""
        with self._lock:
            return len(self._workers)

    def answer(
        self,
        generation: str,
        question: str,
        k: int | None,
        documents: Sequence[str] | None,
        kinds: Sequence[str] | None,
        rerank: bool | None,
    ) -> bytes | None:
        """The search response's JSON for the question, answered from `generation` by a search process; None where
        none could (none ready, none idle within IDLE_WAIT, another generation, an error, one that died): the
        caller answers itself then."""
        if not self.ready():
            return None
        worker = self._turns.get(IDLE_WAIT)
        if worker is None:
            with self._lock:
                self.declined += 1
            return None
        if worker.conn.closed:  # ended by stop() while it waited in the queue
            return None
        message = ("answer", generation, question, k, list(documents or ()), list(kinds or ()), rerank)
        try:
            worker.conn.send(message)
            if not worker.conn.poll(ANSWER_TIMEOUT):
                raise TimeoutError(f"no answer within {ANSWER_TIMEOUT:.0f} s")
            kind, payload, counts = worker.conn.recv()
        except (EOFError, OSError, TimeoutError) as exc:
            self._lost(worker, str(exc) or type(exc).__name__)
            return None
        worker.counts = counts
        self._turns.put(worker)
        with self._lock:
            if kind == "ok":
                self.answered += 1
            else:
                self.declined += 1
        if kind == "ok":
            return bytes(payload)
        if kind == "error":
            log.debug("search process %d could not answer (%s); answering here", worker.slot, payload)
        return None

    def _lost(self, worker: _Worker, why: str) -> None:
        with self._lock:
            if self._workers.get(worker.slot) is worker:
                del self._workers[worker.slot]
            self._ended += worker.counts
            self.declined += 1
            self.restarts += 1
            stopping = self._stop.is_set()
        _kill(worker.process)
        worker.conn.close()
        if not stopping:
            log.error(
                "search process %d lost (%s, exit code %s); starting another", worker.slot, why, worker.process.exitcode
            )
            self._start_slot(worker.slot, None)

    def counts(self) -> Counts:
        """Everything the search processes have counted, those that ended included (for /metrics)."""
        with self._lock:
            total = self._ended
            for worker in self._workers.values():
                total += worker.counts
            return total

    def describe(self) -> dict[str, Any]:
        """For /readyz: how many search processes are configured and ready, on how many cores each."""
        return {"configured": self.size, "ready": self.ready(), "threads": self.threads}


def _kill(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(timeout=5)


# -- the search process ------------------------------------------------------------------------


def run_search_process(settings: Settings, threads: int, slot: int, conn: Connection) -> None:
    """A search process's life: load the model and the index, say "ready", answer until told to stop or the serving
    process is gone. Interrupts are the serving process's to handle (Ctrl+C reaches the whole process group)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"search process {slot}: %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("pqa").setLevel(logging.WARNING)

    from .engine import Engine

    engine = Engine(settings, threads=threads)
    try:
        engine.start(background=False)
    except Exception as exc:  # said to the serving process, which logs it and tries again later
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    assert engine.embedder is not None
    conn.send(("ready", f"{engine.embedder.runtime} on {threads} thread{'s' if threads != 1 else ''}"))
    try:
        _answer_loop(engine, settings, conn)
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
                    catching_up = threading.Thread(target=engine.refresh, name="pqa-catch-up", daemon=True)
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
