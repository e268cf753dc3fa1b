"""A campaign whose market's 动户率 fell says why (issue 17, item 9): units new in the market
since the start and not active yet, and units active before that have gone quiet since, on
the report, its page (in Chinese) and its workbook; a rise says nothing of the kind."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from fleet.markets import exports, report, run
from fleet.markets.models import Campaign
from fleet.scoring import service as scoring
from tests.markets.conftest import World
from tests.markets.test_campaigns import noon, plan
from tests.scoring.util import add_usage


def fallen(engine: Engine, world: World, tmp_path: Path) -> int:
    """MK1 before the start (D-77): t2 and t3b busy, t1 and t3 not yet: 2 of 4 active. After
    (D): t2 and t3b quiet since, t1 and t3 busy, and the campaign's S1 and S2 not used: 2 of 6."""
    d = world.today
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        marketing = world.actor(session, "marketing_a")
        for sn, merchant, back in (("S1", "P1", 65), ("S2", "M5", 50)):
            run.place_unit(
                session,
                marketing,
                campaign,
                sn=sn,
                merchant_code=merchant,
                at=noon(d - timedelta(back)),
            )
        add_usage(session, world.units["T2"], d - timedelta(days=80), 6)
        add_usage(session, world.units["T3B"], d - timedelta(days=85), 3)
        for back in (77, 0):
            scoring.score(session, as_of=d - timedelta(days=back))
        return campaign.id or 0


def test_the_report_says_why_the_markets_rate_fell(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    cid = fallen(engine, world, tmp_path)
    with session_scope(engine) as session:
        campaign = session.get(Campaign, cid)
        assert campaign is not None
        result = report.campaign_report(session, campaign)
        path = exports.write_report_xlsx(
            result, report.prospect_list(session, campaign), tmp_path / "report.xlsx"
        )
    assert result.before is not None and result.after is not None
    assert (result.before.active, result.before.deployed) == (2, 4)
    assert (result.after.active, result.after.deployed) == (2, 6)
    assert result.active_rate_change is not None and result.active_rate_change < 0
    assert (result.fall_new_inactive, result.fall_gone_quiet) == (2, 2)
    summary = {
        row[0]: row[1] for row in load_workbook(io.BytesIO(path.read_bytes()))["汇总"].values
    }
    assert summary["下降原因：新增未活跃机具"] == 2
    assert summary["下降原因：转为不活跃的原活跃机具"] == 2


def test_the_campaign_page_says_it_in_chinese(
    engine: Engine, world: World, tmp_path: Path, client: TestClient
) -> None:
    cid = fallen(engine, world, tmp_path)
    from tests.pages.test_field import sign_in

    sign_in(client, "marketing_a")
    page = client.get(f"/marketing/campaigns/{cid}", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200, page.text
    assert (
        "市场动户率下降 16.7 个百分点的原因：活动开始后市场新增的机具中有 2 台尚未活跃" in page.text
    )
    assert "活动前活跃的机具中有 2 台此后转为闲置或休眠" in page.text


def test_a_rise_needs_no_excuse(engine: Engine, world: World, tmp_path: Path) -> None:
    d = world.today
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        scoring.score(session, as_of=d - timedelta(days=77))
        result = report.campaign_report(session, campaign)
    assert result.active_rate_change is not None and result.active_rate_change > 0
    assert (result.fall_new_inactive, result.fall_gone_quiet) == (None, None)
