"""收益率 per unit and portfolio over a period, from revenue ingested and the units' cost."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from fleet.core.access import Actor, Role
from fleet.core.config import get_settings
from fleet.core.errors import Forbidden, Invalid
from fleet.feeds import service
from fleet.inventory import service as inventory
from fleet.inventory.models import MerchantUpdate
from fleet.pay import periods, yields
from fleet.pay.yields import By
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import write_feed
from tests.pay.test_revenue_ingest import FEED, priced_world
from tests.terminal import EN

# A price of 365 yuan over 12 months (365 days): 1 yuan a day; a line fee of 7.30 yuan a
# month: 0.24 yuan a day. May has 31 days: 31.00 + 7.44 = 38.44 yuan a unit.
SETTINGS = get_settings().model_copy(
    update={
        "pay_unit_price_fen": 36_500,
        "pay_unit_life_months": 12,
        "pay_line_fee_fen_per_month": 730,
    }
)
MAY = periods.parse("2026-05")


def world(session: Session, tmp_path: Path) -> None:
    priced_world(session)
    factories.user(session, "li", Role.field, "LY")
    for code in ("M1", "M2"):
        merchant = inventory.merchant_by_code(session, SYSTEM, code)
        inventory.update_merchant(session, SYSTEM, merchant, MerchantUpdate(staff_username="li"))
    session.commit()
    service.ingest_file(write_feed(tmp_path / "feed.csv", FEED), actor=SYSTEM)


def test_yield_per_unit_is_net_revenue_over_cost(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    rows = {
        r.key: r for r in yields.yields(session, SYSTEM, by=By.unit, period=MAY, settings=SETTINGS)
    }
    assert {k: (r.txn_count, r.net_fen, r.cost_fen) for k, r in rows.items()} == {
        # test_revenue_ingest.EXPECTED: T1 nets 11.27 + 2.05 + 3.00 in May
        "T1": (4, 1127 + 205 + 300, 3844),
        "T2": (1, 240, 3844),
        "T3": (0, 0, 3844),  # its transfer was on 20 April
        "T0": (0, 0, 0),  # in stock, registered today: it cost nothing in May
    }
    assert rows["T1"].yield_rate == round(1632 / 3844, 4)
    assert rows["T3"].yield_rate == 0
    # April: from the first placement on 1 March the unit costs all of April's 30 days.
    april = yields.yields(
        session, SYSTEM, by=By.unit, period=periods.parse("2026-04"), settings=SETTINGS
    )
    assert {r.key: r.cost_fen for r in april} == {"T1": 3720, "T2": 3720, "T3": 3720, "T0": 0}


def test_portfolios_add_their_units(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    by_staff = yields.yields(session, SYSTEM, by=By.staff, period=MAY, settings=SETTINGS)
    assert [(r.key, r.units, r.net_fen, r.cost_fen) for r in by_staff] == [
        ("li", 2, 1632 + 240, 2 * 3844),
        ("-", 2, 0, 3844),
    ]
    by_branch = yields.yields(session, SYSTEM, by=By.branch, period=MAY, settings=SETTINGS)
    assert [(r.key, r.units, r.fee_fen) for r in by_branch] == [("LY", 4, 1485 + 205 + 300 + 273)]
    # A unit's cost stops at the end of its life (1 March 2027 here): the line fee goes on.
    later = yields.yields(
        session, SYSTEM, by=By.branch, period=periods.parse("2027-Q1"), settings=SETTINGS
    )
    line_fee = round(90 * 730 * 12 / 365)
    today = yields.local_day(datetime.now(UTC), SETTINGS)
    t0 = yields.unit_cost(today, periods.parse("2027-Q1"), SETTINGS)
    assert later[0].cost_fen == 3 * (59 * 100 + line_fee) + t0


def test_pay_is_only_for_roles_that_may_see_it(session: Session) -> None:
    with pytest.raises(Forbidden):
        yields.yields(session, Actor(username="f", role=Role.field), by=By.unit, period=MAY)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 12, 1)),
        ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("2026-q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("2026", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_periods(text: str, start: date, end: date) -> None:
    period = periods.parse(text)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("text", ["2026-13", "Q4", "2026-Q5", "last month"])
def test_a_bad_period_is_refused(text: str) -> None:
    with pytest.raises(Invalid, match="is not a period"):
        periods.parse(text)


def test_revenue_on_the_command_line(session: Session, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fleet.cli.main import app

    world(session, tmp_path)
    result = CliRunner().invoke(app, ["revenue", "--by", "staff", "--period", "2026-05"])
    assert result.exit_code == 0, result.stderr
    assert "li" in result.stdout and "收益率" in result.stdout
    # The period's last day, not the day after it: May ends on the 31st.
    assert "（2026-05-01 – 2026-05-31）" in result.stdout, result.stdout
    bad = CliRunner().invoke(app, ["revenue", "--period", "May"], env=EN)
    assert bad.exit_code == 1
    assert bad.stderr.startswith("error: 'May' is not a period")


def test_revenue_defaults_to_the_banks_month(
    session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """00:30 on 1 Nov in Beijing is still 31 Oct in UTC (and on a server kept in UTC): the
    default period is the bank's month, November, not the machine's. Failed before (the
    command took the machine's date)."""
    from typer.testing import CliRunner

    import fleet.scoring.service as scoring_service
    from fleet.cli.main import app

    class BankClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> BankClock:  # type: ignore[override]
            moment = datetime(2026, 10, 31, 16, 30, tzinfo=UTC)
            return cls.fromtimestamp(moment.timestamp(), tz)

    world(session, tmp_path)
    monkeypatch.setattr(scoring_service, "datetime", BankClock)
    result = CliRunner().invoke(app, ["revenue"], env={"LANG": "en_US.UTF-8"})
    assert result.exit_code == 0, result.stderr
    assert "2026-11 (2026-11-01 – 2026-11-30)" in result.stdout, result.stdout
