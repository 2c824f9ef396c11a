"""Re-index jobs run inside `pqa serve`: one at a time, in a background thread, with their progress.

A job runs the same pipeline as `pqa ingest` over the configured corpus, with the model the
service already loaded, then asks the engine to pick up the new generation at once rather than
at its next poll. The writer lock still guards the index, so a `pqa ingest` running beside the
service makes the job wait (up to `reindex_lock_wait` seconds) and never interleave with it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from index.errors import SearchIndexError

from .engine import Engine, NotReady
from .gate import load_golden
from .reindex import ingest
from .report import IngestReport
from .settings import Settings

log = logging.getLogger("pqa.jobs")
HISTORY = 20
MODEL_WAIT = 300.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One re-index: `state` is running, done or failed; `result` says what a finished job did."""

    id: str
    trigger: str
    force: bool
    state: str = "running"
    stage: str | None = None
    done: int = 0
    total: int = 0
    created: str = field(default_factory=_now)
    finished: str | None = None
    result: str | None = None  # "swapped", "unchanged", "rejected"
    served: str | None = None  # the generation the service answers from when the job ended
    report: dict[str, object] | None = None
    error: str | None = None

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "trigger": self.trigger,
            "force": self.force,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "created": self.created,
            "finished": self.finished,
            "result": self.result,
            "served": self.served,
            "report": self.report,
            "error": self.error,
        }


class Busy(Exception):
    """A job is already running."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"a re-index is already running: job {job.id} ({job.stage or 'starting'})")
        self.job = job


class Jobs:
    """The service's re-index jobs: starts them, keeps the last few, and refuses a second one while one runs."""

    def __init__(self, engine: Engine, settings: Settings, finished: Callable[[str], None] | None = None) -> None:
        """`finished` is told each run's result ("swapped", "unchanged", "rejected" or "failed") once, before
        clients see the job finished (the service counts them in /metrics)."""
        self.engine = engine
        self.settings = settings
        self._finished = finished
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._running: Job | None = None
        self._thread: threading.Thread | None = None

    def start(self, trigger: str, force: bool = False) -> Job:
        """Start a job in the background; raises Busy while another runs."""
        with self._lock:
            if self._running is not None:
                raise Busy(self._running)
            job = Job(id=secrets.token_hex(6), trigger=trigger, force=force)
            self._running = job
            self._jobs[job.id] = job
            while len(self._jobs) > HISTORY:
                self._jobs.popitem(last=False)
            self._thread = threading.Thread(target=self._run, args=(job,), name=f"pqa-job-{job.id}", daemon=True)
            self._thread.start()
            return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def snapshot(self, job: Job) -> dict[str, object]:
        """The job as a client sees it, read under the lock so a finished job is never seen half-published."""
        with self._lock:
            return job.to_dict()

    def recent(self) -> list[Job]:
        """Jobs, newest first."""
        return list(reversed(self._jobs.values()))

    def running(self) -> Job | None:
        return self._running

    def wait(self, timeout: float) -> None:
        """Wait for the running job, if any, to end (used at shutdown; a job cannot be interrupted safely)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, job: Job) -> None:
        log.info("re-index job %s (%s) started", job.id, job.trigger)
        state, result, error, report, served = "failed", None, None, None, None
        try:
            outcome = self._ingest(job)
            report = outcome.to_dict()
            result = "rejected" if outcome.rejected else "swapped" if outcome.changed else "unchanged"
            state = "done"
        except (SearchIndexError, NotReady, OSError) as exc:
            error = str(exc)
            log.error("re-index job %s failed: %s", job.id, exc)
        except Exception as exc:  # a job must never stay "running": record the bug, with its traceback in the log
            error = f"unexpected error: {exc!r}; see the service log"
            log.exception("re-index job %s failed unexpectedly", job.id)
        finally:
            try:
                self.engine.refresh()
                served = self.engine.status().generation
            finally:
                if self._finished is not None:
                    self._finished(result or "failed")
                # Published in one step, after everything it reports is known: a client polling the job never
                # sees "done" without the generation it is served from (the lock orders it with readers).
                with self._lock:
                    job.report, job.result, job.error, job.served = report, result, error, served
                    job.finished = _now()
                    job.state = state
                    self._running = None
        log.info("re-index job %s %s (%s)", job.id, job.state, job.result or job.error)

    def _ingest(self, job: Job) -> IngestReport:
        settings = self.settings
        golden = load_golden(settings.golden) if settings.golden else None
        job.stage = "waiting for the model"
        embedder = self.engine.wait_model(MODEL_WAIT)
        job.stage = "waiting for the index's writer lock"
        started = time.perf_counter()
        report = ingest(
            settings.corpus,
            self.engine.store,
            lambda: embedder,
            embedder.name,
            progress=job.progress,
            lock_wait=settings.reindex_lock_wait,
            golden=golden,
            force=job.force,
            dense=settings.dense_index,
        )
        seconds = time.perf_counter() - started
        log.info("re-index job %s: %s in %.1f s", job.id, report.generation or "no new generation", seconds)
        return report
