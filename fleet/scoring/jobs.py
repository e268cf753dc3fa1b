"""Nightly re-scoring of every deployed unit, as of today where the bank is."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from fleet.core.config import Settings
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.core.jobs import Job, JobResult
from fleet.scoring import service as scoring


def score_today(engine: Engine) -> JobResult:
    with session_scope(engine) as session:
        summary = scoring.score(session, as_of=scoring.today_local())
    return JobResult(
        {"terminals": summary.terminals, **summary.by_status},
        f"scored as of {summary.as_of} in {summary.seconds:.1f} s",
    )


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    return [
        Job(
            "scoring.score",
            score_today,
            settings.job_score_schedule,
            Reason("re-score as of today"),
        )
    ]
