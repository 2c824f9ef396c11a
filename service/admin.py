"""Admin routes: start a re-index of the corpus (`POST /api/reindex`) and follow it (`GET /api/reindex/{job}`).

Guarded by `Authorization: Bearer $PQA_ADMIN_TOKEN`: 401 without a token, 403 with a wrong one, and
403 `admin_disabled` for everyone when the server has no token configured.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field

from .api import SettingsDep
from .errors import ApiError
from .jobs import Busy, Job, Jobs
from .schemas import ErrorResponse


class JobOut(BaseModel):
    id: str
    trigger: str = Field(description="'api' or 'watch'.")
    force: bool
    state: str = Field(description="running, done or failed.")
    stage: str | None = Field(description="What the job is doing: scanning, embedding passages, writing...")
    done: int
    total: int
    created: str
    finished: str | None
    result: str | None = Field(description="For a finished job: swapped, unchanged or rejected (by the gate).")
    served: str | None = Field(description="The generation the service answered from when the job ended.")
    report: dict[str, Any] | None = Field(description="The ingest report, as `pqa ingest --json` prints it.")
    error: str | None


class JobsOut(BaseModel):
    jobs: list[JobOut]


async def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    expected = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not expected:
        raise ApiError(
            403,
            "admin_disabled",
            "re-indexing over HTTP is disabled on this server; start it with PQA_ADMIN_TOKEN set to enable it, "
            "or run: pqa ingest",
        )
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(
            401,
            "unauthorized",
            "this endpoint needs the admin token: Authorization: Bearer <PQA_ADMIN_TOKEN>",
            {"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise ApiError(403, "forbidden", "the admin token is not valid; use the server's PQA_ADMIN_TOKEN")


async def get_jobs(request: Request) -> Jobs:
    jobs: Jobs = request.app.state.jobs
    return jobs


JobsDep = Annotated[Jobs, Depends(get_jobs)]

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No admin token was sent."},
    403: {"model": ErrorResponse, "description": "The token is wrong, or re-indexing over HTTP is disabled."},
    422: {"model": ErrorResponse, "description": "A parameter is not valid (`force` not true or false)."},
    429: {"model": ErrorResponse, "description": "Over PQA_RATE_LIMIT requests a minute; see Retry-After."},
}

router = APIRouter(prefix="/api/reindex", tags=["admin"], dependencies=[Depends(require_admin)], responses=ERRORS)


def _out(jobs: Jobs, job: Job) -> JobOut:
    return JobOut.model_validate(jobs.snapshot(job))


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    responses={409: {"model": ErrorResponse, "description": "A re-index is already running."}},
)
def start_reindex(
    jobs: JobsDep,
    response: Response,
    force: Annotated[bool, Query(description="Swap the new generation in even if the golden gate refuses it.")] = False,
) -> JobOut:
    """Re-index the configured corpus in the background; follow the job at the returned Location."""
    try:
        job = jobs.start("api", force=force)
    except Busy as exc:
        raise ApiError(409, "reindex_running", f"{exc}; wait for it to finish: GET /api/reindex/{exc.job.id}") from None
    response.headers["Location"] = f"/api/reindex/{job.id}"
    return _out(jobs, job)


@router.get("", response_model=JobsOut)
def list_jobs(jobs: JobsDep) -> JobsOut:
    """The last re-index jobs, newest first."""
    return JobsOut(jobs=[_out(jobs, job) for job in jobs.recent()])


@router.get("/{job_id}", response_model=JobOut, responses={404: {"model": ErrorResponse}})
def get_job(jobs: JobsDep, job_id: str) -> JobOut:
    """A job's progress (stage, done/total) and, once finished, its report."""
    job = jobs.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"no re-index job {job_id}; the recent ones: GET /api/reindex")
    return _out(jobs, job)
