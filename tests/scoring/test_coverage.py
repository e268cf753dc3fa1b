"""Statuses of units deployed long before the data: counted from the data coverage start.

The as-of date is D (today); the bank's feed is complete from `ago(n)`, set by an admin as
`fleet coverage set` does. Units are deployed 400 days before D, long before the data.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from fleet.feeds import coverage
from fleet.inventory.models import Terminal
from fleet.scoring import service as scoring
from fleet.scoring.models import ScoreRun, TerminalScore
from tests import factories
from tests.factories import SYSTEM
from tests.scoring.util import add_daily, add_usage, as_of, deploy


def ago(days: int) -> date:
    return as_of() - timedelta(days=days)


@pytest.fixture
def shop(session: Session) -> str:
    factories.branch(session, "LY", level="city")
    factories.branch(session, "A1", "LY")
    factories.merchant(session, "M1", "A1", category="grocery")
    return "M1"


def scored(session: Session) -> dict[str, TerminalScore]:
    scoring.score(session, as_of=as_of())
    rows = session.execute(select(TerminalScore).where(TerminalScore.as_of == as_of())).scalars()
    sns = {t.id: t.sn for t in session.execute(select(Terminal)).scalars()}
    return {sns[row.terminal_id]: row for row in rows}


def data_since(session: Session, days: int) -> None:
    coverage.set_start(session, SYSTEM, coverage.DEFAULT_SOURCE, ago(days))


@pytest.mark.parametrize(("days_of_data", "status"), [(29, "new"), (30, "never_used")])
def test_never_used_counts_the_days_of_data_not_of_deployment(
    session: Session, shop: str, days_of_data: int, status: str
) -> None:
    deploy(session, "OLD", "A1", shop, ago(400))
    data_since(session, days_of_data)
    row = scored(session)["OLD"]
    assert row.status.value == status
    assert (row.deployed_on, row.data_from, row.counted_from()) == (
        ago(400),
        ago(days_of_data),
        ago(days_of_data),
    )


def test_a_unit_deployed_after_the_data_start_counts_from_its_deployment(
    session: Session, shop: str
) -> None:
    deploy(session, "NEW", "A1", shop, ago(29))
    data_since(session, 100)
    row = scored(session)["NEW"]
    assert (row.status.value, row.counted_from(), row.data_later()) == ("new", ago(29), None)


@pytest.mark.parametrize(
    ("days_since", "status"), [(29, "active"), (30, "idle"), (89, "idle"), (90, "dormant")]
)
def test_idle_and_dormant_edges_within_the_data(
    session: Session, shop: str, days_since: int, status: str
) -> None:
    unit = deploy(session, "OLD", "A1", shop, ago(400))
    data_since(session, 100)
    add_usage(session, unit.id, ago(days_since), 2)
    row = scored(session)["OLD"]
    assert (row.status.value, row.days_since_use) == (status, days_since)


def test_use_before_the_coverage_start_is_not_counted(session: Session, shop: str) -> None:
    # A stray line 150 days back, then nothing in the 61 days the feed covers.
    unit = deploy(session, "OLD", "A1", shop, ago(400))
    add_usage(session, unit.id, ago(150), 1)
    data_since(session, 61)
    row = scored(session)["OLD"]
    assert (row.status.value, row.last_used_on, row.days_since_use) == ("never_used", None, None)


def test_trend_is_unknown_when_the_previous_window_is_not_covered(
    session: Session, shop: str
) -> None:
    # The previous window is D-120 .. D-31. Use fell from 1 a day to 3 in the last 30 days.
    units = {n: deploy(session, f"U{n}", "A1", shop, ago(400)) for n in (120, 119)}
    for unit in units.values():
        add_daily(session, unit.id, ago(119), ago(31))
        add_usage(session, unit.id, ago(2), 3)
    data_since(session, 120)
    covered = scored(session)["U120"]
    assert covered.status.value == "declining"
    assert covered.trend == pytest.approx(3 / (89 / 3))
    data_since(session, 119)  # one day of the previous window is not in the data
    uncovered = scored(session)["U119"]
    assert (uncovered.status.value, uncovered.trend, uncovered.previous_monthly) == (
        "active",
        None,
        0.0,
    )


def test_a_placement_within_the_data_keeps_its_trend(session: Session, shop: str) -> None:
    # Deployed on D-60, the data complete since D-100: its 30 days in the previous window are
    # all in the data, 60 transactions there: 60 a month.
    unit = deploy(session, "NEW", "A1", shop, ago(60))
    add_usage(session, unit.id, ago(45), 60)
    add_usage(session, unit.id, ago(3), 29)
    data_since(session, 100)
    row = scored(session)["NEW"]
    assert (row.previous_monthly, row.status.value) == (60.0, "declining")
    data_since(session, 59)  # a day of its placement is before the data: unknown
    row = scored(session)["NEW"]
    assert (row.previous_monthly, row.trend, row.status.value) == (0.0, None, "active")


def test_without_coverage_the_deployment_counts_as_before(session: Session, shop: str) -> None:
    deploy(session, "OLD", "A1", shop, ago(400))
    row = scored(session)["OLD"]
    assert (row.status.value, row.data_from, row.counted_from()) == ("never_used", None, ago(400))


def test_the_scoring_run_records_the_start_it_used(session: Session, shop: str) -> None:
    deploy(session, "OLD", "A1", shop, ago(400))
    data_since(session, 45)
    scored(session)
    run = session.get(ScoreRun, as_of())
    assert run is not None and f'"data_from": "{ago(45).isoformat()}"' in run.settings
