"""The opportunity ranking on a constructed case where the right order is obvious."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.inventory import service as inventory
from fleet.inventory.models import MarketCategory, MarketUpdate
from fleet.markets import coverage as cov
from fleet.markets import ranking
from fleet.markets.models import Campaign, CampaignUnit
from fleet.scoring.service import today_local
from tests import factories
from tests.factories import SYSTEM
from tests.markets.conftest import near

ZH, EN = texts_for("zh"), texts_for("en")

# Three hardware markets of the same trade, 5 km apart, each with 10 merchants:
#   OPEN  100 stalls, 1 merchant served: ~99 unserved, stock next door, never campaigned;
#   CAMP  the same, but a campaign there ended 20 days ago;
#   FULL  no stall count, 9 of 10 merchants served: 90% penetrated.
# And one stone market, STONE, in county B, for the filters.
PLACES = {"OPEN": (35.00, 118.30), "CAMP": (35.045, 118.30), "FULL": (35.09, 118.30)}


def build(session: Session) -> None:
    f = factories
    f.branch(session, "LY", level="city", lat=34.5, lng=118.0)
    f.branch(session, "A", "LY", level="county", lat=35.0, lng=118.31)
    f.branch(session, "B", "LY", level="county", lat=35.5, lng=118.5)
    for code, (lat, lng) in PLACES.items():
        market = f.market(session, code, "A", lat, lng, radius_m=300)
        stalls = None if code == "FULL" else 100
        inventory.update_market(session, SYSTEM, market, MarketUpdate(stalls=stalls))
        served = 9 if code == "FULL" else 1
        for k in range(10):
            merchant = f"{code}-{k}"
            f.merchant(session, merchant, "A", **near((lat, lng), 20 * k))
            if k < served:
                f.terminal(session, f"SN-{merchant}", "A", merchant)
    f.market(session, "STONE", "B", 35.5, 118.5, radius_m=300, category="stone")
    for k in range(3):
        f.terminal(session, f"STOCK-{k}", "A")  # at A, next to OPEN
    today = today_local()
    camp = inventory.get_or_none(session, inventory.Market, code="CAMP")
    session.add(
        Campaign(
            name="上次活动",
            market_id=camp.id,
            branch_id=camp.branch_id,
            starts_on=today - timedelta(days=50),
            ends_on=today - timedelta(days=20),
        )
    )
    session.flush()


def test_the_obvious_order_and_its_reasons(engine: Engine) -> None:
    with session_scope(engine) as session:
        build(session)
        ranked = ranking.rank_markets(session, SYSTEM, category=MarketCategory.hardware)
    assert [r.code for r in ranked] == ["OPEN", "CAMP", "FULL"]
    assert [r.rank for r in ranked] == [1, 2, 3]
    top, camp, full = ranked
    assert (top.potential, top.unserved_known, top.penetration) == (99, 9, 0.01)
    # Nothing is scored, so every trade is taken as middling (0.5).
    assert top.parts["trade"] == 0.5
    assert top.stock_nearby == 3  # A is 1 km from OPEN; within 10 km of all three
    # The reason is phrases, worded in the reader's language (in English for the API).
    assert ZH.phrase(top.why) == (
        "未布放约99户（已知商户10户、已有机具1户、摊位100个）；尚无评分数据；10公里内可用库存3台"
    )
    assert top.reason.startswith("about 99 unserved (10 merchants known, 1 with a unit")
    assert top.reason == EN.phrase(top.why)
    assert camp.campaign == "recent" and camp.parts["campaign_penalty"] == 0.3
    assert ZH.phrase(camp.why).endswith("；20天前刚结束一次活动")
    assert camp.score == pytest.approx(top.score * 0.7, abs=0.1)
    assert full.penetration == 0.9 and full.parts["saturation_penalty"] == 0.45
    assert "渗透率90%已近饱和" in ZH.phrase(full.why)
    assert top.score > camp.score > full.score > 0


def test_filters_by_category_and_branch(engine: Engine) -> None:
    with session_scope(engine) as session:
        build(session)
        b = inventory.get_or_none(session, inventory.Branch, code="B")
        assert [
            r.code
            for r in ranking.rank_markets(session, SYSTEM, category=cov.parse_category("石材"))
        ] == ["STONE"]
        assert [r.code for r in ranking.rank_markets(session, SYSTEM, branch_id=b.id)] == ["STONE"]
        assert len(ranking.rank_markets(session, SYSTEM)) == 4


def test_stock_set_aside_for_an_open_campaign_is_not_available(engine: Engine) -> None:
    with session_scope(engine) as session:
        build(session)
        today = today_local()
        stone = inventory.get_or_none(session, inventory.Market, code="STONE")
        running = Campaign(
            name="石材活动",
            market_id=stone.id,
            branch_id=stone.branch_id,
            starts_on=today,
            ends_on=today + timedelta(days=10),
        )
        session.add(running)
        session.flush()
        unit = inventory.get_or_none(session, inventory.Terminal, sn="STOCK-0")
        session.add(CampaignUnit(campaign_id=running.id, terminal_id=unit.id))
        session.flush()
        (top, *_) = ranking.rank_markets(session, SYSTEM, category=MarketCategory.hardware)
        assert top.stock_nearby == 2
        (stone_row,) = ranking.rank_markets(session, SYSTEM, category=MarketCategory.stone)
        assert stone_row.campaign == "running" and stone_row.parts["campaign_penalty"] == 0.5
        assert ZH.phrase(stone_row.why).endswith("；已有活动进行中")
        # Only the stock within the radius counts: A is 56 km from STONE, B has none.
        assert stone_row.stock_nearby == 0
        wide = ranking.rank_markets(session, SYSTEM, category=MarketCategory.stone, radius_km=80)
        assert wide[0].stock_nearby == 2


def test_better_trades_score_higher() -> None:
    fleet = cov.Tally(deployed=100, active=60, txn_30=1000)
    good = cov.Tally(deployed=10, active=9, txn_30=200)  # 90% active, twice the fleet's volume
    poor = cov.Tally(deployed=10, active=3, txn_30=50)
    assert ranking.trade_part(good, fleet) == (0.6 * 0.9 + 0.4 * 1.0, 0.9, 2.0)
    assert ranking.trade_part(poor, fleet)[0] < ranking.trade_part(None, fleet)[0]
    assert ranking.trade_part(None, fleet)[1:] == (0.6, 1.0)  # no units of the trade: the fleet
