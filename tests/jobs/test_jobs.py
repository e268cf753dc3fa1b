"""What each scheduled job does, on the recovery tests' hand-built region (see its conftest)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core import phrases
from fleet.core.config import get_settings
from fleet.core.db import session_scope, utcnow
from fleet.feeds import sources
from fleet.feeds.models import IngestRun, RejectedRow, RejectReason, RunStatus
from fleet.feeds.sources import FeedSourceCreate
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from fleet.jobs import runner
from fleet.jobs.models import JobRun, Outcome
from fleet.recovery import service as recovery
from fleet.recovery.models import RequestStatus
from fleet.scoring.models import ScoreRun, TerminalScore
from fleet.visits.models import VisitPlan
from tests.factories import SYSTEM
from tests.feeds.pulling import FeedServer, db_state, good_items, world
from tests.recovery.conftest import Region, region
from tests.scoring.util import add_usage, noon

__all__ = ["region", "world"]  # fixtures


def run(engine: Engine, name: str) -> JobRun:
    done = runner.run_job(engine, runner.get_job(engine, name), attempts=1)
    assert done is not None
    assert done.outcome is Outcome.succeeded, done.error
    return done


@pytest.fixture
def quick_solver(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLEET_REVISIT_SOLVER_SECONDS", "0.2")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FLEET_REVISIT_SOLVER_SECONDS")
    get_settings.cache_clear()


def test_scoring_scores_every_deployed_unit_as_of_today(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        session.execute(delete(TerminalScore))
        session.execute(delete(ScoreRun))
    done = run(engine, "scoring.score")
    assert done.counts["terminals"] == 8
    with Session(engine) as session:
        scored = session.execute(
            select(func.count()).where(col(TerminalScore.as_of) == region.today)
        ).scalar_one()
    assert scored == 8
    assert done.message.startswith(f"scored as of {region.today}")


def test_revisits_plans_tomorrow_for_each_county_branch(
    engine: Engine, region: Region, quick_solver: None
) -> None:
    done = run(engine, "visits.revisits")
    assert done.counts["branches"] == 2  # counties A and B; the city and outlets are not
    tomorrow = region.today + timedelta(days=1)
    with Session(engine) as session:
        planned = session.execute(
            select(VisitPlan.branch_id).where(col(VisitPlan.plan_date) == tomorrow)
        ).scalars()
        assert set(planned) == {region.branches["A"], region.branches["B"]}


def test_sweep_cancels_a_request_whose_unit_was_used_again(engine: Engine, region: Region) -> None:
    day = region.today
    with session_scope(engine) as session:
        unit = inventory.terminal_by_sn(session, SYSTEM, "U1")
        request = recovery.raise_request(
            session, SYSTEM, unit, why=phrases.text("沉睡"), at=noon(day - timedelta(10))
        )
        add_usage(session, unit.id, day - timedelta(5), 2)
        request_id = request.id or 0
    done = run(engine, "recovery.sweep")
    assert done.counts == {"completed": 0, "cancelled": 0, "adopted": 0, "used_again": 1}
    with Session(engine) as session:
        got = recovery.get_request(session, SYSTEM, request_id)
        assert got.status is RequestStatus.cancelled
        assert inventory.terminal_by_sn(session, SYSTEM, "U1").state is TerminalState.deployed


def test_overdue_approvals_are_counted_by_branch(engine: Engine, region: Region) -> None:
    day = region.today
    with session_scope(engine) as session:
        for sn, days_ago in (("U1", 10), ("U3", 2), ("UB", 30)):
            recovery.raise_request(
                session,
                SYSTEM,
                inventory.terminal_by_sn(session, SYSTEM, sn),
                why=phrases.text("沉睡"),
                at=noon(day - timedelta(days_ago)),
            )
    done = run(engine, "recovery.overdue")
    assert done.counts["overdue"] == 2
    assert done.counts["by_branch"] == {"A1": 1, "B1": 1}
    assert "2 pending longer than 7 days" in done.message


def test_cleanup_removes_only_what_is_old_enough(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        for days in (400, 10):
            ingest = IngestRun(
                source_kind="file",
                source=f"{days}.csv",
                actor_name="t",
                status=RunStatus.succeeded,
                started_at=now - timedelta(days=days),
                finished_at=now - timedelta(days=days),
            )
            session.add(ingest)
            session.flush()
            session.add(
                RejectedRow(
                    ingest_id=ingest.id or 0, line_no=2, reason=RejectReason.bad_amount, raw="x"
                )
            )
        session.add(JobRun(job="old", holder="h", started_at=now - timedelta(days=200)))
        session.add(
            JobRun(
                job="old",
                holder="h",
                outcome=Outcome.succeeded,
                started_at=now - timedelta(days=200),
            )
        )
    done = run(engine, "cleanup")
    assert done.counts == {"rejected_rows": 1, "job_runs": 1, "revoked_tokens": 0}
    with Session(engine) as session:
        kept = session.execute(select(RejectedRow.ingest_id)).scalars().all()
        assert len(kept) == 1
        # The ingest runs themselves stay, and so does a run still marked running.
        assert session.execute(select(func.count()).select_from(IngestRun)).scalar_one() == 2
        old = session.execute(select(JobRun).where(col(JobRun.job) == "old")).scalars().all()
        assert [r.outcome for r in old] == [Outcome.running]


def test_feed_pulls_take_each_enabled_source(engine: Engine, world: None) -> None:
    items = good_items()
    with FeedServer(items, tail=True).running() as server:
        with session_scope(engine) as session:
            created = sources.create_source(
                session, SYSTEM, FeedSourceCreate(name="bank", url=server.url, page_size=10)
            )
        done = run(engine, f"feeds.pull.{created.id}")
        assert (done.counts["received"], done.counts["accepted"]) == (25, 25)
        again = run(engine, "feeds.pull")
        assert again.counts == {
            "sources": 1,
            "received": 0,
            "accepted": 0,
            "duplicate": 0,
            "rejected": 0,
        }
    assert db_state(engine)[0] == 25


def test_fleet_jobs_run_runs_one_job_now(
    engine: Engine, region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fleet.core.logs.setup_logging", lambda: None)  # leave pytest's logging
    cli = CliRunner()
    result = cli.invoke(app, ["jobs", "run", "recovery.overdue"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert (shown["job"], shown["outcome"], shown["counts"]["overdue"]) == (
        "recovery.overdue",
        "succeeded",
        0,
    )
    unknown = cli.invoke(app, ["jobs", "run", "nope"])
    assert unknown.exit_code == 1
    listed = cli.invoke(app, ["jobs", "list"])
    assert "scoring.score" in listed.stdout and "30 3 * * *" in listed.stdout
    # What each job does, in the terminal's language.
    chinese = cli.invoke(app, ["jobs", "list"], env={"LANG": "zh_CN.UTF-8", "LC_ALL": ""})
    assert "按今天重新评分" in chinese.stdout and "re-score" not in chinese.stdout
    english = cli.invoke(app, ["jobs", "list"], env={"LANG": "en_US.UTF-8", "LC_ALL": ""})
    assert "re-score as of today" in english.stdout
