"""Feed jobs: each enabled source is pulled on its own cron line (`feeds.pull.<id>`);
`feeds.pull` pulls them all at once, by hand."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.config import Settings
from fleet.core.errors import Reason
from fleet.core.jobs import Job, JobResult, job_actor
from fleet.feeds import sources
from fleet.feeds.models import FeedSource


def _enabled(engine: Engine) -> list[tuple[int, str, str]]:
    with Session(engine) as session:
        rows = session.execute(
            select(FeedSource.id, FeedSource.name, FeedSource.schedule)
            .where(col(FeedSource.enabled))
            .order_by(col(FeedSource.id))
        ).all()
    return [(int(i or 0), str(n), str(s)) for i, n, s in rows]


def pull_one(source_id: int) -> Job:
    name = f"feeds.pull.{source_id}"

    def run(engine: Engine) -> JobResult:
        report = sources.pull_source(engine, job_actor(name), source_id)
        counts = report.counts()
        counts.pop("rejects_path", None)
        # A pull that failed its verdict fails the job run with the ingest run's own reason.
        error = report.failure.message if report.failure else ""
        return JobResult(counts | {"ingest_run": report.run_id}, error=error)

    return Job(name=name, run=run, doc=Reason("pull feed source {source}", source=source_id))


def pull_all(engine: Engine) -> JobResult:
    """Pulls every enabled source once; one failing source fails the run after the others."""
    totals = {"sources": 0, "received": 0, "accepted": 0, "duplicate": 0, "rejected": 0}
    failed: list[str] = []
    refused: list[str] = []  # pulls that ran but failed their verdict: no retry mends them
    for source_id, source_name, _ in _enabled(engine):
        try:
            result = pull_one(source_id).run(engine)
        except Exception as exc:
            failed.append(f"{source_name}: {exc}")
            continue
        if result.error:
            refused.append(f"{source_name}: {result.error}")
        totals["sources"] += 1
        for key in ("received", "accepted", "duplicate", "rejected"):
            totals[key] += int(result.counts[key])
    if failed:
        raise RuntimeError("; ".join(failed + refused))
    return JobResult(totals, error="; ".join(refused))


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    pulls = []
    for source_id, source_name, schedule in _enabled(engine):
        job = pull_one(source_id)
        pulls.append(
            Job(
                job.name, job.run, schedule, Reason("pull feed source {source}", source=source_name)
            )
        )
    return [Job("feeds.pull", pull_all, None, Reason("pull every enabled feed source now")), *pulls]
