"""Names, China's days and cut lists in headless Chromium (desktop, zh-CN), as an operations
user reads them: the branch and the person by name with the code in small print, a unit
deployed at 00:00 Beijing time on its Beijing day, and "显示 10 / 共 12" with the way to the
rest. Run once, in the SQLite pass (the protocol tests check both databases)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser
from tests.pages.test_cut_lists import build
from tests.pages.test_local_days import MIDNIGHT_BEIJING

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_an_operations_user_reads_names_beijing_days_and_cut_lists(
    open_browser: Any, engine: Engine
) -> None:
    from playwright.sync_api import expect

    world = build(engine)
    with session_scope(engine) as session:
        factories.merchant(session, "MID1", "A1")
        midnight = inventory.create_terminal(
            session,
            factories.SYSTEM,
            TerminalCreate(
                sn="MIDNIGHT1",
                model="T100",
                branch_code="A1",
                merchant_code="MID1",
                deployed_at=MIDNIGHT_BEIJING,
            ),
        )
        midnight_id = midnight.id
    decided = len(world.decided)

    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    tab.sign_in("branch_ops_a", path="/ops/recovery")
    page = tab.page
    lately = page.locator("p.shown-of")
    expect(lately).to_have_text(re.compile(rf"显示 10 / 共 {decided}"))
    expect(page.locator("#decided tbody tr")).to_have_count(10)
    # Decided by the operations user: the full name, the username after it in small print.
    expect(page.locator("#decided tbody tr").first).to_contain_text("Branch_Ops_A")
    expect(page.locator("#decided tbody tr small.code").first).to_have_text("branch_ops_a")
    tab.shot("names-1-decided-cut")
    page.get_by_role("link", name=f"查看全部 {decided} 条").click()
    page.wait_for_load_state("load")
    expect(page.locator("#decided tbody tr")).to_have_count(decided)
    expect(page.locator("p.shown-of")).to_have_count(0)

    page.goto(f"{tab.base}/ops/search?q=MIDNIGHT1", wait_until="load")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    expect(page.locator("#results tbody tr")).to_contain_text("2025年11月26日")
    tab.shot("names-2-search-beijing-day")
    page.get_by_role("link", name="MIDNIGHT1").click()
    page.wait_for_load_state("load")
    expect(page.locator("#terminal-state")).to_contain_text("自 2025年11月26日 起")
    expect(page.locator("dl.facts")).to_contain_text("网点A1")
    expect(page.locator("dl.facts small.code").first).to_have_text("A1")
    assert page.url.endswith(f"/ops/terminals/{midnight_id}")
    tab.shot("names-3-unit-header")

    page.goto(f"{tab.base}/ops/search?q=STK", wait_until="load")
    expect(page.locator(".pager .shown-of")).to_contain_text("显示 20 / 共 32")
    page.get_by_role("link", name="下一页").click()
    page.wait_for_load_state("load")
    expect(page.locator(".pager .shown-of")).to_contain_text("显示 12 / 共 32")
    tab.shot("names-4-search-paged")
    assert tab.errors == []
    assert tab.blocked == []
