"""A field officer's day on a phone (360x740, Chinese) in headless Chromium: signs in, reads
today's route (stops in order with times, AMap links in GCJ-02), opens the first stop, records
its outcome sharing the phone's position, and sees it recorded. Run once, in the SQLite pass;
the protocol-level checks run on both databases (test_field.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from fleet.core.geo import wgs84_to_gcj02
from fleet.inventory.models import Merchant
from fleet.visits.models import Visit
from tests.conftest import TEST_URL
from tests.pages.conftest import PHONE, needs_browser
from tests.pages.test_field import OWNER, FieldDay, field_day, local_zone

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]
SCROLL_WIDTH = "() => document.documentElement.scrollWidth"
# Bytes over the wire for the page and everything it loaded (headers included).
TRANSFERRED = """() => performance.getEntriesByType("navigation")
  .concat(performance.getEntriesByType("resource"))
  .reduce((sum, entry) => sum + entry.transferSize, 0)"""


@pytest.fixture
def day(engine: Engine) -> Iterator[FieldDay]:
    yield from field_day(engine)


def stops_of(engine: Engine, ids: list[int]) -> list[tuple[Visit, Merchant]]:
    with session_scope(engine) as session:
        found = []
        for visit_id in ids:
            visit = session.get(Visit, visit_id)
            assert visit is not None
            merchant = session.get(Merchant, visit.merchant_id)
            assert merchant is not None
            found.append((visit, merchant))
        return found


def test_a_field_officer_records_a_visit_on_a_phone(
    open_browser: Any, engine: Engine, day: FieldDay
) -> None:
    from playwright.sync_api import expect

    stops = stops_of(engine, day.visits)
    first, shop = stops[0]
    assert shop.lat is not None and shop.lng is not None
    # The phone stands about 30 m from the first shop.
    tab = open_browser(viewport=PHONE, locale="zh-CN", geolocation=(shop.lat + 0.0003, shop.lng))
    page = tab.page

    tab.sign_in(OWNER)
    assert page.url.endswith("/field/today")
    expect(page.get_by_role("heading", name=re.compile("今日拜访"))).to_be_visible()
    cards = page.locator("ol.route").first.locator("li.stop")
    expect(cards).to_have_count(len(stops))
    for n, (visit, merchant) in enumerate(stops):
        card = cards.nth(n)
        arrival = visit.planned_arrival.astimezone(local_zone()).strftime("%H:%M")
        expect(card.locator(".stop-head")).to_contain_text(
            re.compile(rf"^\s*{visit.seq}\s*{arrival}–")
        )
        expect(card.locator(".stop-head")).to_contain_text(merchant.name)
        glat, glng = wgs84_to_gcj02(merchant.lat or 0, merchant.lng or 0)
        amap = card.get_by_role("link", name="高德导航")
        expect(amap).to_have_attribute(
            "href", re.compile(re.escape(f"navigation?to={glng:.6f},{glat:.6f},"))
        )
    expect(page.locator("svg.sketch circle")).to_have_count(len(stops))
    expect(page.get_by_role("link", name="查看完整路线地图")).to_be_visible()
    expect(page.get_by_role("heading", name="昨天未完成")).to_be_visible()
    assert page.evaluate(SCROLL_WIDTH) <= PHONE[0]
    transferred = page.evaluate(TRANSFERRED)
    print(f"\n/field/today with {len(stops)} stops: {transferred} bytes transferred")
    assert transferred < 40_000
    tab.shot("field-1-today")

    cards.first.get_by_role("link", name="登记结果").click()
    expect(page.get_by_role("heading", name=shop.name)).to_be_visible()
    page.get_by_label("拜访结果").select_option(label="已见面，承诺使用")
    page.get_by_label("备注").fill("老板答应明天开始用")
    page.get_by_label("本次拜访共享我的位置").check()
    expect(page.locator("#proof-status")).to_contain_text("已获取位置")
    assert page.evaluate(SCROLL_WIDTH) <= PHONE[0]
    tab.shot("field-2-outcome-form")
    page.get_by_role("button", name="登记", exact=True).click()

    expect(page.locator(".flash")).to_contain_text(f"已登记拜访结果：{shop.name}")
    done = page.locator(f"#v{first.id}")
    expect(done).to_contain_text("已见面，承诺使用")
    expect(done).to_contain_text("老板答应明天开始用")
    expect(done.locator(".proof")).to_have_text(re.compile(r"离店(2\d|3\d)米"))
    assert page.evaluate(SCROLL_WIDTH) <= PHONE[0]
    tab.shot("field-3-recorded")
    with session_scope(engine) as session:
        recorded = session.get(Visit, first.id)
        assert recorded is not None and recorded.outcome is not None
        assert recorded.proof_lat == pytest.approx(shop.lat + 0.0003, abs=1e-6)
        assert recorded.proof_flagged is False
    assert tab.errors == []
    assert tab.blocked == []
