"""Pickers longer than they hold, in headless Chromium (desktop, zh-CN): the contract form's
field staff and markets and the ticket dispatch's service staff were cut at 500 without a
word, so the 501st person or market could not be chosen. A cut picker says "显示 N / 共 M" and
takes any other's code typed (suggested from the first ones), as the search page's market
filter does. PICKER_LIMIT is lowered to 3 here so the lists are short; the pages behave as
at 500. Run once, in the SQLite pass."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.aftersales import service
from fleet.aftersales.models import Symptom, TicketSource
from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.pages.ops import common
from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_cut_pickers_say_so_and_take_the_others_typed(
    open_browser: Any, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect

    monkeypatch.setattr(common, "PICKER_LIMIT", 3)
    with session_scope(engine) as session:
        world = factories.two_branches(session)
        for n in range(2, 6):  # field_a and field_a2 … field_a5: 5 field staff in A
            factories.user(session, f"field_a{n}", Role.field, "A1")
        for n in range(1, 5):  # MKA1 and MX1 … MX4: 5 markets in A
            factories.market(session, f"MX{n}", "A1")
        for n in range(1, 6):  # svc_1 … svc_5: 5 service staff in A
            factories.user(session, f"svc_{n}", Role.service, "A1")
        unit = inventory.terminal_by_sn(session, factories.SYSTEM, "SNA1")
        ticket = service.open_ticket(
            session, factories.SYSTEM, unit, Symptom.card_reader, source=TicketSource.phone
        )
        ticket_id = ticket.id
    assert world.users["field_a"]

    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    tab.sign_in("branch_ops_a", path="/ops/contracts")
    page = tab.page
    form = page.locator("#new-contract")
    expect(form.locator("#staff-cut")).to_have_text(
        "显示 3 / 共 5 名外勤人员：其余人员请输入用户名。"
    )
    expect(form.locator('input[type="checkbox"][name^="staff:"]')).to_have_count(3)
    expect(form.locator("#markets-cut")).to_have_text(
        "显示 3 / 共 5 个市场：其余市场请输入市场代码。"
    )
    expect(form.locator("#market-list option")).to_have_count(3)
    tab.shot("cut-pickers-1-contract-form")
    # field_a5 and MX4 sort past the first three: typed, they are taken all the same.
    form.locator('[name="name"]').fill("五号外勤市场承包")
    form.locator('input[name="staff:field_a"]').check()
    form.locator('[name="staff_more"]').fill("field_a5")
    form.locator('[name="portfolio_kind"]').select_option("market")
    form.locator('[name="market_code"]').fill("MX4")
    form.locator('[name="period"]').fill("2026-Q4")
    form.locator('[name="commission_pct"]').fill("5")
    form.get_by_role("button", name="保存草稿").click()
    page.wait_for_load_state("load")
    assert "/ops/contracts/" in page.url and not page.url.endswith("/new"), page.url
    expect(page.locator("main")).to_contain_text("Field_A5")
    expect(page.locator("main")).to_contain_text("Field_A")
    expect(page.locator("main")).to_contain_text("市场MX4")
    tab.shot("cut-pickers-2-contract-drafted")

    page.goto(f"{tab.base}/ops/tickets", wait_until="load")
    cut = page.locator(f"#staff-cut-{ticket_id}")
    expect(cut).to_have_text("显示 3 / 共 5 名售后人员：其余人员请输入用户名。")
    expect(page.locator(f"#staff-list-{ticket_id} option")).to_have_count(3)
    page.locator(f"#assign-{ticket_id}").fill("svc_5")
    tab.shot("cut-pickers-3-dispatch")
    page.locator(f"#assign-{ticket_id}").locator("xpath=..").get_by_role(
        "button", name="派单"
    ).click()
    page.wait_for_load_state("load")
    expect(page.locator("body")).to_contain_text(f"工单 {ticket_id} 已派单。")
    expect(page.locator("body")).to_contain_text("Svc_5")
