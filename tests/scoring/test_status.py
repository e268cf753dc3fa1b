"""Statuses as DESIGN.md defines them, at their boundaries, on hand-built rollups."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from fleet.core.errors import Invalid
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from fleet.scoring import service as scoring
from fleet.scoring.models import ScoreRun, TerminalScore
from tests import factories
from tests.scoring.util import (
    SHANGHAI,
    add_daily,
    add_usage,
    as_of,
    deploy,
    recover,
    redeploy,
)


def ago(days: int) -> date:
    return as_of() - timedelta(days=days)


@pytest.fixture
def shop(session: Session) -> str:
    """Outlet A1 with one merchant, M1 (a grocer, in no market); returns the merchant code."""
    factories.branch(session, "LY", level="city")
    factories.branch(session, "A1", "LY")
    factories.merchant(session, "M1", "A1", category="grocery")
    return "M1"


def scored(session: Session, day: date | None = None) -> dict[int, TerminalScore]:
    scoring.score(session, as_of=day or as_of())
    rows = session.execute(
        select(TerminalScore).where(TerminalScore.as_of == (day or as_of()))
    ).scalars()
    return {row.terminal_id: row for row in rows}


@pytest.mark.parametrize(
    ("days_since", "status"),
    [(1, "active"), (29, "active"), (30, "idle"), (89, "idle"), (90, "dormant"), (150, "dormant")],
)
def test_status_follows_days_since_last_use(
    session: Session, shop: str, days_since: int, status: str
) -> None:
    unit = deploy(session, "SN1", "A1", shop, ago(200))
    add_usage(session, unit.id, ago(days_since), 3)
    add_usage(session, unit.id, ago(days_since) - timedelta(days=40), 2)
    # Only inquiries or failures afterwards: a rollup row with no financial use is no use.
    add_usage(session, unit.id, ago(days_since - 1), 0, amount_fen=0, other=5)
    row = scored(session)[unit.id or 0]
    assert (row.status.value, row.days_since_use, row.last_used_on) == (
        status,
        days_since,
        ago(days_since),
    )


def test_windows_count_the_days_before_the_as_of_date(session: Session, shop: str) -> None:
    unit = deploy(session, "SN1", "A1", shop, ago(300))
    for days, count in ((0, 100), (1, 1), (30, 2), (31, 4), (90, 8), (91, 16), (120, 32)):
        add_usage(session, unit.id, ago(days), count, amount_fen=count * 100)
    row = scored(session)[unit.id or 0]
    # Day D itself is not yet complete: it waits for the next as-of date.
    assert (row.count_30, row.amount_30_fen) == (1 + 2, 300)
    assert (row.count_90, row.amount_90_fen) == (1 + 2 + 4 + 8, 1500)
    # The previous window is D-120 .. D-31: 4 + 8 + 16 + 32 over 90 days is 20 a month.
    assert row.previous_monthly == 20.0
    assert row.trend == 3 / 20
    assert row.days_since_use == 1


def test_never_used_after_30_days_deployed_new_before(session: Session, shop: str) -> None:
    older = deploy(session, "SN30", "A1", shop, ago(30))
    newer = deploy(session, "SN29", "A1", shop, ago(29))
    yesterday = deploy(session, "SN1", "A1", shop, ago(1))
    rows = scored(session)
    assert rows[older.id or 0].status.value == "never_used"
    assert rows[newer.id or 0].status.value == "new"
    assert rows[yesterday.id or 0].status.value == "new"
    assert rows[older.id or 0].deployed_on == ago(30)
    assert rows[older.id or 0].days_since_use is None and rows[older.id or 0].score == 0


def test_declining_is_under_half_the_previous_monthly_average(session: Session, shop: str) -> None:
    units = {n: deploy(session, f"SN{n}", "A1", shop, ago(200)) for n in (15, 14, 0)}
    for n, unit in units.items():
        # 90 in the previous window (D-120 .. D-31): 30 a month, so the line is 15.
        add_daily(session, unit.id, ago(120), ago(31))
        if n:
            add_usage(session, unit.id, ago(2), n)
    steady = deploy(session, "SN-steady", "A1", shop, ago(200))
    add_usage(session, steady.id, ago(5), 1)  # no previous use: never declining
    rows = scored(session)
    assert rows[units[15].id or 0].status.value == "active"  # exactly half: not under it
    assert rows[units[14].id or 0].status.value == "declining"
    assert rows[units[14].id or 0].trend == pytest.approx(14 / 30)
    assert rows[units[0].id or 0].status.value == "idle"  # last use 31 days ago
    assert rows[steady.id or 0].status.value == "active"
    assert rows[steady.id or 0].trend is None


def test_a_recent_placement_is_averaged_over_its_days_in_the_window(
    session: Session, shop: str
) -> None:
    # Deployed on D-60: 30 days in the previous window, 60 transactions there: 60 a month.
    unit = deploy(session, "SN1", "A1", shop, ago(60))
    add_usage(session, unit.id, ago(45), 60)
    add_usage(session, unit.id, ago(3), 29)
    row = scored(session)[unit.id or 0]
    assert row.previous_monthly == 60.0
    assert row.status.value == "declining"


def test_only_usage_since_the_current_placement_counts(session: Session, shop: str) -> None:
    factories.merchant(session, "M2", "A1", category="grocery")
    unit = deploy(session, "SN1", "A1", shop, ago(200))
    add_usage(session, unit.id, ago(150), 9)
    recover(session, unit, ago(100))
    redeploy(session, unit, "M2", ago(20))
    row = scored(session)[unit.id or 0]
    assert (row.status.value, row.count_90, row.last_used_on) == ("new", 0, None)
    assert row.deployed_on == ago(20)

    # The placement's first day counts, even for a use before the moment it was recorded.
    add_usage(session, unit.id, ago(20), 2)
    row = scored(session)[unit.id or 0]
    assert (row.status.value, row.days_since_use, row.count_30) == ("active", 20, 2)


def test_the_placement_day_is_the_local_day(session: Session, shop: str) -> None:
    # 00:30 in Shanghai is 16:30 UTC the day before: the placement day is the local one.
    placed = datetime.combine(ago(40), time(0, 30), tzinfo=SHANGHAI)
    unit = inventory.create_terminal(
        session,
        factories.SYSTEM,
        TerminalCreate(sn="SN1", branch_code="A1", merchant_code=shop, deployed_at=placed),
    )
    add_usage(session, unit.id, ago(41), 7)  # the previous local day: not this placement's
    row = scored(session)[unit.id or 0]
    assert (row.deployed_on, row.status.value, row.count_90) == (ago(40), "never_used", 0)
    add_usage(session, unit.id, ago(40), 2)
    row = scored(session)[unit.id or 0]
    assert (row.status.value, row.days_since_use, row.count_90) == ("idle", 40, 2)


def test_a_unit_taken_back_before_the_as_of_date_is_not_scored(session: Session, shop: str) -> None:
    unit = deploy(session, "SN1", "A1", shop, ago(100))
    add_usage(session, unit.id, ago(50), 4)
    recover(session, unit, ago(10))
    assert unit.id not in scored(session)
    # On the day it left, and before, it was still at the merchant: historical as-of dates work.
    assert scored(session, ago(10))[unit.id or 0].status.value == "idle"
    assert scored(session, ago(11))[unit.id or 0].days_since_use == 39
    assert unit.id not in scored(session, ago(100))  # placed during that day: not yet on it
    assert scored(session, ago(99))[unit.id or 0].status.value == "new"


def test_in_stock_units_are_not_scored(session: Session, shop: str) -> None:
    factories.terminal(session, "SN-stock", "A1")
    assert scored(session) == {}


def test_rescoring_a_date_replaces_its_rows(session: Session, shop: str) -> None:
    unit = deploy(session, "SN1", "A1", shop, ago(200))
    deploy(session, "SN2", "A1", shop, ago(200))
    first = scoring.score(session, as_of=as_of())
    assert (first.terminals, first.by_status["never_used"]) == (2, 2)
    add_usage(session, unit.id, ago(3), 5)
    again = scoring.score(session, as_of=as_of())
    assert (again.terminals, again.by_status["active"], again.by_status["never_used"]) == (2, 1, 1)
    count = session.execute(select(func.count()).select_from(TerminalScore)).scalar_one()
    runs = session.execute(select(ScoreRun)).scalars().all()
    assert count == 2
    assert [(r.as_of, r.terminals) for r in runs] == [(as_of(), 2)]
    assert '"active_days": 30' in runs[0].settings


def test_score_weeks_keeps_one_set_per_week(session: Session, shop: str) -> None:
    unit = deploy(session, "SN1", "A1", shop, ago(200))
    add_usage(session, unit.id, ago(10), 1)
    summaries = scoring.score_weeks(session, as_of=as_of(), weeks=2)
    assert [s.as_of for s in summaries] == [ago(14), ago(7), as_of()]
    assert [s.by_status["active"] for s in summaries] == [0, 1, 1]
    assert scoring.latest_as_of(session) == as_of()
    history = scoring.terminal_history(session, factories.SYSTEM, unit.id or 0)
    assert [(h.as_of, h.status.value) for h in history] == [
        (ago(14), "never_used"),
        (ago(7), "active"),
        (as_of(), "active"),
    ]


def test_the_future_cannot_be_scored(session: Session, shop: str) -> None:
    with pytest.raises(Invalid, match="in the future"):
        scoring.score(session, as_of=as_of() + timedelta(days=1))
