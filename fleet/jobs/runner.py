"""Runs a job: under the database lease, recording each attempt, retrying with backoff."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, col

from fleet.core import metrics
from fleet.core.config import Settings, get_settings
from fleet.core.db import separate_transaction, utcnow
from fleet.core.errors import NotFound
from fleet.core.jobs import Job, JobResult
from fleet.jobs import lock
from fleet.jobs.models import JobRun, Outcome

log = logging.getLogger(__name__)


def registry(engine: Engine, settings: Settings | None = None) -> dict[str, Job]:
    """Every job by name: the fixed ones and one pull per enabled feed source (fleet.wiring)."""
    from fleet import wiring  # the list of every domain's jobs sits above this module

    return wiring.jobs(engine, settings or get_settings())


def get_job(engine: Engine, name: str) -> Job:
    jobs = registry(engine)
    if name not in jobs:
        raise NotFound("no job {name}; jobs: {jobs}", name=repr(name), jobs=", ".join(sorted(jobs)))
    return jobs[name]


def new_holder() -> str:
    """This scheduler's name in the lock: host, process and a random tag."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_holder(scheduler: str) -> str:
    """The name one run holds the lease under: its scheduler's, and a tag of its own (after a
    slash, so that the process id stays the second field)."""
    return f"{scheduler[:193]}/{uuid.uuid4().hex[:6]}"


def _start(engine: Engine, job: Job, holder: str, attempt: int, trigger: str) -> int:
    with separate_transaction(engine) as session:
        run = JobRun(job=job.name, holder=holder[:200], attempt=attempt, trigger=trigger)
        session.add(run)
        session.flush()
        return run.id or 0


def mark_interrupted(engine: Engine, name: str, holder: str) -> None:
    """Records the runs a dead scheduler left unfinished as failed."""
    with separate_transaction(engine) as own:
        conn = own.connection()
        conn.execute(
            update(JobRun)
            .where(
                col(JobRun.job) == name,
                col(JobRun.holder) == holder[:200],
                col(JobRun.outcome) == Outcome.running,
            )
            .values(
                outcome=Outcome.failed,
                finished_at=utcnow(),
                error="interrupted: its scheduler stopped mid-run; the firing was run again",
            )
        )


def _end(engine: Engine, run_id: int, outcome: Outcome, **values: object) -> None:
    with separate_transaction(engine) as own:
        conn = own.connection()
        _end_in(conn, run_id, outcome, **values)


def _end_in(conn: Connection, run_id: int, outcome: Outcome, **values: object) -> None:
    conn.execute(
        update(JobRun)
        .where(col(JobRun.id) == run_id)
        .values(outcome=outcome, finished_at=utcnow(), **values)
    )


def run_job(
    engine: Engine,
    job: Job,
    *,
    holder: str | None = None,
    key: str | None = None,
    trigger: str = "manual",
    attempts: int | None = None,
    backoff: float | None = None,
    lease_seconds: float | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> JobRun | None:
    """Runs `job` if it gets its lease (else None: another run has it, or the firing `key` is
    not later than the last one done). `holder` names the scheduler; the run holds the lease
    under a name of its own made from it (run_holder). A failing attempt is recorded and
    retried after backoff, doubling each time, at most `attempts` times; the last run is
    returned."""
    settings = get_settings()
    # The lease is this run's, not its scheduler's: two threads of one scheduler (its take-over
    # beat and a firing) must not both pass the lease as its holder, nor release each other's.
    holder = run_holder(holder or new_holder())
    attempts = max(1, attempts or settings.job_attempts)
    backoff = settings.job_backoff_seconds if backoff is None else backoff
    lease = lease_seconds or settings.job_lease_seconds
    if not lock.acquire(engine, job.name, holder, lease_seconds=lease, key=key):
        log.info("job %s: held by another scheduler or already run; skipped", job.name)
        return None
    last_id = 0
    try:
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                sleep(backoff * 2 ** (attempt - 2))
                # Renew the lease; if it ran out meanwhile and another took it over, stop.
                if not lock.acquire(engine, job.name, holder, lease_seconds=lease, key=key):
                    break
            last_id = _start(engine, job, holder, attempt, trigger)
            started = time.perf_counter()
            try:
                with _renewing(engine, job.name, holder, lease, key):
                    result = job.run(engine)
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"
                _end(engine, last_id, Outcome.failed, error=error[:2000])
                metrics.JOB_RUNS.labels(job=job.name, outcome="failed").inc()
                log.error(
                    "job %s attempt %d of %d failed: %s\n%s",
                    job.name,
                    attempt,
                    attempts,
                    error,
                    traceback.format_exc(limit=5),
                )
                continue
            _finish(engine, last_id, job, result, time.perf_counter() - started, holder, key)
            break
    finally:
        lock.release(engine, job.name, holder, done_key=key)
    with Session(engine) as session:
        return session.get(JobRun, last_id) if last_id else None


@contextmanager
def _renewing(
    engine: Engine, name: str, holder: str, lease: float, key: str | None
) -> Iterator[None]:
    """Renews the lease every third of its length while the job runs: a long job keeps it, and
    only a dead scheduler's lease runs out (then another takes the firing over)."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease / 3):
            try:
                if not lock.acquire(engine, name, holder, lease_seconds=lease, key=key):
                    # Renewed too late (this process starved): another scheduler has taken
                    # the firing over. The job cannot be stopped from here; its end is not
                    # recorded as the firing's (_finish).
                    log.warning("job %s: lost its lease while running; taken over", name)
                    return
            except Exception:  # the database is away: try again at the next beat
                log.warning("job %s: could not renew its lease", name, exc_info=True)

    beat = threading.Thread(target=renew, name=f"lease-{name}", daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()


def _finish(
    engine: Engine,
    run_id: int,
    job: Job,
    result: JobResult,
    seconds: float,
    holder: str,
    key: str | None,
) -> None:
    message = result.message or ""
    # The success and the firing's "done" in one transaction: a scheduler killed between two
    # would leave a succeeded run whose firing another scheduler then takes over and runs again.
    outcome = Outcome.failed if result.error else Outcome.succeeded
    error = result.error
    with separate_transaction(engine) as own:
        conn = own.connection()
        # Only while the lease is still this run's: if it ran out (renewals late, the process
        # starved) and another scheduler took the firing over, the firing is theirs, and this
        # run, though it got to its end, is not recorded as the firing's success.
        if not lock.release_in(conn, job.name, holder, done_key=key):
            outcome = Outcome.failed
            lost = (
                "lease lost: it ran out before the run ended (renewals late) and "
                f"{lock.holder_of(conn, job.name)} took the firing over"
            )
            log.warning("job %s: %s", job.name, lost)
            error = f"{lost}; {error}" if error else lost
        _end_in(
            conn,
            run_id,
            outcome,
            counts=result.counts,
            message=message[:1000],
            **({"error": error[:2000]} if error else {}),
        )
    metrics.JOB_RUNS.labels(job=job.name, outcome=outcome.value).inc()
    log.info("job %s %s in %.1f s: %s %s", job.name, outcome.value, seconds, result.counts, message)
