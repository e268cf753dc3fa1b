"""Feed jobs: each enabled source is pulled on its own cron line (`feeds.pull.<id>`);
`feeds.pull` pulls them all at once, by hand."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.config import Settings
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
        return JobResult(counts | {"ingest_run": report.run_id})

    return Job(name=name, run=run, doc=f"pull feed source {source_id}")


def pull_all(engine: Engine) -> JobResult:
    """Pulls every enabled source once; one failing source fails the run after the others."""
    totals = {"sources": 0, "received": 0, "accepted": 0, "duplicate": 0, "rejected": 0}
    failed: list[str] = []
    for source_id, source_name, _ in _enabled(engine):
        try:
            counts = pull_one(source_id).run(engine).counts
        except Exception as exc:
            failed.append(f"{source_name}: {exc}")
            continue
        totals["sources"] += 1
        for key in ("received", "accepted", "duplicate", "rejected"):
            totals[key] += int(counts[key])
    if failed:
        raise RuntimeError("; ".join(failed))
    return JobResult(totals)


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    pulls = []
    for source_id, source_name, schedule in _enabled(engine):
        job = pull_one(source_id)
        pulls.append(Job(job.name, job.run, schedule, f"pull feed source {source_name}"))
    return [Job("feeds.pull", pull_all, None, "pull every enabled feed source now"), *pulls]
