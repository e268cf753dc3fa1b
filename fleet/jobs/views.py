"""Job runs, for admins: what ran when, on which scheduler, and how it ended."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from fleet.auth.dependencies import ActorDep
from fleet.core.access import Permission
from fleet.core.paging import Page, fetch_page
from fleet.core.requests import SessionDep
from fleet.jobs.models import JobRun, JobRunPublic, Outcome

router = APIRouter(tags=["jobs"])


@router.get("/jobs/runs", response_model=Page[JobRunPublic])
def list_runs(
    session: SessionDep,
    actor: ActorDep,
    job: Annotated[str | None, Query(description="Only this job, e.g. scoring.score.")] = None,
    outcome: Outcome | None = None,
    sort: Annotated[str | None, Query(description="started_at or -started_at (default).")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[JobRunPublic]:
    """Runs of the scheduled jobs, newest first: one row per attempt, with counts and the
    error of a failed one (admins only)."""
    actor.require(Permission.run_jobs)
    stmt = select(JobRun)
    if job:
        stmt = stmt.where(col(JobRun.job) == job)
    if outcome:
        stmt = stmt.where(col(JobRun.outcome) == outcome)
    rows, total = fetch_page(
        session,
        stmt,
        model=JobRun,
        sort=sort or "-started_at",
        sortable={"started_at", "job", "outcome"},
        limit=limit,
        offset=offset,
    )
    items = [JobRunPublic.model_validate(r, from_attributes=True) for r in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)
