"""A contractor's renewal in headless Chromium (desktop, zh-CN), as an admin does it: the list
links each contractor (branches by name, code small), its page shows the terms by month, new
terms from a month already signed off are refused in Chinese with nothing changed, a renewal from
a later month is kept beside the first terms, and who the contractor is can be changed; an
operations user then reads each month's statement with the terms it follows. Run once, in the
SQLite pass (tests/aftersales/test_contractors.py checks the rules on both databases)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy.engine import Engine

from fleet.aftersales import contractors, statement
from fleet.core.db import session_scope
from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser
from tests.pages.test_service_pages import service_world

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_an_admin_renews_a_contractor_at_new_rates_from_a_month(
    open_browser: Any, engine: Engine
) -> None:
    service_world(engine)
    with session_scope(engine) as session:
        contractors.create(
            session,
            factories.SYSTEM,
            contractors.ContractorCreate(
                code="CTA",
                name="兰山返聘维修队",
                kind="person",
                fee_per_ticket=50,
                penalty_per_breach=100,
                branch_codes=["A1"],
                staff_usernames=["svc_a"],
                from_month="2026-09",
            ),
        )
        statement.sign_off(session, factories.SYSTEM, "CTA", "2026-10")

    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    tab.sign_in("admin", path="/admin/contractors")
    page = tab.page
    row = page.locator("#contractors tr[data-contractor=CTA]")
    expect(row).to_contain_text("网点A1")
    expect(row.locator("small.code")).to_have_text(["CTA", "A1", "svc_a"])
    row.get_by_role("link", name="兰山返聘维修队").click()
    page.wait_for_load_state("load")
    expect(page.locator("#terms tbody tr")).to_have_count(1)
    expect(page.locator("#signed-up-to")).to_contain_text("对账单已确认至 2026-10")
    tab.shot("contractor-1-terms")

    form = page.locator("#new-terms")
    form.get_by_label("起始月份").fill("2026-10")
    form.get_by_label("每单费用").fill("60")
    form.get_by_role("button", name="保存新条款").click()
    page.wait_for_load_state("load")
    expect(form.locator(".error")).to_contain_text("2026-10 的对账单已确认")
    expect(page.locator("#terms tbody tr")).to_have_count(1)

    form.get_by_label("起始月份").fill("2027-01")
    form.get_by_label("每单费用").fill("60")
    form.get_by_role("button", name="保存新条款").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status")).to_contain_text("已保存自 2027-01 起的新条款。")
    expect(page.locator("#terms tbody tr")).to_have_count(2)
    expect(page.locator("#terms tr[data-from='2027-01']")).to_contain_text("¥60.00")
    tab.shot("contractor-2-renewed")

    who = page.locator("#who")
    who.get_by_label("名称").fill("兰山银龄维修队")
    who.get_by_role("button", name="保存").click()
    page.wait_for_load_state("load")
    expect(page.get_by_role("status")).to_contain_text("已保存外包商 兰山银龄维修队。")
    expect(page.locator("h1")).to_contain_text("兰山银龄维修队")

    ops = open_browser(viewport=DESKTOP, locale="zh-CN")
    ops.sign_in("branch_ops_a", path="/ops/statements?month=2026-11")
    terms = ops.page.locator("section[data-contractor=CTA] .terms")
    expect(terms).to_contain_text(re.compile(r"自 2026-09 起的费率.*每张工单 ¥50\.00"))
    ops.goto("/ops/statements?month=2027-01")
    expect(terms).to_contain_text(re.compile(r"自 2027-01 起的费率.*每张工单 ¥60\.00"))
    # The refused form comes back with status 422, which Chromium logs; nothing else may be.
    assert [e for e in tab.errors if "status of 422" not in e] == [] and ops.errors == []
    assert tab.blocked == [] and ops.blocked == []
    assert all(not found for found in tab.accessibility.values()), tab.accessibility
