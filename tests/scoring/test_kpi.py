"""KPIs on the hand-built region of conftest.py: exact 动户率, 使用率 and activations by group."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from fleet.auth import service as auth
from fleet.core.access import Actor
from fleet.core.db import session_scope
from fleet.core.errors import Invalid, NotFound
from fleet.scoring import kpi as kpis
from fleet.scoring.kpi import KpiReport
from fleet.scoring.models import TerminalScore
from tests.factories import SYSTEM
from tests.scoring.conftest import Region


def actor(session: Session, username: str) -> Actor:
    return auth.actor_for(session, auth.user_by_username(session, SYSTEM, username))


def report(engine: Engine, who: str | None = None, **kwargs: Any) -> KpiReport:
    with session_scope(engine) as session:
        return kpis.kpis(session, actor(session, who) if who else SYSTEM, **kwargs)


def figures(row: Any) -> tuple[Any, ...]:
    return (row.deployed, row.active, row.active_rate, row.usage_rate, row.activations)


def test_totals(engine: Engine, region: Region) -> None:
    now = report(engine)
    assert now.as_of == region.today and now.rows == []
    # 5 of 8 active; 30 transactions over 30 days on 8 terminals; t3, t4 and t8 activated.
    assert figures(now.total) == (8, 5, 0.625, 0.125, 3)
    assert now.total.compared_with == region.before
    assert now.total.by_status == {
        "active": 5,
        "declining": 0,
        "idle": 1,
        "dormant": 1,
        "never_used": 0,
        "new": 1,
    }
    assert (now.total.txn_30, now.total.amount_30_fen) == (30, 300_000)

    before = report(engine, as_of=region.before)
    # t1 and t6 active; 2 + 6 transactions; nothing scored earlier to compare with.
    assert figures(before.total) == (8, 2, 0.25, round(8 / 8 / 30, 4), None)
    assert before.total.by_status["never_used"] == 1 and before.total.by_status["dormant"] == 2


def test_by_branch_subtree(engine: Engine, region: Region) -> None:
    city = report(engine, group_by="branch")
    # The top of an admin's scope is the city branch: a row per county, each its subtree.
    assert [(r.code, *figures(r)) for r in city.rows] == [
        ("A", 5, 3, 0.6, round(10 / 5 / 30, 4), 2),
        ("B", 3, 2, round(2 / 3, 4), round(20 / 3 / 30, 4), 1),
    ]
    county = report(engine, group_by="branch", branch_id=region.branches["A"])
    assert [(r.code, *figures(r)) for r in county.rows] == [
        ("A1", 3, 2, round(2 / 3, 4), round(6 / 3 / 30, 4), 1),
        ("A2", 2, 1, 0.5, round(4 / 2 / 30, 4), 1),
    ]
    assert figures(county.total) == (5, 3, 0.6, round(10 / 5 / 30, 4), 2)


def test_by_market_category_and_staff(engine: Engine, region: Region) -> None:
    markets = report(engine, group_by="market")
    assert [(r.code, r.deployed, r.active, r.activations) for r in markets.rows] == [
        ("MK1", 3, 2, 1),
        ("MK2", 3, 2, 1),
        (None, 2, 1, 1),
    ]
    assert markets.rows[-1].label == "not in a market"
    assert markets.rows[0].id == region.markets["MK1"]

    categories = report(engine, group_by="category")
    assert [(r.code, r.deployed, r.active_rate, r.usage_rate) for r in categories.rows] == [
        ("grocery", 2, 0.5, round(4 / 2 / 30, 4)),
        ("五金", 3, round(2 / 3, 4), round(6 / 3 / 30, 4)),
        ("石材", 3, round(2 / 3, 4), round(20 / 3 / 30, 4)),
    ]

    staff = report(engine, group_by="staff")
    assert [(r.code, r.id, r.deployed, r.activations) for r in staff.rows] == [
        ("field_a1", region.staff["field_a1"], 3, 1),
        ("field_a2", region.staff["field_a2"], 2, 1),
        (None, None, 3, 1),
    ]
    assert staff.rows[-1].label == "unassigned"


def test_week_by_week(engine: Engine, region: Region) -> None:
    trend = report(engine, group_by="branch", weeks=3)
    # Three weeks asked for, two scored: the points are the scored ones, oldest first.
    assert [(p.as_of, p.deployed, p.active_rate, p.activations) for p in trend.total.weeks] == [
        (region.before, 8, 0.25, None),
        (region.today, 8, 0.625, 3),
    ]
    a = trend.rows[0]
    assert [(p.active, p.activations) for p in a.weeks] == [(1, None), (3, 2)]


def test_a_branch_user_sees_only_their_subtree(engine: Engine, region: Region) -> None:
    mine = report(engine, "ops_a", group_by="branch")
    assert [r.code for r in mine.rows] == ["A1", "A2"]
    assert figures(mine.total) == (5, 3, 0.6, round(10 / 5 / 30, 4), 2)
    theirs = report(engine, "ops_b")
    assert figures(theirs.total) == (3, 2, round(2 / 3, 4), round(20 / 3 / 30, 4), 1)
    assert [r.code for r in report(engine, "ops_b", group_by="market").rows] == ["MK2"]
    with pytest.raises(NotFound):
        report(engine, "ops_b", branch_id=region.branches["A"])


def test_bad_requests_say_what_is_wrong(engine: Engine, region: Region) -> None:
    with pytest.raises(NotFound, match="no scores as of"):
        report(engine, as_of=region.today - timedelta(days=3))
    with pytest.raises(Invalid, match="weeks"):
        report(engine, weeks=0)
    with pytest.raises(Invalid, match="group by"):
        report(engine, group_by="colour")


def test_nothing_scored_yet(engine: Engine) -> None:
    with pytest.raises(NotFound, match="nothing has been scored yet"):
        report(engine)


def test_the_json_labels_rows_in_english_and_says_what_each_is(
    engine: Engine, region: Region
) -> None:
    """The report's labels are names or English, never Chinese words baked in; `kind` says
    which row is the total, a branch's own units or the units of no group, so each reader
    (the pages, the command line) words them in its own language."""
    with session_scope(engine) as session:
        # One unit scored at county A itself, not at an outlet below it.
        session.execute(
            update(TerminalScore)
            .where(col(TerminalScore.terminal_id) == region.ids["t1"])
            .values(branch_id=region.branches["A"])
        )
    county = report(engine, group_by="branch", branch_id=region.branches["A"])
    own = county.rows[0]
    assert (own.code, own.label, own.kind, own.deployed) == ("A", "网点A", "own", 1)
    assert {r.kind for r in county.rows[1:]} == {"group"}
    assert (county.total.label, county.total.kind) == ("Total", "total")
    markets = report(engine, group_by="market")
    assert (markets.rows[-1].label, markets.rows[-1].kind) == ("not in a market", "none")
    staff = report(engine, group_by="staff")
    assert (staff.rows[-1].label, staff.rows[-1].kind) == ("unassigned", "none")
