"""Long jobs do not hold the write lock: an approval made while the nightly revisit planning
solves a realistic day (the benchmark's county: 150 candidates, 4 staff, a year of rollups) in
the scheduler's process answers within 2 s. Before, the planning held SQLite's write lock
through the solver: the approval waited for the solver, or answered 503 after 10 s."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.jobs.models import JobRun, Outcome
from fleet.scoring.service import today_local
from fleet.visits import jobs as visit_jobs
from fleet.visits.models import Visit, VisitPlan
from tests import factories
from tests.benchmarks import bench_routes
from tests.ops.processes import FLEET, wait_until
from tests.web.conftest import sign_in

SOLVER_SECONDS = 5.0


def running(engine: Engine) -> bool:
    with session_scope(engine) as session:
        stmt = select(JobRun).where(
            col(JobRun.job) == visit_jobs.NAME, col(JobRun.outcome) == Outcome.running
        )
        return session.execute(stmt).first() is not None


@pytest.fixture
def county(engine: Engine, db_url: str) -> None:
    """The routes benchmark's county, with an operations user who decides recoveries."""
    bench_routes.build(db_url, candidates=150, staff=4, today=today_local())
    with session_scope(engine) as session:
        factories.user(session, "ops_c1", Role.branch_ops, "C1")


def test_an_approval_during_the_nightly_planning_answers_within_2_s(
    engine: Engine, client: TestClient, county: None
) -> None:
    ops = sign_in(client, "ops_c1")
    raised = client.post(
        "/api/v1/recovery/requests", json={"sn": "SN00001", "reason": "商户说用不上"}, headers=ops
    )
    assert raised.status_code == 201, raised.text

    # The scheduler is a process of its own, as in production: `fleet jobs run` is the same run.
    env = os.environ | {"FLEET_REVISIT_SOLVER_SECONDS": str(SOLVER_SECONDS)}
    scheduler = subprocess.Popen(
        [FLEET, "jobs", "run", visit_jobs.NAME, "--attempts", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: running(engine), 60, "the nightly planning to start")
        time.sleep(1.0)  # the day is read and the solver is at work
        asked = time.perf_counter()
        decided = client.post(
            f"/api/v1/recovery/requests/{raised.json()['id']}/decision",
            json={"decision": "approve"},
            headers=ops,
        )
        answered = time.perf_counter() - asked
        still_planning = scheduler.poll() is None
        out, err = scheduler.communicate(timeout=120)
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
    assert scheduler.returncode == 0, out + err
    assert decided.status_code == 200, decided.text
    assert answered < 2.0, f"the approval took {answered:.1f} s"
    assert still_planning, "the planning was over before the approval"
    with session_scope(engine) as session:
        run = session.execute(select(JobRun).where(col(JobRun.job) == visit_jobs.NAME)).scalar_one()
        assert run.outcome is Outcome.succeeded, run.error
        plan = session.execute(select(VisitPlan)).scalar_one()
        assert plan.plan_date == today_local() + timedelta(days=1)
        assert plan.solver_seconds >= 2.0  # a realistic solve, not a stalled small one
        assert session.execute(select(Visit)).first() is not None
