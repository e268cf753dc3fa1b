"""The operations user's main path in headless Chromium (desktop, zh-CN): sign in, read the
KPIs, open the recovery queue, approve a request, and see the KPI move. Run once, in the
SQLite pass (the protocol tests check the same pages on both databases)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser
from tests.pages.test_ops import OpsWorld, build_world

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


@pytest.fixture
def ops_world(engine: Engine, tmp_path: Path) -> OpsWorld:
    return build_world(engine, tmp_path)


def test_an_operations_user_approves_a_recovery_and_sees_the_kpi_move(
    open_browser: Any, ops_world: OpsWorld
) -> None:
    from playwright.sync_api import expect

    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    tab.sign_in("branch_ops_a", path="/ops")
    page = tab.page
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("网点概览"))
    expect(page.locator("#kpi-active-rate .value")).to_have_text("50.0%")
    expect(page.locator("#kpi-recovery-approved .value")).to_have_text("0")
    expect(page.locator("#kpi-recovery-waiting .value")).to_have_text("1")
    expect(page.locator("svg.chart")).to_have_count(3)
    tab.shot("ops-1-overview")

    page.get_by_role("link", name="回收审批").first.click()
    card = page.locator(f"#request-{ops_world.requests['UA3']}")
    expect(card).to_contain_text("UA3")
    expect(card).to_contain_text("商户从未使用")
    expect(card).to_contain_text("从未使用")
    tab.shot("ops-2-queue")

    card.get_by_role("button", name="批准回收 UA3").click()
    page.wait_for_load_state("load")
    expect(page.locator("p.flash")).to_contain_text("已批准回收 UA3")
    expect(page.locator(f"#request-{ops_world.requests['UA3']}")).to_have_count(0)
    expect(page.locator("#decided tr[data-sn='UA3']")).to_contain_text("branch_ops_a")
    tab.shot("ops-3-approved")

    page.get_by_role("link", name="概览").first.click()
    expect(page.locator("#kpi-recovery-approved .value")).to_have_text("1")
    expect(page.locator("#kpi-recovery-waiting .value")).to_have_text("0")
    tab.shot("ops-4-kpi-moved")

    page.goto(f"{tab.base}/ops/terminals/{ops_world.ids['UA3']}", wait_until="load")
    expect(page.locator("#terminal-state")).to_contain_text("已批准回收")
    tab.shot("ops-5-terminal")
    assert tab.errors == []
    assert tab.blocked == []


def test_a_request_decided_in_another_tab_says_who_decided_in_words(
    open_browser: Any, ops_world: OpsWorld
) -> None:
    """Two tabs on the queue (a colleague's, or the user's own): the second approval of the
    same request says it was decided first, by whom (by name) and how, in Chinese: no
    'approved' and no username."""
    from playwright.sync_api import expect

    first, second = (open_browser(viewport=DESKTOP, locale="zh-CN") for _ in range(2))
    for tab in (first, second):
        tab.sign_in("branch_ops_a", path="/ops/recovery")
    first.page.get_by_role("button", name="批准回收 UA3").click()
    first.page.wait_for_load_state("load")
    second.page.get_by_role("button", name="批准回收 UA3").click()
    second.page.wait_for_load_state("load")
    flash = second.page.locator("p.flash")
    expect(flash).to_contain_text("已有他人先行审批")
    expect(flash).to_contain_text("Branch_Ops_A")  # the decider's full name
    said = flash.inner_text()
    assert "approved" not in said and "branch_ops_a" not in said, said
    second.shot("ops-6-decided-elsewhere")
