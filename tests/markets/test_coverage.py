"""Coverage of a market, figure by figure, on the hand-built world of conftest.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from fleet.core.errors import Invalid, NotFound
from fleet.core.geo import distance_m
from fleet.inventory.models import MarketCategory
from fleet.markets import coverage as cov
from tests.factories import SYSTEM
from tests.markets.conftest import MK1, World


def test_each_coverage_figure_of_a_market(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        c = cov.market_coverage(session, SYSTEM, world.markets["MK1"], weeks=3)
    assert (c.code, c.category, c.category_zh, c.branch_code, c.stalls) == (
        "MK1",
        "hardware",
        "五金",
        "A1",
        20,
    )
    assert c.as_of == world.today
    # M1..M5 are open (M6 is closed); M1, M2, M3 hold units, M3 two of them.
    assert (c.merchants, c.merchants_with_terminal, c.merchants_without_terminal) == (5, 3, 2)
    assert c.terminals == 4
    # Scored on D: t1 and t3 active, t2 idle, t3b never used.
    assert (c.deployed, c.active, c.active_rate) == (4, 2, 0.5)
    # Penetration: 3 served of max(5 merchants, 20 stalls).
    assert c.penetration == 0.15
    # 30-day transactions: t1 15 + t3 4 = 19 over 4 units; the fleet 55 over 6.
    assert c.txn_30_per_terminal == 4.75
    assert c.amount_30_per_terminal_yuan == 475.0  # add_usage books 100 yuan a transaction
    assert c.fleet_txn_30_per_terminal == 9.17
    assert c.volume_vs_fleet == round(4.75 / (55 / 6), 2) == 0.52
    # The nearest branch is outlet A1, 0.01° of latitude south of the centre.
    assert c.nearest_branch_code == "A1"
    assert c.nearest_branch_km == round(distance_m(MK1, (35.10, 118.41)) / 1000, 2) == 1.11
    # Week by week from the stored scores; D-14 was never scored, so it is left out.
    assert [(p.as_of, p.deployed, p.active, p.active_rate, p.txn_30_per_terminal)
            for p in c.trend] == [
        (world.today - timedelta(days=7), 4, 1, 0.25, 1.25),
        (world.today, 4, 2, 0.5, 4.75),
    ]  # fmt: skip


def test_a_market_without_scores_or_merchants(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        both = cov.coverage(session, SYSTEM, cov.visible_markets(session, SYSTEM))
        stone = cov.visible_markets(session, SYSTEM, category=MarketCategory.stone)
    by_code = {c.code: c for c in both}
    mk2 = by_code["MK2"]
    # No stall count: penetration is over the merchants known (N1 of N1, N2).
    assert (mk2.merchants, mk2.merchants_with_terminal, mk2.penetration) == (2, 1, 0.5)
    assert (mk2.deployed, mk2.active, mk2.txn_30_per_terminal) == (1, 1, 30.0)
    assert [m.code for m in stone] == ["MK2"]


def test_scope_and_bad_input(engine: Engine, world: World) -> None:
    with session_scope(engine) as session:
        ops_b = world.actor(session, "ops_b")
        assert [m.code for m in cov.visible_markets(session, ops_b)] == ["MK2"]
        with pytest.raises(NotFound):
            cov.market_coverage(session, ops_b, world.markets["MK1"])
        with pytest.raises(NotFound, match="no scores as of"):
            cov.market_coverage(
                session, SYSTEM, world.markets["MK1"], as_of=world.today - timedelta(days=1)
            )
        assert cov.parse_category("石材") is MarketCategory.stone
        with pytest.raises(Invalid, match="unknown market category"):
            cov.parse_category("bakery")


def test_before_anything_is_scored_usage_is_empty_not_zero(engine: Engine) -> None:
    from tests import factories

    with session_scope(engine) as session:
        factories.branch(session, "X1", level="city")
        factories.market(session, "MKX", "X1", radius_m=300)
        factories.merchant(session, "MX1", "X1", lat=35.06, lng=118.36)
        factories.terminal(session, "SX1", "X1", "MX1")
        (c,) = cov.coverage(session, SYSTEM, cov.visible_markets(session, SYSTEM), weeks=4)
    assert (c.merchants, c.merchants_with_terminal, c.terminals) == (1, 1, 1)
    assert (c.as_of, c.deployed, c.active_rate, c.txn_30_per_terminal, c.trend) == (
        None,
        0,
        None,
        None,
        [],
    )
