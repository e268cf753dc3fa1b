"""The 五提升 scorecard walked in headless Chromium, in Chinese: a staff member's card on the
phone (points, rank among peers, the Wilson note, the idle units that would move it, no
money) and operations' league table (ranked, with the trend, the baseline's state and the
workbook). Run once, in the SQLite pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.core.access import Role
from fleet.core.db import session_scope
from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import needs_browser
from tests.pay.test_scorecard import world

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]
PHONE = (390, 844)


def test_a_staff_card_on_the_phone_and_the_league_table(
    open_browser: Any, engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with session_scope(engine) as session:
        world(session, tmp_path)
        factories.user(session, "ops_ly", Role.branch_ops, "LY")

    phone = open_browser(viewport=PHONE, locale="zh-CN")
    phone.sign_in("li", path="/field/scorecard?period=2026-06")
    page = phone.page
    expect(page.get_by_role("heading", name="我的考核")).to_be_visible()
    expect(page.locator("#rank")).to_have_text("同岗位 2 人中排第 1 名")
    expect(page.locator("#activation")).to_contain_text("台闲置、休眠或从未使用的机具中有")
    expect(page.locator("#wilson")).to_contain_text("按威尔逊下限计分")
    # li's one unit still asleep in June: T2 at 商户M2.
    expect(page.locator("#advice")).to_contain_text("您名下有这 1 台闲置机具：激活其中 1 台可加")
    expect(page.locator("#move-it")).to_contain_text("商户M2")
    expect(page.locator("#my-card")).not_to_contain_text("¥")
    phone.shot("scorecard-1-phone")
    assert phone.errors == [] and phone.blocked == []

    tab = open_browser(locale="zh-CN")
    tab.sign_in("ops_ly", path="/ops/scorecard?period=2026-06")
    expect(tab.page.get_by_role("heading", name="五提升考核")).to_be_visible()
    rows = tab.page.locator("#league tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-staff", "li")
    expect(rows.nth(0)).to_contain_text("Li")
    expect(tab.page.locator("#league thead")).to_contain_text("2026-04")
    expect(tab.page.locator("#league thead")).to_contain_text("存量激活基数（户）")
    expect(tab.page.locator("#baseline")).to_contain_text("基数未锁定")
    # A scorecard's period is a period, not a contract's (承包期 is for contracts only).
    expect(tab.page.get_by_label("期间：月份 2026-11、季度 2026-Q4 或年份 2026")).to_be_visible()
    expect(tab.page.locator("main")).not_to_contain_text("承包")
    expect(tab.page.get_by_role("link", name="下载人力资源考核表")).to_be_visible()
    tab.shot("scorecard-2-league")
    assert tab.errors == [] and tab.blocked == []


def test_a_long_list_of_idle_units_says_it_is_cut_and_shows_the_rest(
    open_browser: Any, engine: Engine, tmp_path: Path
) -> None:
    """Issue 17, item 11: an officer with 25 idle units saw 20 under "these 25 idle units"
    with no word that the list was cut. Failed before (no "显示 20 / 共 25", no way on)."""
    from playwright.sync_api import expect

    from fleet.inventory import service as inventory
    from fleet.inventory.models import TerminalCreate
    from tests.factories import SYSTEM
    from tests.feeds.util import DEPLOYED

    with session_scope(engine) as session:
        world(session, tmp_path)
        for n in range(1, 25):  # 24 more of li's units that never see a transaction
            factories.merchant(session, f"Q{n:02d}", "LY", staff_username="li")
            inventory.create_terminal(
                session,
                SYSTEM,
                TerminalCreate(
                    sn=f"Q{n:02d}",
                    branch_code="LY",
                    merchant_code=f"Q{n:02d}",
                    deployed_at=DEPLOYED,
                ),
            )

    phone = open_browser(viewport=PHONE, locale="zh-CN")
    phone.sign_in("li", path="/field/scorecard?period=2026-06")
    card = phone.page.locator("#move-it")
    expect(card.locator("#advice")).to_contain_text("您名下有这 25 台闲置机具")
    expect(card.locator("li")).to_have_count(20)
    expect(card.locator(".shown-of")).to_contain_text("显示 20 / 共 25")
    card.get_by_role("link", name="查看全部 25 条").click()
    phone.page.wait_for_load_state("load")
    assert "period=2026-06" in phone.page.url
    expect(phone.page.locator("#move-it li")).to_have_count(25)
    expect(phone.page.locator("#move-it .shown-of")).to_have_count(0)
    phone.shot("scorecard-3-all-idle")
    assert phone.errors == [] and phone.blocked == []
