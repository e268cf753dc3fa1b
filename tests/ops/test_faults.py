"""Faults with real processes: PostgreSQL restarted under a running `fleet serve`, and two
`fleet scheduler` processes on one database, one of them killed mid-run.

(An ingest killed mid-way is tests/feeds/test_kill.py.) The PostgreSQL tests run a private
cluster of their own, so the shared server other tests use is never disturbed; they run
with the PostgreSQL suite, the SQLite scheduler test with the SQLite suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from fleet.core.db import make_engine, session_scope, utcnow
from fleet.migrations import upgrade
from tests import factories
from tests.conftest import TEST_URL
from tests.ops.processes import PrivatePostgres, fleet_process, free_port, postgres_bin, wait_until

pytestmark = pytest.mark.slow
ON_POSTGRES = TEST_URL.startswith("postgresql")


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/*/bin) are not installed")
    cluster = PrivatePostgres(bin_dir)
    try:
        cluster.start()
        cluster.create_database()
        upgrade(cluster.url)
        yield cluster
    finally:
        cluster.destroy()


@contextmanager
def _engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


# -- PostgreSQL restarted during requests ------------------------------------------------------


class Traffic(threading.Thread):
    """Creates terminals FT00000, FT00001, ... one request after another, as a client would,
    recording each answer (status, body, seconds) or the exception."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base, headers=headers, timeout=15)
        self.answers: list[tuple[str, int, Any, float, float]] = []  # sn, status, body, at, s
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            sn = f"FT{n:05d}"
            n += 1
            started = time.monotonic()
            try:
                answer = self.client.post(
                    "/api/v1/terminals", json={"sn": sn, "model": "T100", "branch_code": "A1"}
                )
            except httpx.HTTPError as exc:
                self.failures.append(f"{sn}: {type(exc).__name__}: {exc}")
                continue
            body = (
                answer.json()
                if answer.headers.get("content-type") == "application/json"
                else answer.text
            )
            self.answers.append((sn, answer.status_code, body, started, time.monotonic() - started))
            time.sleep(0.02)

    def acknowledged_since(self, moment: float) -> int:
        return sum(1 for _, status, _, at, _ in list(self.answers) if status == 201 and at > moment)


@pytest.mark.skipif(not ON_POSTGRES, reason="runs once, with the PostgreSQL suite")
def test_a_postgres_restart_fails_requests_cleanly_and_the_service_recovers(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = private_postgres.url
    with _engine(url) as engine, session_scope(engine) as session:
        factories.two_branches(session)
    port = free_port()
    server = fleet_process(
        ["serve", "--port", str(port)], {"FLEET_DATABASE_URL": url}, tmp_path / "serve.log"
    )
    base = f"http://127.0.0.1:{port}"
    traffic: Traffic | None = None
    try:
        wait_until(lambda: _answers(f"{base}/healthz") == 200, 60, "fleet serve to start")
        token = httpx.post(
            f"{base}/api/v1/auth/token",
            data={"username": "admin", "password": factories.PASSWORD},
        ).json()["access_token"]
        traffic = Traffic(base, {"Authorization": f"Bearer {token}"})
        traffic.start()
        wait_until(lambda: traffic.acknowledged_since(0) >= 10, 60, "writes before the outage")

        private_postgres.stop()
        down_at = time.monotonic()
        wait_until(lambda: _statuses_since(traffic, down_at) >= 5, 30, "requests in the outage")
        readyz = httpx.get(f"{base}/readyz", timeout=15)
        healthz = httpx.get(f"{base}/healthz", timeout=15)
        restarting_at = time.monotonic()
        private_postgres.start()
        up_at = time.monotonic()
        wait_until(lambda: traffic.acknowledged_since(up_at) >= 5, 30, "writes after the restart")
    finally:
        if traffic is not None:
            traffic.stop.set()
            traffic.join(timeout=30)
        server_alive = server.poll() is None
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    log = (tmp_path / "serve.log").read_text(errors="replace")

    # During the outage: answers, quickly, each a clean 503 in the error JSON; no 500.
    assert traffic.failures == []
    outage = [a for a in traffic.answers if down_at <= a[3] < restarting_at]
    assert outage and all(status == 503 for _, status, *_ in outage), outage[:5]
    assert all(body["error"]["code"] == "unavailable" for _, _, body, *_ in outage)
    assert max(seconds for *_, seconds in traffic.answers) < 10
    assert {status for _, status, *_ in traffic.answers} <= {201, 503}
    assert readyz.status_code == 503 and readyz.json()["status"] == "unavailable"
    assert healthz.status_code == 503 and healthz.json()["error"]["code"] == "unavailable"
    assert "Traceback" not in log
    # The same server process answers again once the database is back: every request sent
    # after that succeeds (stale pooled connections are checked before use, not handed out).
    assert server_alive
    after = [status for _, status, _, at, _ in traffic.answers if at >= up_at]
    assert after and set(after) == {201}

    # Every acknowledged write is stored once; nothing refused is stored.
    acknowledged = {sn for sn, status, *_ in traffic.answers if status == 201}
    refused = {sn for sn, status, *_ in traffic.answers if status == 503}
    with _engine(url) as engine, engine.connect() as conn:
        stored = Counter(
            conn.execute(text("SELECT sn FROM terminal WHERE sn LIKE 'FT%'")).scalars()
        )
        audited = Counter(
            conn.execute(
                text(
                    "SELECT entity_id FROM audit_log WHERE entity = 'terminal' "
                    "AND action = 'create' AND entity_id LIKE 'FT%'"
                )
            ).scalars()
        )
    assert set(stored) == acknowledged
    assert set(stored).isdisjoint(refused)
    assert set(stored.values()) == {1} and set(audited.values()) == {1}
    assert set(audited) == acknowledged


def _answers(url: str) -> int:
    try:
        return httpx.get(url, timeout=2).status_code
    except httpx.HTTPError:
        return 0


def _statuses_since(traffic: Traffic, moment: float) -> int:
    return sum(1 for *_, at, _ in list(traffic.answers) if at > moment)


# -- Two schedulers on one database, one killed mid-run ------------------------------------


EVERY_SECONDS = 2
LEASE_SECONDS = 4


def _scheduler_env(url: str) -> dict[str, str]:
    """Only the clean-up job, every EVERY_SECONDS; a short lease, so that a dead scheduler's
    firing is taken over within seconds."""
    quiet = {f"FLEET_JOB_{name}_SCHEDULE": "" for name in ("SCORE", "REVISITS", "SWEEP", "OVERDUE")}
    return {
        **quiet,
        "FLEET_DATABASE_URL": url,
        "FLEET_JOB_CLEANUP_SCHEDULE": f"*/{EVERY_SECONDS} * * * * *",
        "FLEET_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "FLEET_JOB_ATTEMPTS": "1",
    }


def _runs(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT trigger, holder, outcome, error FROM job_run WHERE job = 'cleanup'")
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def _holder_running(engine: Engine) -> tuple[str, str] | None:
    """(holder, firing) of the clean-up lease while it runs a firing, else None."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT holder, expires_at, run_key, done_key FROM job_lock WHERE name = 'cleanup'"
            )
        ).first()
    if row is None or row[2] is None or row[2] == row[3]:
        return None
    return str(row[0]), str(row[2])


def _pid_of(holder: str) -> int:
    return int(holder.split(":")[-2])


@pytest.mark.parametrize("backend", ["postgresql" if ON_POSTGRES else "sqlite"])
def test_two_scheduler_processes_run_each_firing_once_and_survive_a_kill(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgresql":
        url = request.getfixturevalue("private_postgres").url
    else:
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
        upgrade(url)
    env = _scheduler_env(url)
    schedulers = [
        fleet_process(["scheduler"], env, tmp_path / f"scheduler{i}.log") for i in range(2)
    ]
    pids = {p.pid for p in schedulers}
    with _engine(url) as engine:
        try:
            # Both run side by side for a while: every firing by one of them.
            wait_until(lambda: len(_runs(engine)) >= 6, 60, "runs by both schedulers")
            together_until = utcnow()
            # Kill whichever holds the lease while it runs a firing (mid-run), with SIGKILL:
            # no clean-up, its lease stays until it runs out.
            running: tuple[str, str] | None = None

            def caught() -> bool:
                nonlocal running
                running = _holder_running(engine)
                if running is None or _pid_of(running[0]) not in pids:
                    return False
                # The run read as going may end before a kill lands (it takes milliseconds):
                # freeze its process, and look again once a commit it had sent has landed.
                frozen = _pid_of(running[0])
                os.kill(frozen, signal.SIGSTOP)
                time.sleep(0.5)
                if _holder_running(engine) == running:
                    return True
                os.kill(frozen, signal.SIGCONT)
                return False

            wait_until(caught, 60, "a scheduler in the middle of a run", poll=0.002)
            assert running is not None
            victim_holder, victim_firing = running
            victim = next(p for p in schedulers if p.pid == _pid_of(victim_holder))
            os.kill(victim.pid, signal.SIGKILL)
            killed_at = utcnow()
            victim.wait(timeout=10)
            # It died in the middle of that run: its firing is left unfinished, to be taken over.
            assert _holder_running(engine) == running
            survivor = next(p for p in schedulers if p is not victim)
            # The survivor carries on alone: after the lease runs out, firing after firing.
            time.sleep(LEASE_SECONDS + 4 * EVERY_SECONDS)
            assert survivor.poll() is None, "the surviving scheduler stopped"
            runs = _runs(engine)
        finally:
            for p in schedulers:
                if p.poll() is None:
                    p.send_signal(signal.SIGINT)
            for p in schedulers:
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()

    succeeded = Counter(trigger for trigger, _, outcome, _ in runs if outcome == "succeeded")
    # Each firing ran to the end exactly once: never twice, whoever fired it.
    assert succeeded and max(succeeded.values()) == 1, succeeded
    # Both schedulers ran firings while both were up.
    assert len({holder for _, holder, _, _ in runs}) >= 2
    # The firing the victim was killed in was taken over and ran to the end once; a run it
    # had recorded is marked interrupted (it may have died before recording one).
    assert succeeded[victim_firing] == 1, (victim_firing, runs)
    taken_by = [h for t, h, o, _ in runs if t == victim_firing and o == "succeeded"]
    assert _pid_of(taken_by[0]) == survivor.pid, (victim_firing, runs)
    unfinished = [r for r in runs if r[2] != "succeeded"]
    assert all(r[1] == victim_holder and r[0] == victim_firing for r in unfinished), runs
    assert all(r[2] == "failed" and "interrupted" in (r[3] or "") for r in unfinished), runs
    # Nothing lost: every firing from the start to the end ran, except those that fell while
    # the dead scheduler's lease still ran (coalesced into the firing taken over, as a busy
    # scheduler coalesces missed firings).
    zone_start = killed_at - timedelta(seconds=EVERY_SECONDS)
    zone_end = killed_at + timedelta(seconds=LEASE_SECONDS + EVERY_SECONDS)
    firings = sorted(succeeded)
    expected = _firings_between(firings[0], firings[-1])
    missing = [f for f in expected if f not in succeeded and not zone_start <= _utc(f) <= zone_end]
    assert missing == [], (missing, together_until, killed_at)
    assert "Traceback" not in (tmp_path / "scheduler0.log").read_text(errors="replace")
    assert "Traceback" not in (tmp_path / "scheduler1.log").read_text(errors="replace")


def _utc(firing: str) -> Any:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from fleet.core.config import get_settings

    local = datetime.strptime(firing, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=ZoneInfo(get_settings().feed_timezone)
    )
    return local.astimezone(utcnow().tzinfo)


def _firings_between(first: str, last: str) -> list[str]:
    from datetime import datetime

    start = datetime.strptime(first, "%Y-%m-%dT%H:%M:%S")
    end = datetime.strptime(last, "%Y-%m-%dT%H:%M:%S")
    out = []
    while start <= end:
        out.append(start.strftime("%Y-%m-%dT%H:%M:%S"))
        start += timedelta(seconds=EVERY_SECONDS)
    return out
