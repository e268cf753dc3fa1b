"""Clean-up: only what has served its purpose, and only past a configurable age (0 keeps).

Rejected feed lines of ingest runs that finished long ago, old job-run records, and the ids of
signed-out tokens that have expired since. Nothing else is touched: transactions, scores,
audit and the runs themselves stay.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from fleet.auth import service as auth
from fleet.core.config import Settings, get_settings
from fleet.core.db import session_scope, utcnow
from fleet.core.errors import Reason
from fleet.core.jobs import Job, JobResult
from fleet.feeds.models import IngestRun, RejectedRow, RunStatus
from fleet.jobs.models import JobRun, Outcome


def cleanup(engine: Engine) -> JobResult:
    settings = get_settings()
    now = utcnow()
    counts = {"rejected_rows": 0, "job_runs": 0}
    with session_scope(engine) as own:
        conn = own.connection()
        counts["revoked_tokens"] = conn.execute(auth.expired_revocations()).rowcount
        if settings.cleanup_rejected_rows_days > 0:
            before = now - timedelta(days=settings.cleanup_rejected_rows_days)
            old_runs = select(col(IngestRun.id)).where(
                col(IngestRun.status) != RunStatus.running,
                col(IngestRun.finished_at) < before,
            )
            counts["rejected_rows"] = conn.execute(
                delete(RejectedRow).where(col(RejectedRow.ingest_id).in_(old_runs))
            ).rowcount
        if settings.cleanup_job_runs_days > 0:
            before = now - timedelta(days=settings.cleanup_job_runs_days)
            counts["job_runs"] = conn.execute(
                delete(JobRun).where(
                    col(JobRun.started_at) < before, col(JobRun.outcome) != Outcome.running
                )
            ).rowcount
    return JobResult(counts)


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    return [
        Job(
            "cleanup", cleanup, settings.job_cleanup_schedule, Reason("delete old rejects and runs")
        )
    ]
