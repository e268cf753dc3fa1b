"""A marketing user plans a campaign, in headless Chromium on a desktop screen in Chinese:
signs in, reads the market ranking, plans a campaign in the top market (an end date before
the start is refused next to the field, then fixed) and lands on the new campaign's page.
Run once, in the SQLite pass; the protocol-level checks run on both databases."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.core.db import session_scope
from fleet.markets.models import Campaign, CampaignStaff
from tests.conftest import TEST_URL
from tests.markets.conftest import build
from tests.pages.conftest import DESKTOP, needs_browser
from tests.scoring.util import as_of

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_a_marketing_user_plans_a_campaign(open_browser: Any, engine: Engine) -> None:
    from playwright.sync_api import expect

    with session_scope(engine) as session:
        world = build(session, as_of())
    starts = world.today + timedelta(days=7)
    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    page = tab.page

    tab.sign_in("marketing_a")
    expect(page.get_by_role("heading", name="市场排名")).to_be_visible()
    mk1 = page.locator('tr[data-market="MK1"]')
    expect(mk1.locator('[data-figure="merchants"]')).to_have_text("5")
    expect(mk1.locator('[data-figure="active_rate"]')).to_have_text("50.0%")
    expect(mk1.locator('[data-figure="white_spots"]')).to_have_text("2")
    expect(mk1).to_contain_text("五金")
    tab.shot("marketing-1-ranking")

    mk1.get_by_role("link", name="策划营销活动").click()
    expect(page.get_by_role("heading", name="策划营销活动")).to_be_visible()
    expect(page.get_by_label("活动名称")).to_have_value("市场MK1专项营销")
    page.get_by_label("开始日期").fill(starts.isoformat())
    page.get_by_label("结束日期").fill((starts - timedelta(days=1)).isoformat())  # a slip
    page.get_by_label("目标布放台数").fill("2")
    page.get_by_label(re.compile("field_a1")).check()
    page.get_by_label(re.compile(r"^\s*S1 ")).check()
    page.get_by_label(re.compile(r"^\s*S2 ")).check()
    page.get_by_role("button", name="创建营销活动").click()

    error = page.locator("#e-ends_on")
    expect(error).to_have_text("结束日期早于开始日期。")
    expect(page.get_by_label("结束日期")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("开始日期")).to_have_value(starts.isoformat())
    expect(page.get_by_label(re.compile("field_a1"))).to_be_checked()
    expect(page.get_by_label(re.compile(r"^\s*S2 "))).to_be_checked()
    tab.shot("marketing-2-planner-error")

    page.get_by_label("结束日期").fill((starts + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="创建营销活动").click()
    expect(page.get_by_role("status")).to_have_text("营销活动“市场MK1专项营销”已创建。")
    expect(page.get_by_role("heading", name=re.compile("市场MK1专项营销"))).to_be_visible()
    expect(page.locator('[data-figure="placed"]')).to_have_text("0 / 2")
    expect(page.locator('[data-figure="staff"]')).to_have_text("邱秀 field_a1")
    expect(page.locator('[data-figure="units"]')).to_have_text("2")
    expect(page.locator("table.prospects")).to_contain_text("M4")
    expect(page.get_by_role("link", name="活动地图")).to_have_attribute(
        "href", re.compile(r"^/maps/campaign/\d+$")
    )
    tab.shot("marketing-3-campaign")
    # The refused form came back as 422 (as it should), which Chromium logs; nothing else.
    refused = "Failed to load resource: the server responded with a status of 422"
    assert [e for e in tab.errors if not e.startswith(refused)] == []
    assert len(tab.errors) == 1 and tab.blocked == []

    with session_scope(engine) as session:
        (campaign,) = session.exec(select(Campaign)).all()
        staff = session.exec(select(CampaignStaff)).all()
    assert (campaign.starts_on, campaign.target_placements, len(staff)) == (starts, 2, 1)
