"""`fleet scheduler`: fires every job on its cron line. Run as many as you like: the database
lease lets one of them run each firing, and takes a dead one's job over when its lease ends."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.engine import Engine

from fleet.core.config import get_settings
from fleet.feeds.sources import cron_trigger
from fleet.jobs import runner

log = logging.getLogger(__name__)
REFRESH = "_refresh"
MISFIRE_GRACE_MINUTES = 15  # a firing missed (scheduler busy or down) runs up to this late


def firing_of(schedule: str, now: datetime | None = None) -> str:
    """The firing a scheduler runs now: the latest time of `schedule` at or before `now` (local
    minute), so that a scheduler firing late (up to the misfire grace) still names the same
    firing as the one on time, and does not run it again."""
    trigger = cron_trigger(schedule)
    now = now or datetime.now(trigger.timezone)
    latest = None
    at = trigger.get_next_fire_time(None, now - timedelta(minutes=MISFIRE_GRACE_MINUTES + 1))
    while at is not None and at <= now:
        latest = at
        at = trigger.get_next_fire_time(at, at + timedelta(seconds=1))
    return (latest or now).astimezone(trigger.timezone).strftime("%Y-%m-%dT%H:%M")


def fire(engine: Engine, name: str, holder: str, schedule: str) -> None:
    """One scheduled firing: looks the job up afresh (a source may have changed) and runs it."""
    jobs = runner.registry(engine)
    if name not in jobs:
        log.info("job %s no longer exists; skipped", name)
        return
    key = firing_of(schedule)
    runner.run_job(engine, jobs[name], holder=holder, key=key, trigger="schedule")


def refresh(scheduler: BaseScheduler, engine: Engine, holder: str) -> dict[str, str]:
    """Brings the scheduler's jobs in line with the registry: feed sources added, changed,
    disabled or deleted since the start. Returns {job name: cron line} as scheduled."""
    wanted = {n: j.schedule for n, j in runner.registry(engine).items() if j.schedule}
    current = {j.id: j for j in scheduler.get_jobs() if j.id != REFRESH}
    for name, job in current.items():
        if name not in wanted or job.kwargs.get("schedule") != wanted[name]:
            scheduler.remove_job(name)
    remaining = {j.id for j in scheduler.get_jobs()}
    for name, schedule in wanted.items():
        if name in remaining:
            continue
        try:
            trigger = cron_trigger(schedule or "")
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
    for name, schedule in sorted(scheduled.items()):
        log.info("scheduled %s at %r", name, schedule)
    return scheduler
