"""A re-index job is published finished in one step: a client never sees "done" without its served generation."""

from __future__ import annotations

import time
from typing import Any, cast

from service.engine import Engine, Status
from service.jobs import Jobs
from service.report import IngestReport
from service.settings import Settings


class SlowRefreshEngine:
    """Plumbing only: an engine whose refresh takes a while, as loading a real generation does."""

    def __init__(self) -> None:
        self.generation: str | None = None

    def refresh(self) -> bool:
        time.sleep(0.3)
        self.generation = "g-new"
        return True

    def status(self) -> Status:
        return Status(state="ready", generation=self.generation, passages=1, runtime="test", message=None)


class QuickJobs(Jobs):
    def _ingest(self, job: Any) -> IngestReport:
        return IngestReport(generation="g-new")


def test_a_polling_client_never_sees_done_without_the_served_generation() -> None:
    jobs = QuickJobs(cast(Engine, SlowRefreshEngine()), Settings())
    job = jobs.start("api")
    seen: list[dict[str, object]] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        view = jobs.snapshot(job)
        seen.append(view)
        if view["state"] != "running":
            break
        time.sleep(0.005)
    jobs.wait(5)
    finished = [view for view in seen if view["state"] != "running"]
    assert finished, "the job never finished"
    assert all(view["served"] == "g-new" and view["finished"] for view in finished), finished[0]
    assert all(view["result"] is None and view["served"] is None for view in seen if view["state"] == "running")
    assert jobs.running() is None


def test_a_failed_job_is_published_with_its_error_and_served_generation() -> None:
    class FailingJobs(Jobs):
        def _ingest(self, job: Any) -> IngestReport:
            raise OSError("disk full")

    jobs = FailingJobs(cast(Engine, SlowRefreshEngine()), Settings())
    job = jobs.start("api")
    jobs.wait(5)
    view = jobs.snapshot(job)
    assert view["state"] == "failed" and view["error"] == "disk full" and view["served"] == "g-new"
    assert jobs.running() is None
