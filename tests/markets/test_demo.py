"""The demo region has markets in the nine trades and one finished campaign with a report."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from fleet import wiring
from fleet.core.db import make_engine, session_scope
from fleet.demo.build import build_demo
from fleet.inventory.models import Market, MarketCategory
from fleet.markets import report
from fleet.markets.models import Campaign, CampaignPhase


@pytest.mark.slow
def test_demo_has_markets_of_every_trade_and_a_finished_campaign(tmp_path: Path) -> None:
    wiring.plug_in()  # as `fleet demo` does: alone, no other test has plugged fleet in
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    built = build_demo(url, seed=7, scale=0.05, echo=lambda _: None)
    engine = make_engine(url)
    with session_scope(engine) as session:
        trades = {m.category.value for m in session.execute(select(Market)).scalars()}
        (campaign,) = session.execute(select(Campaign)).scalars().all()
        result = report.campaign_report(session, campaign, today=built.as_of)
    engine.dispose()
    assert trades >= {c.value for c in MarketCategory} - {"other"}
    assert result.campaign.phase is CampaignPhase.finished
    assert result.placed > 0 and result.judged == result.placed
    assert result.before is not None and result.after is not None
    # Its market's 动户率 rose (issue 17, item 9; tests/demo has the story in full).
    assert result.active_rate_change is not None and result.active_rate_change > 0
    # The feed was generated after the campaign, so its units have usage.
    assert sum(line.txn_first_30 for line in result.placements) > 0
