"""A merchant reports a fault from the QR sticker on a phone (360x740, Chinese, no account) in
headless Chromium: the page shows the shop's name and the symptoms in Chinese, the submit
navigates to the thanks; branch operations then find the ticket in their queue. Run once, in
the SQLite pass; the protocol-level checks run on both databases (test_qr.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.aftersales.models import Ticket, TicketSource
from fleet.core.db import session_scope
from tests.conftest import TEST_URL
from tests.pages.conftest import PHONE, needs_browser
from tests.pages.test_qr import QrWorld, qr_world

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


@pytest.fixture
def qw(engine: Engine) -> QrWorld:
    return qr_world(engine)


def test_a_merchant_reports_a_fault_and_operations_see_it(
    open_browser: Any, engine: Engine, qw: QrWorld
) -> None:
    from playwright.sync_api import expect

    tab = open_browser(viewport=PHONE, locale="zh-CN")
    page = tab.page
    tab.goto(f"/qr/{qw.token}")
    expect(page.get_by_role("heading", name="机具报修")).to_be_visible()
    expect(page.locator("main")).to_contain_text(qw.shop)
    expect(page.locator("main")).not_to_contain_text(qw.phone)
    for label in ("电话线路 / 无拨号音", "读卡器故障", "打印机故障", "密钥注入 / 密码键盘"):
        expect(page.get_by_label(label)).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE[0]
    tab.shot("qr-1-form")
    page.get_by_label("打印机故障").check()
    page.get_by_label("其他情况说明（选填）").fill("打印不出小票")
    with page.expect_navigation():
        page.get_by_role("button", name="提交报修").click()
    expect(page.locator(".flash")).to_contain_text("谢谢，您的报修已送达银行售后团队")
    tab.shot("qr-2-sent")
    with session_scope(engine) as session:
        ticket = session.execute(select(Ticket)).scalar_one()
        assert ticket.source is TicketSource.qr
    assert tab.errors == [] and tab.blocked == []

    ops = open_browser(locale="zh-CN")
    ops.sign_in("branch_ops_a", path="/ops/tickets")
    row = ops.page.locator(f"#queue tr[data-ticket='{ticket.id}']")
    expect(row).to_contain_text("打印机故障")
    expect(row).to_contain_text("商户扫码报修")
    expect(row).to_contain_text(qw.shop)
    ops.shot("qr-3-ops-queue")
    assert ops.errors == []
