"""Each scheduled firing runs to the end once, whatever the timing of the schedulers: one that
was slow to ask for a firing another has long finished, two threads of one scheduler (its
take-over beat and its cron firing) after the same firing, and one whose lease ran out while it
was still running (starved of CPU, its renewals late) and whose firing was taken over.

The interleavings are made by hand (a job that waits on an event, a lease set to have run
out), not left to sleeps and luck.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.db import session_scope, utcnow
from fleet.core.jobs import Job, JobResult
from fleet.jobs import lock, runner
from fleet.jobs.models import JobLock, JobRun, Outcome

F = "2026-12-07T09:40:56"
G = "2026-12-07T09:40:58"
H = "2026-12-07T09:41:00"
SCHEDULER = "vm:4242:abcd1234"  # one scheduler process: its beat and its firings share it


def runs(engine: Engine, name: str) -> list[JobRun]:
    with Session(engine) as session:
        stmt = select(JobRun).where(col(JobRun.job) == name).order_by(col(JobRun.id))
        return list(session.execute(stmt).scalars())


def succeeded(engine: Engine, name: str) -> list[str]:
    return [r.trigger for r in runs(engine, name) if r.outcome is Outcome.succeeded]


def fire(engine: Engine, job: Job, holder: str, key: str | None = None) -> JobRun | None:
    """A run of `job` for firing `key` (recorded with it, as the scheduler does), or by hand."""
    return runner.run_job(engine, job, holder=holder, key=key, trigger=key or "manual", attempts=1)


def quick(name: str, calls: list[str]) -> Job:
    def run(engine: Engine) -> JobResult:
        calls.append(name)
        return JobResult({"done": 1})

    return Job(name, run, "*/2 * * * * *")


class Gated:
    """A job that, once started, waits until the test lets it finish."""

    def __init__(self, name: str) -> None:
        self.started = threading.Event()
        self.finish = threading.Event()
        self.job = Job(name, self._run, "*/2 * * * * *")

    def _run(self, engine: Engine) -> JobResult:
        self.started.set()
        assert self.finish.wait(30), "the test never let the job finish"
        return JobResult({"done": 1})


@contextmanager
def running(
    engine: Engine, gated: Gated, holder: str, key: str, lease: float = 60
) -> Iterator[list[JobRun | None]]:
    """Runs `gated` for firing `key` in a thread and yields while it is in the middle of its
    run; on leaving, lets it finish and waits for it. The list gets run_job's answer."""
    answer: list[JobRun | None] = []

    def run() -> None:
        answer.append(
            runner.run_job(
                engine,
                gated.job,
                holder=holder,
                key=key,
                trigger=key,
                attempts=1,
                lease_seconds=lease,
            )
        )

    thread = threading.Thread(target=run)
    thread.start()
    try:
        assert gated.started.wait(30), "the job did not start"
        yield answer
    finally:
        gated.finish.set()
        thread.join(30)
    assert not thread.is_alive()


def lease_runs_out(engine: Engine, name: str) -> None:
    """As if the holder's renewals had all come late (its process starved of CPU)."""
    with session_scope(engine) as session:
        session.connection().execute(
            update(JobLock)
            .where(col(JobLock.name) == name)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def test_a_slow_scheduler_does_not_run_a_firing_finished_before_a_later_one(
    engine: Engine,
) -> None:
    calls: list[str] = []
    job = quick("clean", calls)
    # The fast scheduler runs F, then G, to the end.
    assert fire(engine, job, "fast:1:a", F) is not None
    assert fire(engine, job, "fast:1:a", G) is not None
    # The slow one named firing F (firing_of) before it was held up; it asks only now.
    assert fire(engine, job, "slow:2:b", F) is None
    assert fire(engine, job, "slow:2:b", G) is None
    assert calls == ["clean", "clean"] and succeeded(engine, "clean") == [F, G]
    # A later firing, and a run by hand (no firing), still run.
    assert fire(engine, job, "slow:2:b", H) is not None
    assert fire(engine, job, "slow:2:b") is not None
    assert calls == ["clean"] * 4


def test_firings_by_the_minute_and_by_the_second_are_ordered_by_their_time(
    engine: Engine,
) -> None:
    # A schedule changed from every few seconds to every minute: keys of both precisions.
    assert lock.acquire(engine, "j", "a", lease_seconds=60, key="2026-12-07T09:41")
    lock.release(engine, "j", "a", done_key="2026-12-07T09:41")
    assert not lock.acquire(engine, "j", "b", lease_seconds=60, key="2026-12-07T09:40:58")
    assert not lock.acquire(engine, "j", "b", lease_seconds=60, key="2026-12-07T09:41:00")
    assert lock.acquire(engine, "j", "b", lease_seconds=60, key="2026-12-07T09:41:02")
    lock.release(engine, "j", "b", done_key="2026-12-07T09:41:02")
    assert not lock.acquire(engine, "j", "c", lease_seconds=60, key="2026-12-07T09:41")
    assert lock.acquire(engine, "j", "c", lease_seconds=60, key="2026-12-07T09:42")


def test_a_dead_schedulers_firing_is_taken_over_once_even_by_a_late_second_try(
    engine: Engine,
) -> None:
    calls: list[str] = []
    job = quick("clean", calls)
    # F was done; a scheduler took G and died mid-run: its lease has run out.
    with session_scope(engine) as session:
        session.add(
            JobLock(
                name="clean",
                holder="dead:9:x",
                expires_at=utcnow() - timedelta(seconds=1),
                run_key=G,
                done_key=F,
            )
        )
    # Until G is taken over, a later firing may not overwrite (and so lose) it.
    assert fire(engine, job, "live:1:a", H) is None
    taken = fire(engine, job, "live:1:a", G)
    assert taken is not None and taken.outcome is Outcome.succeeded
    assert fire(engine, job, "live:1:a", H) is not None
    # A second take-over of G whose list of orphans was read before the first took it (the
    # other scheduler, or this one's other thread): G is done, and older than the last done.
    assert fire(engine, job, "live:2:b", G) is None
    assert calls == ["clean", "clean"] and succeeded(engine, "clean") == [G, H]


def test_two_threads_of_one_scheduler_do_not_both_hold_the_lease(engine: Engine) -> None:
    # The take-over beat and a cron firing run in threads of one process, under one name.
    gated = Gated("clean")
    calls: list[str] = []
    with running(engine, gated, SCHEDULER, G) as first:
        assert fire(engine, quick("clean", calls), SCHEDULER, G) is None
        assert fire(engine, quick("clean", calls), SCHEDULER, H) is None
        assert fire(engine, quick("clean", calls), SCHEDULER) is None
    assert first[0] is not None and first[0].outcome is Outcome.succeeded
    assert calls == [] and succeeded(engine, "clean") == [G]
    with Session(engine) as session:
        row = session.get(JobLock, "clean")
        assert row is not None and row.done_key == G


def test_a_run_whose_lease_ran_out_and_was_taken_over_is_not_recorded_succeeded(
    engine: Engine,
) -> None:
    gated = Gated("clean")
    calls: list[str] = []
    with running(engine, gated, "starved:1:a", G) as first:
        lease_runs_out(engine, "clean")
        # The other scheduler sees an orphan and takes the firing over; it runs to the end.
        taken = fire(engine, quick("clean", calls), "other:2:b", G)
        assert taken is not None and taken.outcome is Outcome.succeeded
    # The starved run then ends too, but the firing is no longer its: recorded as such.
    late = first[0]
    assert late is not None and late.outcome is Outcome.failed
    assert late.error is not None and "lease" in late.error and "other:2:b" in late.error
    assert succeeded(engine, "clean") == [G]
    with Session(engine) as session:
        row = session.get(JobLock, "clean")
        assert row is not None and row.holder.startswith("other:2:b") and row.done_key == G


def test_a_run_whose_lease_ran_out_unnoticed_still_finishes_its_firing(engine: Engine) -> None:
    # Renewals late but nobody took the firing: the run is still the firing's only one.
    gated = Gated("clean")
    with running(engine, gated, "starved:1:a", G) as first:
        lease_runs_out(engine, "clean")
    assert first[0] is not None and first[0].outcome is Outcome.succeeded
    with Session(engine) as session:
        row = session.get(JobLock, "clean")
        assert row is not None and row.done_key == G
    assert fire(engine, quick("clean", []), "other:2:b", G) is None
