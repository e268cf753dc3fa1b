"""The operations' plans page in headless Chromium, in Chinese: the day's summary by field
officer, one officer's stops, a stop moved to another officer, the day planned again, and its
sheets printed. Run once, in the SQLite pass (test_plans.py checks both databases)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import TEST_URL
from tests.pages.conftest import DESKTOP, needs_browser
from tests.pages.test_ops import OpsWorld
from tests.pages.test_plans import ops_world  # noqa: F401  (the fixture)

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


def test_an_operations_user_moves_a_stop_replans_and_prints(
    open_browser: Any,
    ops_world: OpsWorld,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    tab = open_browser(viewport=DESKTOP, locale="zh-CN")
    tab.sign_in("branch_ops_a", path="/ops")
    page = tab.page
    page.get_by_role("link", name="拜访计划").first.click()
    officers = page.locator("#officers tbody tr")
    expect(officers).to_have_count(1)  # the day was planned for one officer
    expect(officers.first).to_contain_text("Field_A")
    tab.shot("plans-1-summary")

    officers.first.get_by_role("link").click()
    page.wait_for_load_state("load")
    stops = page.locator("#stops tbody tr")
    before = stops.count()
    assert before >= 2
    tab.shot("plans-2-officer")

    first = stops.filter(has=page.get_by_role("button", name="移交")).first
    # No officer is chosen for the user: a click on 移交 alone moves nothing (it moved the
    # stop to the first officer of the list).
    chooser = first.get_by_label(re.compile("^把第 \\d+ 站移交给$"))
    expect(chooser).to_have_value("")
    first.get_by_role("button", name="移交").click()
    expect(page.locator("#stops tbody tr")).to_have_count(before)
    expect(page.locator("p.flash")).to_have_count(0)
    chooser.select_option(label="Field_A2")
    first.get_by_role("button", name="移交").click()
    page.wait_for_load_state("load")
    expect(page.locator("p.flash")).to_contain_text("已移交给Field_A2，排在其路线第 1 站。")
    expect(page.locator("#stops tbody tr")).to_have_count(before - 1)
    tab.shot("plans-3-moved")

    page.get_by_role("link", name="全部客户经理").click()
    expect(page.locator("#officers tbody tr")).to_have_count(2)
    page.get_by_role("button", name="重新规划当天").click()
    page.wait_for_load_state("load")
    expect(page.locator("p.flash")).to_contain_text("已重新规划当天")
    tab.shot("plans-4-replanned")

    href = page.locator("#print-day").get_attribute("href")
    assert href
    tab.goto(href)
    expect(page.locator("h1")).to_contain_text("回访计划")
    expect(page.locator("svg.map").first).to_be_visible()
    tab.shot("plans-5-print")
    # As printed: each officer's sheet on its own landscape pages.
    page.emulate_media(media="print")
    sheets = page.locator("section")
    expect(sheets).to_have_count(2)  # two officers (no candidate was left out)
    assert sheets.first.evaluate("s => getComputedStyle(s).breakAfter") == "page"
    assert page.pdf(prefer_css_page_size=True).startswith(b"%PDF")
    assert not tab.errors, tab.errors
