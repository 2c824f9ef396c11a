"""Search processes: `pqa serve --search-processes N` answers questions in N processes beside the serving one.

One process answers under one interpreter lock: at 8 clients its Python (the search outside the model, the HTTP
layers, the JSON) is the queue, not the cores (README, "Speed"). Each search process loads the model on its share
of the cores (`threads`, by default cores / N) and follows the index's CURRENT generation as the serving process
does (service/engine.py). The serving process keeps everything else (HTTP, validation, re-index jobs, metrics, rate
limits, the pages): it checks the question, hands it to an idle search process together with the generation it
serves, and returns the JSON it gets back, byte for byte what it would have written itself (service/answer.py
`body`). A question that is the only one in the serving process is answered there (`alone`, PQA_SEARCH_ALONE_HERE):
its model runs on every core, sooner than a search process's on its share; only questions side by side are handed
over. `planned` says how many a setting starts ("auto", the default: one per core from two cores on).

An answer never comes from another generation than the one /readyz names, and never waits long for a search
process: a search process that serves another generation (a swap in progress) says so and catches up in the
background; one that dies (even idle: a monitor watches them), or does not answer within `ANSWER_TIMEOUT`, is
replaced (again and again more slowly if it keeps dying young); a question that finds none idle within `IDLE_WAIT`,
or none at all (start-up, after a crash), and every question a search process could not answer (a bad filter, the
reranker asked for where none runs) is answered by the serving process itself, with the same errors. Search
processes start once the serving process has its model (so a first run builds a converted model once, not once per
process), load the runtime it resolved (a process that would run another, or lack the reranker it has, is refused),
and end with it: each reads its instructions from a pipe, and a pipe whose other end is gone ends the process.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from multiprocessing import get_context
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from .cores import cores, share
from .counts import Counts
from .searchprocess import START_TIMEOUT, _kill, _Worker, spawn
from .turns import _Turns

if TYPE_CHECKING:
    from .engine import Engine
    from .settings import Settings

log = logging.getLogger("pqa.pool")

# seconds a search process may take over one question before it is replaced (a question takes milliseconds, one the
# reranker re-scores about half a second)
ANSWER_TIMEOUT = 5.0
IDLE_WAIT = 2.0  # seconds a question waits for an idle search process before the serving process answers it
RETRY_DELAYS = (1.0, 5.0, 30.0, 120.0)  # between failed starts of one slot (or deaths soon after), the last repeated
LIVED = 60.0  # seconds after which a search process that ends is replaced at once, not more slowly
WATCH_INTERVAL = 1.0  # seconds between the monitor's looks at the search processes
# seconds a search process may keep answering "another generation" before it is replaced (one that refused the
# generation the serving process serves would otherwise never answer again)
STALE_LIMIT = 30.0


class SearchPool:
    """`size` search processes, each with the model on `threads` cores; `answer()` hands a question to an idle one."""

    def __init__(self, settings: Settings, size: int, threads: int | None = None) -> None:
        if size < 1:
            raise ValueError(f"a search pool needs at least one process, got {size}")
        self.settings = settings
        self.size = size
        self.threads = threads or max(1, cores() // size)
        self.answer_timeout = ANSWER_TIMEOUT
        self.idle_wait = IDLE_WAIT
        self.answered = 0  # questions the search processes answered
        self.declined = 0  # questions handed over but answered by the serving process (stale, error, lost)
        self.restarts = 0  # search processes started again after one ended or failed to start
        self._turns = _Turns()
        self._workers: dict[int, _Worker] = {}
        self._failures: dict[int, int] = {}  # per slot: starts that failed, or processes that died young, in a row
        self._ended = Counts()  # counted by processes that have ended
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._context = get_context("spawn")  # never fork a process with threads (the model's, the server's)
        self._engine: Engine | None = None
        self._asking = 0  # questions in the serving process now (see `alone`)

    # -- life cycle --------------------------------------------------------------------------

    def start(self, engine: Engine) -> None:
        """Start every slot in the background, each once `engine` (the serving process's) has its model: a first run
        converts it once, into the cache the search processes then read, and they load the runtime it resolved."""
        self._engine = engine
        for slot in range(self.size):
            self._start_slot(slot)
        self._spawn_thread(self._monitor, "pqa-search-monitor")

    def _spawn_thread(self, target: Any, name: str, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _start_slot(self, slot: int, delay: float = 0.0) -> None:
        self._spawn_thread(self._launch, f"pqa-search-{slot}", slot, delay)

    def _launch(self, slot: int, delay: float) -> None:
        if delay and self._stop.wait(delay):
            return
        expected = self._expected()
        if expected is None:
            return
        while not self._stop.is_set():
            cpus = self.cpus_of(slot)
            worker, problem = spawn(self._context, self.settings, slot, self.threads, cpus, *expected, self._stop)
            if worker is not None:
                with self._lock:
                    stopping = self._stop.is_set()
                    if not stopping:
                        self._workers[slot] = worker
                if stopping:
                    self._end([worker])
                    return
                self._turns.put(worker)
                log.info("search process %d ready (pid %d, %s)", slot, worker.process.pid, worker.runtime)
                return
            if self._stop.is_set():
                return
            with self._lock:
                failures = self._failures.get(slot, 0)
                self._failures[slot] = failures + 1
                self.restarts += 1
            pause = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
            log.error("search process %d failed to start: %s; trying again in %.0f s", slot, problem, pause)
            if self._stop.wait(pause):
                return

    def _expected(self) -> tuple[str, str | None] | None:
        """(the runtime, the reranker's name or None) of the serving process once its model is loaded; None where it
        failed to load or the pool stops first."""
        engine = self._engine
        assert engine is not None
        deadline = time.monotonic() + START_TIMEOUT
        while engine.embedder is None:
            state = engine.status().state
            if state == "failed" or time.monotonic() >= deadline:
                log.error("search processes not started: the serving process's model did not load (%s)", state)
                return None
            if self._stop.wait(0.2):
                return None
        reranker = engine.reranker
        return engine.embedder.runtime, reranker.name if reranker is not None else None

    def cpus_of(self, slot: int) -> frozenset[int]:
        """The cores search process `slot` runs on: its own `threads` of them, in turn (service/cores.py `share`)."""
        return share(slot, self.threads)

    def _monitor(self) -> None:
        """Replace a search process that died while idle (one answering is noticed by its question)."""
        while not self._stop.is_set():
            with self._lock:
                workers = list(self._workers.values())
            if not workers:
                self._stop.wait(WATCH_INTERVAL)
                continue
            ended = wait([w.process.sentinel for w in workers], timeout=WATCH_INTERVAL)
            gone = [w for w in workers if w.process.sentinel in ended]
            for worker in gone:
                if not self._stop.is_set() and self._turns.take(worker):
                    self._lost(worker, "it ended while idle")
            if gone:  # one a question holds: that question notices (at once: the pipe is closed); look again soon
                self._stop.wait(0.1)

    def stop(self) -> None:
        """End every search process (each finishes the question it has), all at once."""
        self._stop.set()
        self._turns.release()
        with self._lock:
            workers, self._workers = list(self._workers.values()), {}
        self._end(workers)
        for thread in list(self._threads):
            thread.join(timeout=5)

    def _end(self, workers: list[_Worker]) -> None:
        for worker in workers:
            with contextlib.suppress(OSError, ValueError):
                worker.conn.send(("stop",))
        deadline = time.monotonic() + 10
        for worker in workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            _kill(worker.process)
            worker.conn.close()

    # -- questions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def alone(self) -> Iterator[bool]:
        """Counts a question while the serving process answers it; True where it is the only one: alone, the
        serving process's model (on every core) answers it sooner than a search process on its share would."""
        with self._lock:
            self._asking += 1
            only = self._asking == 1
        try:
            yield only
        finally:
            with self._lock:
                self._asking -= 1

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
        none could (none ready, none idle within `idle_wait`, another generation, an error, one that died or took
        longer than `answer_timeout`): the caller answers itself then."""
        if not self.ready():
            return None
        worker = self._turns.get(self.idle_wait)
        if worker is None or worker.conn.closed:  # none in time, none left, or ended by stop() meanwhile
            with self._lock:
                self.declined += 1
            return None
        message = ("answer", generation, question, k, list(documents or ()), list(kinds or ()), rerank)
        try:
            worker.conn.send(message)
            if not worker.conn.poll(self.answer_timeout):
                raise TimeoutError(f"no answer within {self.answer_timeout:.0f} s")
            kind, payload, counts = worker.conn.recv()
        except Exception as exc:  # EOF (it died), a timeout, a broken pipe, a reply that does not unpickle
            with self._lock:
                self.declined += 1
            self._lost(worker, f"{type(exc).__name__}: {exc}")
            return None
        worker.counts = counts
        if kind == "stale":
            worker.stale_since = worker.stale_since or time.monotonic()
            if time.monotonic() - worker.stale_since > STALE_LIMIT:
                with self._lock:
                    self.declined += 1
                self._lost(worker, f"it served generation {payload}, not {generation}, for {STALE_LIMIT:.0f} s")
                return None
        else:
            worker.stale_since = None
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
        """`worker` is gone (or hung): kill it, wake the questions waiting if none is left, start another."""
        with self._lock:
            current = self._workers.get(worker.slot) is worker
            if current:
                del self._workers[worker.slot]
                self._ended += replace(worker.counts, cache_entries=0)  # counted; its cache is gone with it
                self.restarts += 1
                young = time.monotonic() - worker.started < LIVED
                failures = self._failures.get(worker.slot, 0) + 1 if young else 0
                self._failures[worker.slot] = failures
            stopping = self._stop.is_set()
            none_left = not self._workers
        _kill(worker.process)
        worker.conn.close()
        if none_left:
            self._turns.release()  # nothing to wait for: the serving process answers them now
        if current and not stopping:
            delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1] if failures else 0.0
            log.error(
                "search process %d lost (%s, exit code %s); starting another%s",
                worker.slot,
                why,
                worker.process.exitcode,
                f" in {delay:.0f} s" if delay else "",
            )
            self._start_slot(worker.slot, delay)

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
