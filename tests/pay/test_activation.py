"""The activation rate of 五提升 on a hand-built history: the cohort at the baseline, k
transactions in 30 days, the Wilson bound of a small cohort, the change against the period
before, per staff member and per branch, and who sees which line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session

from fleet.core.access import Actor, Role
from fleet.feeds import service
from fleet.inventory import service as inventory
from fleet.inventory.models import MerchantUpdate
from fleet.pay import periods
from fleet.pay.activation import Group, activation, wilson_lower_bound
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import line, small_fleet, write_feed

JUNE = periods.parse("2026-06")


def uses(ref: str, sn: str, day: str, times: int) -> list[str]:
    merchant = "M" + sn[1:]
    return [line(f"{ref}{n}", sn, f"{day}T1{n}:00:00", merchant=merchant) for n in range(times)]


# Units deployed on 1 March. At 1 June: T1 idle (last use 15 April), T2 dormant (2 March),
# T3 and T5 never used, T4 active (20 May). In June T1 and T3 make 3 transactions (T3 on
# 30 June, the 30th day), T2 only 2. At 1 May (the baseline period): T2 idle, T3, T4 and T5
# never used; in May only T4 makes 3.
HISTORY = [
    *uses("A", "T1", "2026-04-15", 1),
    *uses("B", "T2", "2026-03-02", 1),
    *uses("C", "T4", "2026-05-20", 3),
    *uses("D", "T1", "2026-06-10", 3),
    *uses("E", "T2", "2026-06-11", 2),
    *uses("F", "T3", "2026-06-30", 3),
    *uses("G", "T5", "2026-07-01", 3),  # the 31st day: too late
]


def world(session: Session, tmp_path: Path) -> None:
    small_fleet(session, terminals=5)
    for username, codes in (("li", ("M1", "M2", "M3")), ("wang", ("M4", "M5"))):
        factories.user(session, username, Role.field, "LY")
        for code in codes:
            merchant = inventory.merchant_by_code(session, SYSTEM, code)
            inventory.update_merchant(
                session, SYSTEM, merchant, MerchantUpdate(staff_username=username)
            )
    session.commit()
    report = service.ingest_file(write_feed(tmp_path / "feed.csv", HISTORY), actor=SYSTEM)
    assert report.rejected == 0


def test_the_wilson_bound() -> None:
    assert round(wilson_lower_bound(2, 4), 4) == 0.1500
    assert round(wilson_lower_bound(1, 4), 4) == 0.0456
    assert wilson_lower_bound(0, 0) == 0.0


def test_a_branch_cohort_its_activations_and_the_change(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    (row,) = activation(session, SYSTEM, period=JUNE, group=Group.branch)
    assert (row.key, row.cohort, row.activated, row.rate) == ("LY", 4, 2, 0.5)
    assert row.wilson and row.score == wilson_lower_bound(2, 4)
    assert (row.baseline_cohort, row.baseline_activated) == (4, 1)
    assert row.change == pytest.approx(wilson_lower_bound(2, 4) - wilson_lower_bound(1, 4))
    (easier,) = activation(session, SYSTEM, period=JUNE, group=Group.branch, k=2)
    assert easier.activated == 3


def test_per_staff_member_and_who_sees_what(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    rows = {r.key: r for r in activation(session, SYSTEM, period=JUNE)}
    assert {k: (r.cohort, r.activated) for k, r in rows.items()} == {"li": (3, 2), "wang": (1, 0)}
    li = Actor(username="li", role=Role.field)
    assert [r.key for r in activation(session, li, period=JUNE)] == ["li"]


def test_the_scorecard_on_the_command_line(session: Session, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from fleet.cli.main import app

    world(session, tmp_path)
    result = CliRunner().invoke(app, ["scorecard", "--period", "2026-06", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [(r["key"], r["cohort"], r["activated"]) for r in json.loads(result.stdout)] == [
        ("li", 3, 2),
        ("wang", 1, 0),
    ]
    text = CliRunner().invoke(app, ["scorecard", "--period", "2026-06", "--by", "branch"])
    assert "LY" in text.stdout and "15.0%*" in text.stdout
    bad = CliRunner().invoke(app, ["scorecard", "--period", "2026-06", "--by", "market"])
    assert bad.exit_code == 1 and "staff or branch" in bad.stderr
