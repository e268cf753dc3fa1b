"""Scorecard plans on operations' page, walked in headless Chromium in Chinese: draft June's
plan for a branch, approve it (the baseline frozen: its units and cohort counted), a second
plan for the same period and branch refused in words, and the league table saying the
baseline is frozen. Run once, in the SQLite pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from tests import factories
from tests.conftest import TEST_URL
from tests.pages.conftest import needs_browser
from tests.pay.test_scorecard import world

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_draft_and_approve_a_plan_on_the_page(
    open_browser: Any, engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with session_scope(engine) as session:
        world(session, tmp_path)
        factories.user(session, "ops_ly", Role.branch_ops, "LY")

    tab = open_browser(locale="zh-CN")
    tab.sign_in("ops_ly", path="/ops/scorecard?period=2026-06")
    page = tab.page
    expect(page.locator("#baseline")).to_contain_text("基数未锁定")
    with page.expect_navigation():
        page.get_by_role("link", name="考核方案与基数").click()
    expect(page.get_by_role("heading", name="考核方案", exact=True)).to_be_visible()
    expect(page.get_by_text("还没有考核方案。")).to_be_visible()

    def draft() -> None:
        form = page.locator("#new-plan")
        form.get_by_label("考核期（月份 2026-11、季度 2026-Q4 或年份 2026）").fill("2026-06")
        form.get_by_label("网点").select_option(value="LY")
        form.get_by_label("30 天内达到几笔交易算激活（k）").fill("3")
        with page.expect_navigation():
            form.get_by_role("button", name="起草方案").click()

    draft()
    expect(page.locator(".flash")).to_contain_text("2026-06 的考核方案已起草：审批后锁定基数。")
    row = page.locator("#plans tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_have_attribute("data-state", "draft")
    expect(row).to_contain_text("草稿")
    with page.expect_navigation():
        row.get_by_role("button", name="审批并锁定基数").click()
    expect(page.locator(".flash")).to_contain_text("2026-06 的考核方案已审批：基数已锁定。")
    expect(row).to_have_attribute("data-state", "approved")
    # Five units deployed on 1 June; four of them idle, dormant or never used (the cohort).
    cells = row.locator("td")
    expect(cells.nth(4)).to_have_text("5")
    expect(cells.nth(5)).to_have_text("4")
    tab.shot("scorecard-plans-1-approved")
    # The same period and branch again: refused above the form, in Chinese.
    draft()
    expect(page.locator("#problem")).to_have_text("LY 在 2026-06 的考核方案已存在")
    expect(row).to_have_count(1)
    assert [e for e in tab.errors if "status of 409" not in e] == []  # the refusal's status
    tab.errors.clear()
    tab.goto("/ops/scorecard?period=2026-06")
    expect(page.locator("#baseline")).to_contain_text("基数已按批准的考核方案锁定")
    assert tab.errors == [] and tab.blocked == []
    with session_scope(engine) as session:
        actions = session.exec(
            select(AuditEntry.action).where(AuditEntry.entity == "scorecard_plan")
        ).all()
    assert sorted(actions) == ["approve", "create"]
