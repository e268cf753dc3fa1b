"""Activation over a quarter (or a year), on a hand-built history: a cohort unit counts as
activated when any 30 days within the period hold at least k successful financial
transactions, not only the 30 days from the period's first day; a month keeps its 30 days
from the baseline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from fleet.core.access import Role
from fleet.core.db import utcnow
from fleet.inventory import holders
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from fleet.pay import periods
from fleet.pay.scorecard import ScoreRow, scorecard
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import DEPLOYED
from tests.pay.test_scorecard import ingest, uses

# Units placed on 1 March, never used before the dates below: all six are in the cohort at
# 1 April and at 1 July.
HISTORY = [
    # Q6 wakes in the second quarter: 10 April, 5 and 9 May (3 in 30 days, not in April).
    *uses("A", "Q6", "2026-04-10", 1),
    *uses("B", "Q6", "2026-05-05", 1),
    *uses("C", "Q6", "2026-05-09", 1),
    # Q1 wakes on 20 August, the quarter's 51st day.
    *uses("D", "Q1", "2026-08-20", 3),
    # Q2: 3 in the quarter, never 3 within 30 days (5 July, 1 August, 30 August).
    *uses("E", "Q2", "2026-07-05", 1),
    *uses("F", "Q2", "2026-08-01", 1),
    *uses("G", "Q2", "2026-08-30", 1),
    # Q3: 2 on 25 September and 1 on the 29th: 3 before the quarter ends.
    *uses("H", "Q3", "2026-09-25", 2),
    *uses("I", "Q3", "2026-09-29", 1),
    # Q4: 2 on 29 September, the third on 2 October: after the quarter, it does not count.
    *uses("J", "Q4", "2026-09-29", 2),
    *uses("K", "Q4", "2026-10-02", 1),
    # Q5 wakes in the quarter's first 30 days (10 July).
    *uses("L", "Q5", "2026-07-10", 3),
]


def world(session: Session, tmp_path: Path, history: list[str] = HISTORY) -> None:
    factories.branch(session, "LY", level="city")
    factories.user(session, "li", Role.field, "LY")
    for n in range(1, 7):
        factories.merchant(session, f"M{n}", "LY", staff_username="li")
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(
                sn=f"Q{n}", branch_code="LY", merchant_code=f"M{n}", deployed_at=DEPLOYED
            ),
        )
    session.commit()
    ingest(tmp_path / "feed.csv", history)


def row(session: Session, period: str, by: str = "staff") -> ScoreRow:
    card = scorecard(session, SYSTEM, period=periods.parse(period), by=by)  # type: ignore[arg-type]
    (found,) = card.rows
    return found


def test_a_quarter_counts_any_30_days_within_it(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    li = row(session, "2026-Q3")
    # Q1 (20 August), Q3 (late September) and Q5 (July) woke; Q2, Q4 and Q6 did not.
    assert (li.cohort, li.activated) == (6, 3)
    # The quarter before, made the same way: Q6 woke within 30 days from 10 April.
    assert (li.baseline_cohort, li.baseline_activated) == (6, 1)
    (branch,) = scorecard(session, SYSTEM, period=periods.parse("2026-Q3"), by="branch").rows
    assert (branch.cohort, branch.activated) == (6, 3)


def test_a_month_keeps_its_30_days_from_the_baseline(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    july = row(session, "2026-07")
    assert (july.cohort, july.activated) == (6, 1)  # Q5 only
    august = row(session, "2026-08")
    # At 1 August, Q2 (5 July) and Q5 were used in the 30 days before: out of the cohort.
    assert (august.cohort, august.activated) == (4, 1)  # Q1 on 20 August


# The window's edges: 30 days are a day and the 29 after it, not the 30th after it.
EDGES = [
    # Q1: 2 on 1 July and 1 on 31 July, 30 days later: never 3 in 30 days.
    *uses("A", "Q1", "2026-07-01", 2),
    *uses("B", "Q1", "2026-07-31", 1),
    # Q2: 2 on 1 August and 1 on 30 August, 29 days later: 3 in 30 days.
    *uses("C", "Q2", "2026-08-01", 2),
    *uses("D", "Q2", "2026-08-30", 1),
    # Q3: 1 a day from 1 to 3 September, then 2 on 2 October: 3 within the quarter.
    *uses("E", "Q3", "2026-09-01", 1),
    *uses("F", "Q3", "2026-09-02", 1),
    *uses("G", "Q3", "2026-09-03", 1),
    *uses("H", "Q3", "2026-10-02", 2),
]


def test_a_quarter_window_is_a_day_and_the_29_after_it(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path, EDGES)
    li = row(session, "2026-Q3")
    assert (li.cohort, li.activated) == (6, 2)  # Q2 and Q3


def test_a_running_month_counts_use_in_the_30_days_up_to_today(
    session: Session, tmp_path: Path
) -> None:
    """In the month still running, 动户率 at its end is of the 30 days up to today, not the
    30 days from the baseline (the rollup pass's windows differ then; a month over has them
    the same, one sum)."""
    today = holders.local_day(utcnow())
    world(
        session,
        tmp_path,
        [
            *uses("A", "Q1", f"{today - timedelta(days=29)}", 1),  # the window's first day
            *uses("B", "Q2", f"{today - timedelta(days=30)}", 1),  # the day before it
            *uses("C", "Q3", f"{today - timedelta(days=1)}", 3),
        ],
    )
    li = row(session, f"{today:%Y-%m}")
    assert li.active_rate == pytest.approx(2 / 6)  # Q1 and Q3
