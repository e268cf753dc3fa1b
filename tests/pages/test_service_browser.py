"""A service technician's ticket on a phone (360x740, Chinese) in headless Chromium: signs in,
finds the ticket in the branch's pool, takes it, is on site, records the restore with the
resolution, a part, labour and travel, and the ticket leaves the list. Each form submit must
navigate in the real browser (a restore submit once did not). Run once, in the SQLite pass;
the protocol-level checks run on both databases (test_service_pages.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.aftersales.models import Resolution, TicketState
from tests.conftest import TEST_URL
from tests.pages.conftest import PHONE, needs_browser
from tests.pages.test_service_pages import ServiceWorld, service_world, ticket_of

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"


@pytest.fixture
def sw(engine: Engine) -> ServiceWorld:
    return service_world(engine)


def test_a_technician_restores_a_ticket_on_a_phone(
    open_browser: Any, engine: Engine, sw: ServiceWorld
) -> None:
    from playwright.sync_api import expect

    tid = sw.tickets["A"]
    tab = open_browser(viewport=PHONE, locale="zh-CN")
    page = tab.page
    tab.sign_in("svc_a")
    assert page.url.endswith("/service/today")
    expect(page.get_by_role("heading", name=re.compile("我的工单"))).to_be_visible()
    expect(page.get_by_text("暂无分配给您的工单。")).to_be_visible()
    card = page.locator(f"#pool li[data-ticket='{tid}']")
    expect(card).to_contain_text("读卡器故障")
    expect(card.locator("[data-sla]")).to_contain_text(re.compile(r"剩余 [\d.]+ 个工作小时"))
    expect(card.get_by_role("link", name="高德导航")).to_have_attribute(
        "href", re.compile(r"^https://uri\.amap\.com/navigation\?to=")
    )
    assert page.evaluate(SCROLL_WIDTH) <= PHONE[0]
    tab.shot("service-1-pool")

    card.locator(".stop-head a").click()
    page.get_by_role("button", name="领取此工单").click()
    expect(page.locator(".flash")).to_contain_text("您已领取该工单")
    assert page.url.endswith(f"/service/tickets/{tid}")
    page.get_by_role("button", name="我已到场").click()
    expect(page.locator(".flash")).to_contain_text("已登记到场")
    expect(page.locator(".stop [data-state]")).to_have_text("已到场")

    # First without a resolution: the form says so, in place.
    page.get_by_label("工时（分钟）").fill("40")
    page.get_by_role("button", name="登记修复").click()
    expect(page.locator("#e-resolution")).to_have_text("请选择故障的处理方式。")
    assert ticket_of(engine, tid).state is TicketState.on_site

    page.get_by_label("处理方式").select_option(label="现场修复")
    page.get_by_label("配件1", exact=True).fill("读卡器排线")
    page.get_by_label("配件1费用（元）").fill("35.5")
    page.get_by_label("路程（公里）").fill("12.5")
    page.get_by_label("备注").fill("更换排线后刷卡正常")
    assert page.evaluate(SCROLL_WIDTH) <= PHONE[0]
    tab.shot("service-2-restore-form")
    with page.expect_navigation():
        page.get_by_role("button", name="登记修复").click()
    assert page.url.endswith("/service/today")
    expect(page.locator(".flash")).to_contain_text("已修复，该工单已移出您的列表")
    expect(page.locator(f"li[data-ticket='{tid}']")).to_have_count(0)
    tab.shot("service-3-restored")
    restored = ticket_of(engine, tid)
    assert restored.state is TicketState.restored
    assert restored.resolution is Resolution.repaired_on_site
    assert restored.parts == [{"name": "读卡器排线", "cost": 35.5}]
    assert restored.labour_minutes == 40 and restored.travel_km == 12.5
    # The refused restore answered 422 (the browser logs it); nothing else went wrong.
    assert [e for e in tab.errors if "status of 422" not in e] == []
    assert tab.blocked == []
