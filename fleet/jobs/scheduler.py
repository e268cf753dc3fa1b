"""`fleet scheduler`: fires every job on its cron line. Run as many as you like: the database
lease lets one of them run each firing, and takes a dead one's job over when its lease ends."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.feeds.sources import cron_trigger
from fleet.jobs import runner
from fleet.jobs.models import JobLock

log = logging.getLogger(__name__)
REFRESH = "_refresh"
TAKEOVER = "_take_over"
MISFIRE_GRACE_MINUTES = 15  # a firing missed (scheduler busy or down) runs up to this late


def job_trigger(schedule: str) -> CronTrigger:
    """The trigger of a job's cron line: 5 fields (minute first), or 6 with seconds first
    ("*/5 * * * * *": every 5 s) for jobs that must fire more often than once a minute."""
    fields = schedule.split()
    if len(fields) != 6:
        return cron_trigger(schedule)
    minute_based = cron_trigger(" ".join(fields[1:]))  # checks the other fields as usual
    return CronTrigger(
        second=fields[0],
        minute=fields[1],
        hour=fields[2],
        day=fields[3],
        month=fields[4],
        day_of_week=fields[5],
        timezone=minute_based.timezone,
    )


def firing_of(schedule: str, now: datetime | None = None) -> str:
    """The firing a scheduler runs now: the latest time of `schedule` at or before `now` (local
    minute, or second for a 6-field line), so that a scheduler firing late (up to the misfire
    grace) still names the same firing as the one on time, and does not run it again."""
    trigger = job_trigger(schedule)
    now = now or datetime.now(trigger.timezone)
    latest = None
    at = trigger.get_next_fire_time(None, now - timedelta(minutes=MISFIRE_GRACE_MINUTES + 1))
    while at is not None and at <= now:
        latest = at
        at = trigger.get_next_fire_time(at, at + timedelta(seconds=1))
    precision = "%Y-%m-%dT%H:%M:%S" if len(schedule.split()) == 6 else "%Y-%m-%dT%H:%M"
    return (latest or now).astimezone(trigger.timezone).strftime(precision)


def fire(engine: Engine, name: str, holder: str, schedule: str) -> None:
    """One scheduled firing: looks the job up afresh (a source may have changed) and runs it."""
    jobs = runner.registry(engine)
    if name not in jobs:
        log.info("job %s no longer exists; skipped", name)
        return
    # A firing left unfinished by a dead scheduler first: the lease refuses newer ones until then.
    take_over(engine, holder)
    key = firing_of(schedule)
    # The run records its firing: an admin sees which night's run it was.
    runner.run_job(engine, jobs[name], holder=holder, key=key, trigger=key)


def take_over(engine: Engine, holder: str) -> list[str]:
    """Runs again each firing whose scheduler died in the middle of it: its lease ran out (a
    live scheduler renews it) before the firing was marked done. The dead run is recorded as
    failed. Returns the firings taken over, as "job@firing"."""
    now = utcnow()
    with Session(engine) as session:
        orphans = (
            session.execute(
                select(JobLock).where(
                    col(JobLock.expires_at) < now,
                    col(JobLock.run_key).is_not(None),
                    or_(
                        col(JobLock.done_key).is_(None),
                        col(JobLock.done_key) != col(JobLock.run_key),
                    ),
                )
            )
            .scalars()
            .all()
        )
    jobs = runner.registry(engine)
    taken: list[str] = []
    for orphan in orphans:
        if orphan.name not in jobs or orphan.run_key is None:
            continue
        firing = orphan.run_key
        ran = runner.run_job(engine, jobs[orphan.name], holder=holder, key=firing, trigger=firing)
        if ran is None:
            continue  # another scheduler was quicker
        runner.mark_interrupted(engine, orphan.name, orphan.holder)
        log.warning("job %s: took over firing %s from %s", orphan.name, firing, orphan.holder)
        taken.append(f"{orphan.name}@{firing}")
    return taken


def refresh(scheduler: BaseScheduler, engine: Engine, holder: str) -> dict[str, str]:
    """Brings the scheduler's jobs in line with the registry: feed sources added, changed,
    disabled or deleted since the start. Returns {job name: cron line} as scheduled."""
    wanted = {n: j.schedule for n, j in runner.registry(engine).items() if j.schedule}
    current = {j.id: j for j in scheduler.get_jobs() if j.id not in (REFRESH, TAKEOVER)}
    for name, job in current.items():
        if name not in wanted or job.kwargs.get("schedule") != wanted[name]:
            scheduler.remove_job(name)
    remaining = {j.id for j in scheduler.get_jobs()}
    for name, schedule in wanted.items():
        if name in remaining:
            continue
        try:
            trigger = job_trigger(schedule or "")
        except ValueError as exc:
            log.error("job %s: bad schedule %r: %s", name, schedule, exc)
            continue
        scheduler.add_job(
            _fire,
            trigger,
            id=name,
            name=name,
            kwargs={"engine": engine, "name": name, "holder": holder, "schedule": schedule},
            max_instances=1,
            coalesce=True,
            misfire_grace_time=MISFIRE_GRACE_MINUTES * 60,
        )
    return {n: s or "" for n, s in wanted.items()}


def _take_over(engine: Engine, holder: str) -> None:
    try:
        take_over(engine, holder)
    except Exception:  # the database may be away; the next beat tries again
        log.exception("could not look for firings to take over")


def _fire(engine: Engine, name: str, holder: str, schedule: str) -> None:
    try:
        fire(engine, name, holder, schedule)
    except Exception:  # the scheduler must keep going whatever one job does
        log.exception("job %s could not be run", name)


def build(engine: Engine, holder: str | None = None) -> BlockingScheduler:
    """A scheduler with every job and a refresh of the list every 10 minutes."""
    holder = holder or runner.new_holder()
    scheduler = BlockingScheduler(timezone=get_settings().feed_timezone)
    scheduled = refresh(scheduler, engine, holder)
    scheduler.add_job(refresh, "interval", minutes=10, id=REFRESH, args=[scheduler, engine, holder])
    # A dead scheduler's firing is picked up soon after its lease runs out.
    every = max(1.0, get_settings().job_lease_seconds / 2)
    scheduler.add_job(
        _take_over, "interval", seconds=every, id=TAKEOVER, args=[engine, holder], max_instances=1
    )
    for name, schedule in sorted(scheduled.items()):
        log.info("scheduled %s at %r", name, schedule)
    return scheduler
