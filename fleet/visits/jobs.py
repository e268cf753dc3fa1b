"""Tomorrow's revisit lists and routes, one plan per county-level branch (its whole subtree)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.config import Settings, get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.core.jobs import Job, JobResult, job_actor
from fleet.inventory.models import Branch, BranchLevel
from fleet.scoring.service import today_local
from fleet.visits import plan as planning

NAME = "visits.revisits"


def plan_tomorrow(engine: Engine) -> JobResult:
    """Plans the next day of every county branch, each in its own transaction; a branch that
    fails does not stop the others, and fails the run after them (the retry re-plans all,
    which keeps visits already done)."""
    settings = get_settings()
    day = today_local(settings) + timedelta(days=1)
    with Session(engine) as session:
        codes = list(
            session.execute(
                select(Branch.code)
                .where(col(Branch.level) == BranchLevel.county)
                .order_by(col(Branch.code))
            ).scalars()
        )
    planned, visits, failed = 0, 0, []
    for code in codes:
        try:
            with session_scope(engine) as session:
                plan = planning.plan_day(
                    session, job_actor(NAME), branch_code=code, plan_date=day, settings=settings
                )
                visits += plan.candidates - len(plan.unplanned)
        except Exception as exc:
            failed.append(f"{code}: {exc}")
            continue
        planned += 1
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(codes)} branches failed: " + "; ".join(failed))
    return JobResult({"branches": planned, "visits": visits}, f"plans for {day}")


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    return [
        Job(NAME, plan_tomorrow, settings.job_revisits_schedule, Reason("next day's revisit lists"))
    ]
