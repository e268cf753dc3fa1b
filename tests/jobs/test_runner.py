"""The runner: one of several schedulers runs each firing, a dead one's job is taken over,
failures are retried with backoff and recorded, and admins see the runs."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.db import make_engine, session_scope, utcnow
from fleet.core.jobs import Job, JobResult
from fleet.feeds import sources
from fleet.feeds.sources import FeedSourceCreate, FeedSourceUpdate
from fleet.jobs import lock, runner, scheduler
from fleet.jobs.models import JobLock, JobRun, Outcome
from tests import factories
from tests.conftest import TEST_URL
from tests.web.conftest import as_user, sign_in, world

__all__ = ["as_user", "world"]  # fixtures


def runs(engine: Engine, name: str | None = None) -> list[JobRun]:
    with Session(engine) as session:
        stmt = select(JobRun).order_by(col(JobRun.id))
        if name:
            stmt = stmt.where(col(JobRun.job) == name)
        return list(session.execute(stmt).scalars())


def counting_job(name: str, calls: list[str], seconds: float = 0.2) -> Job:
    def run(engine: Engine) -> JobResult:
        calls.append(name)
        time.sleep(seconds)  # long enough for the other scheduler to try while it runs
        return JobResult({"done": 1})

    return Job(name, run, "0 2 * * *")


def race(engines: list[Engine], job: Job, key: str) -> list[JobRun | None]:
    """Each engine's scheduler fires `job` for firing `key` at the same moment, in threads."""
    barrier = threading.Barrier(len(engines))
    results: list[JobRun | None] = []

    def fire(own: Engine, holder: str) -> None:
        barrier.wait()
        results.append(runner.run_job(own, job, holder=holder, key=key, attempts=1))

    threads = [
        threading.Thread(target=fire, args=(e, f"host{i}:1:x")) for i, e in enumerate(engines)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


def test_two_schedulers_firing_at_once_run_each_job_once(engine: Engine) -> None:
    # Two schedulers: separate engines (separate pools, as two processes would have).
    engines = [make_engine(TEST_URL), make_engine(TEST_URL)]
    calls: list[str] = []
    try:
        # Round 1 races on the INSERT of a new lock row; later rounds on the UPDATE of it.
        for firing in ("2026-11-28T02:00", "2026-11-29T02:00", "2026-11-30T02:00"):
            results = race(engines, counting_job("race", calls), firing)
            assert sorted(r is None for r in results) == [False, True]
        # A late scheduler that fires the same minute after the winner finished: already done.
        assert runner.run_job(engine, counting_job("race", calls), key=firing) is None
    finally:
        for e in engines:
            e.dispose()
    assert calls == ["race"] * 3
    recorded = runs(engine, "race")
    assert [(r.outcome, r.attempt, r.counts) for r in recorded] == [
        (Outcome.succeeded, 1, {"done": 1})
    ] * 3


def test_a_crashed_schedulers_job_is_taken_over_when_its_lease_ends(engine: Engine) -> None:
    calls: list[str] = []
    job = counting_job("nightly", calls, seconds=0)
    # A scheduler took the lease for this firing and died: its row stays, lease running.
    with session_scope(engine) as session:
        session.add(
            JobLock(
                name="nightly",
                holder="dead-host:42:abc",
                expires_at=utcnow() + timedelta(minutes=5),
                run_key="2026-11-28T02:00",
            )
        )
    assert runner.run_job(engine, job, holder="live:1:x", key="2026-11-28T02:00") is None
    assert calls == []
    # The lease runs out: the next try of the same firing takes it over and runs the job.
    with session_scope(engine) as session:
        row = session.get(JobLock, "nightly")
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)
    taken = runner.run_job(engine, job, holder="live:1:x", key="2026-11-28T02:00")
    assert taken is not None and taken.outcome is Outcome.succeeded
    assert taken.holder.startswith("live:1:x/") and calls == ["nightly"]
    with Session(engine) as session:
        row = session.get(JobLock, "nightly")
        assert row is not None and row.done_key == "2026-11-28T02:00"
        assert row.expires_at <= utcnow()  # released


def test_the_lease_is_refused_to_others_and_renewed_for_its_holder(engine: Engine) -> None:
    assert lock.acquire(engine, "j", "a", lease_seconds=60)
    assert not lock.acquire(engine, "j", "b", lease_seconds=60)
    assert lock.acquire(engine, "j", "a", lease_seconds=60)
    lock.release(engine, "j", "a")
    assert lock.acquire(engine, "j", "b", lease_seconds=60)


def test_a_failing_job_is_retried_with_backoff_and_each_attempt_recorded(engine: Engine) -> None:
    tries: list[int] = []

    def flaky(engine: Engine) -> JobResult:
        tries.append(1)
        if len(tries) < 3:
            raise RuntimeError(f"feed endpoint down ({len(tries)})")
        return JobResult({"pulled": 7}, "third time lucky")

    waits: list[float] = []
    run = runner.run_job(engine, Job("flaky", flaky), attempts=3, backoff=0.01, sleep=waits.append)
    assert run is not None and run.outcome is Outcome.succeeded and run.attempt == 3
    assert waits == [0.01, 0.02]
    recorded = runs(engine, "flaky")
    assert [(r.attempt, r.outcome) for r in recorded] == [
        (1, Outcome.failed),
        (2, Outcome.failed),
        (3, Outcome.succeeded),
    ]
    assert recorded[0].error == "RuntimeError: feed endpoint down (1)"
    assert recorded[2].counts == {"pulled": 7} and recorded[2].message == "third time lucky"
    assert all(r.finished_at is not None for r in recorded)


def test_a_job_that_keeps_failing_stops_after_its_attempts(engine: Engine) -> None:
    def broken(engine: Engine) -> JobResult:
        raise ValueError("no")

    started = time.perf_counter()
    run = runner.run_job(engine, Job("broken", broken), attempts=2, backoff=0.01)
    assert time.perf_counter() - started < 5
    assert run is not None and run.outcome is Outcome.failed and run.error == "ValueError: no"
    assert [r.attempt for r in runs(engine, "broken")] == [1, 2]
    # The lease is free again for the next firing.
    assert lock.acquire(engine, "broken", "someone-else", lease_seconds=60)


def test_the_scheduler_follows_the_feed_sources(engine: Engine) -> None:
    with session_scope(engine) as session:
        created = sources.create_source(
            session,
            factories.SYSTEM,
            FeedSourceCreate(name="nightly", url="http://127.0.0.1:9/feed", schedule="15 1 * * *"),
        )
    sched = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduled = scheduler.refresh(sched, engine, "me")
    pull = f"feeds.pull.{created.id}"
    assert scheduled[pull] == "15 1 * * *"
    assert {"scoring.score", "visits.revisits", "recovery.sweep", "recovery.overdue"} <= set(
        scheduled
    )
    assert "cleanup" in scheduled and "feeds.pull" not in scheduled  # by hand only
    job = sched.get_job(pull)
    assert str(job.trigger.timezone) == "Asia/Shanghai"
    with session_scope(engine) as session:
        sources.update_source(
            session, factories.SYSTEM, created.id, FeedSourceUpdate(schedule="45 23 * * *")
        )
    scheduler.refresh(sched, engine, "me")
    assert sched.get_job(pull).kwargs["schedule"] == "45 23 * * *"
    with session_scope(engine) as session:
        sources.update_source(
            session, factories.SYSTEM, created.id, FeedSourceUpdate(enabled=False)
        )
    scheduler.refresh(sched, engine, "me")
    assert sched.get_job(pull) is None


def test_admins_see_the_runs(
    engine: Engine, client: TestClient, world: factories.TwoBranches, as_user
) -> None:  # type: ignore[no-untyped-def]
    def broken(engine: Engine) -> JobResult:
        raise ValueError("disk full")

    runner.run_job(engine, Job("broken", broken), attempts=1)
    runner.run_job(engine, Job("fine", lambda e: JobResult({"n": 2})), attempts=1)
    admin = sign_in(client, "admin")
    answer = client.get("/api/v1/jobs/runs", headers=admin)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 2
    assert [(r["job"], r["outcome"]) for r in body["items"]] == [
        ("fine", "succeeded"),
        ("broken", "failed"),
    ]
    failed = client.get("/api/v1/jobs/runs?outcome=failed", headers=admin).json()["items"]
    assert [r["error"] for r in failed] == ["ValueError: disk full"]
    assert client.get("/api/v1/jobs/runs", headers=as_user("branch_ops_a")).status_code == 403


@pytest.mark.parametrize("name", ["nope"])
def test_an_unknown_job_is_named_with_the_known_ones(engine: Engine, name: str) -> None:
    from fleet.core.errors import NotFound

    with pytest.raises(NotFound, match=r"scoring\.score"):
        runner.get_job(engine, name)


def test_a_late_firing_names_the_same_firing_as_the_one_on_time() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    on_time = datetime(2026, 11, 28, 2, 0, 0, 300_000, tzinfo=zone)
    late = datetime(2026, 11, 28, 2, 9, 30, tzinfo=zone)
    assert scheduler.firing_of("0 2 * * *", on_time) == "2026-11-28T02:00"
    assert scheduler.firing_of("0 2 * * *", late) == "2026-11-28T02:00"
    assert scheduler.firing_of("*/5 * * * *", late) == "2026-11-28T02:05"


def test_two_scheduler_processes_firing_a_registered_job_record_one_run(engine: Engine) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    # A cron line whose last firing was two minutes ago: both schedulers fire it (late).
    then = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(minutes=2)
    schedule = f"{then.minute} {then.hour} * * *"
    engines = [make_engine(TEST_URL), make_engine(TEST_URL)]
    barrier = threading.Barrier(2)

    def process(own: Engine, holder: str) -> None:
        barrier.wait()
        scheduler.fire(own, "cleanup", holder, schedule)

    threads = [threading.Thread(target=process, args=(e, f"p{i}")) for i, e in enumerate(engines)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    finally:
        for e in engines:
            e.dispose()
    assert [r.outcome for r in runs(engine, "cleanup")] == [Outcome.succeeded]
