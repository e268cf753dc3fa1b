"""Branch operations dispatch a fault ticket from the queue in headless Chromium (Chinese):
the queue shows the SLA countdown, a staff member is chosen by name, the submit navigates
back to the queue, which says so and shows the assignee. Run once, in the SQLite pass."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.aftersales.models import TicketState
from tests.conftest import TEST_URL
from tests.pages.conftest import needs_browser
from tests.pages.test_service_pages import ServiceWorld, service_world, ticket_of

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


@pytest.fixture
def sw(engine: Engine) -> ServiceWorld:
    return service_world(engine)


def test_operations_dispatch_a_ticket(open_browser: Any, engine: Engine, sw: ServiceWorld) -> None:
    from playwright.sync_api import expect

    tid = sw.tickets["A"]
    tab = open_browser(locale="zh-CN")
    page = tab.page
    tab.sign_in("branch_ops_a", path="/ops/tickets")
    expect(page.get_by_role("heading", name="故障工单", exact=True)).to_be_visible()
    row = page.locator(f"#queue tr[data-ticket='{tid}']")
    expect(row.locator("[data-sla]")).to_contain_text(re.compile(r"剩余 [\d.]+ 个工作小时"))
    expect(row).to_contain_text("待派单")
    tab.shot("ops-tickets-1-queue")
    row.get_by_label(f"工单 {tid} 派给").select_option(label="Svc_A")
    with page.expect_navigation():
        row.get_by_role("button", name="派单").click()
    assert page.url.endswith("/ops/tickets")
    expect(page.locator(".flash")).to_contain_text(f"工单 {tid} 已派单")
    row = page.locator(f"#queue tr[data-ticket='{tid}']")
    expect(row).to_contain_text("Svc_A svc_a")
    expect(row).to_contain_text("已派单")
    tab.shot("ops-tickets-2-dispatched")
    assert ticket_of(engine, tid).state is TicketState.assigned
    assert tab.errors == []
    assert tab.blocked == []


def test_units_back_from_the_vendor_say_when_the_list_is_cut(
    open_browser: Any, engine: Engine, sw: ServiceWorld
) -> None:
    """Issue 17, item 11: "Back from the vendor" showed the latest 50 returns with no word
    that there were more. Failed before (no "显示 50 / 共 53", no way to the rest)."""
    from datetime import UTC, datetime, timedelta

    from playwright.sync_api import expect

    from fleet.aftersales.models import RepairOutcome, VendorRepair
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from tests.factories import SYSTEM

    with session_scope(engine) as session:
        unit = inventory.terminal_by_sn(session, SYSTEM, "SNA1")
        back = datetime(2026, 1, 1, tzinfo=UTC)
        for n in range(53):  # one unit's repairs over the years, each back in stock
            session.add(
                VendorRepair(
                    terminal_id=unit.id or 0,
                    branch_id=unit.branch_id,
                    vendor="联迪厂家",
                    sent_at=back + timedelta(days=3 * n),
                    returned_at=back + timedelta(days=3 * n + 2),
                    outcome=RepairOutcome.in_stock,
                    cost=10.0,
                )
            )
    tab = open_browser(locale="zh-CN")
    tab.sign_in("branch_ops_a", path="/ops/vendor-repairs?branch=A")
    expect(tab.page.locator("#back tbody tr")).to_have_count(50)
    expect(tab.page.locator(".shown-of")).to_contain_text("显示 50 / 共 53")
    tab.page.get_by_role("link", name="查看全部 53 条").click()
    tab.page.wait_for_load_state("load")
    expect(tab.page.locator("#back tbody tr")).to_have_count(53)
    assert "branch=A" in tab.page.url
    tab.shot("vendor-repairs-all-back")
    assert tab.errors == [] and tab.blocked == []
