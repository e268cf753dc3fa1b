"""Contracts (承包) walked in headless Chromium, in Chinese: operations draft a contract, see a
second one on the same merchant refused with nothing made, approve and settle it and find the
settlement's line; the staff member holding it sees it on the phone, without money. Run once,
in the SQLite pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from fleet.core.db import session_scope
from fleet.pay.contract_models import Contract, ContractStatus
from tests.conftest import TEST_URL
from tests.pages.conftest import needs_browser
from tests.pay.test_contracts import world

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]
PHONE = (390, 844)


def contracts_made(engine: Engine) -> list[tuple[str, ContractStatus, int | None]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Contract).order_by(Contract.id)).all()  # type: ignore[arg-type]
        return [(c.name, c.status, c.settled_total_fen) for c in rows]


def draft(page: Any, name: str) -> None:
    form = page.locator("#new-contract")
    form.get_by_label("合同名称").fill(name)
    form.get_by_label("Li").check()
    form.get_by_label("承包范围").select_option(label="指定商户")
    form.get_by_label("商户编号（按商户承包时），用空格或逗号分隔").fill("M2")
    form.get_by_label("承包期：月份 2026-11、季度 2026-Q4 或年份 2026").fill("2026-06")
    form.get_by_label("目标净收益（元）").fill("100")
    form.get_by_label("提成比例（净收益的 %）").fill("10")
    with page.expect_navigation():
        form.get_by_role("button", name="保存草稿").click()


def test_operations_draft_approve_and_settle_and_staff_see_theirs(
    open_browser: Any, engine: Engine, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with session_scope(engine) as session:
        world(session, tmp_path)
    tab = open_browser(locale="zh-CN")
    page = tab.page
    tab.sign_in("ops_ls", path="/ops/contracts")
    expect(page.get_by_role("heading", name="承包合同", exact=True)).to_be_visible()
    draft(page, "六月承包")
    expect(page.locator(".flash")).to_contain_text("承包合同“六月承包”已存为草稿")
    expect(page.locator("#contract-status")).to_have_text("草稿")
    tab.shot("contracts-1-draft")
    # The same merchant in the same month again: refused above the form, nothing made.
    tab.goto("/ops/contracts")
    draft(page, "重复承包")
    expect(page.locator(".form-error")).to_contain_text(
        "该承包范围在这段期间已有其他承包合同：#1 六月承包 (2026-06: M2)"
    )
    tab.shot("contracts-2-refused")
    assert [e for e in tab.errors if "status of 422" not in e] == []  # the refusal's status
    tab.errors.clear()
    assert [name for name, _, _ in contracts_made(engine)] == ["六月承包"]
    page.locator("#contracts").get_by_role("link", name="六月承包").click()
    with page.expect_navigation():
        page.get_by_role("button", name="批准（锁定条款和基数）").click()
    expect(page.locator(".flash")).to_contain_text("条款和基数已锁定")
    expect(page.locator("#contract-status")).to_have_text("进行中")
    with page.expect_navigation():
        page.get_by_role("button", name="结算本期").click()
    expect(page.locator(".flash")).to_contain_text("已结算：合计 ¥9.00，共 1 行明细")
    expect(page.locator("#statement-total")).to_have_text("¥9.00")
    line = page.locator("#statement-lines tr[data-sn='T2']")
    expect(line).to_contain_text("终端收益")
    expect(line).to_contain_text("¥90.00")
    expect(page.get_by_role("link", name="下载薪酬发放表（Excel）")).to_be_visible()
    tab.shot("contracts-3-settled")
    assert contracts_made(engine) == [("六月承包", ContractStatus.settled, 900)]
    assert tab.errors == [] and tab.blocked == []

    phone = open_browser(viewport=PHONE, locale="zh-CN")
    phone.sign_in("li", path="/field/contracts")
    card = phone.page.locator("section.contract")
    expect(card).to_contain_text("六月承包")
    expect(card).to_contain_text("已结算")
    expect(card).to_contain_text("已达起付线：可计发提成。")
    expect(card).not_to_contain_text("¥")  # no money for staff
    phone.shot("contracts-4-phone")
    assert phone.errors == [] and phone.blocked == []
    with session_scope(engine) as session:
        assert session.exec(select(func.count()).select_from(Contract)).one() == 1


def test_a_contract_of_many_merchants_names_five_and_shows_the_rest(
    open_browser: Any, engine: Engine, tmp_path: Path
) -> None:
    """Issue 17, item 11: a contract over named merchants read "商户1 (M1)、… … (6)": five
    names, a bare count, and no way to see which the others are. Now "显示 5 / 共 6" and every
    merchant a tap away, on the holder's phone and on operations' page. Failed before."""
    from datetime import date

    from playwright.sync_api import expect

    from fleet.pay import contracts
    from fleet.pay.contract_models import ContractCreate
    from tests.factories import SYSTEM
    from tests.pay.test_contracts_api import NEW

    with session_scope(engine) as session:
        world(session, tmp_path)
        codes = [f"M{n}" for n in range(1, 7)]
        data = ContractCreate.model_validate({**NEW, "merchant_codes": codes, "period": "2026-Q3"})
        made = contracts.create(session, SYSTEM, data)
        contracts.approve(session, SYSTEM, made.id or 0, today=date(2026, 6, 1))
        cid = made.id

    phone = open_browser(viewport=PHONE, locale="zh-CN")
    phone.sign_in("li", path="/field/contracts")
    card = phone.page.locator(f"[data-contract='{cid}']")
    more = card.locator("details.all-of")
    expect(more.locator("summary")).to_contain_text("显示 5 / 共 6")
    expect(more.locator("li")).to_have_count(6)
    expect(more.locator("li").nth(5)).not_to_be_visible()
    more.locator("summary").click()
    expect(more.locator("li").nth(5)).to_be_visible()
    expect(more.locator("li").nth(5)).to_contain_text("M6")
    phone.shot("contracts-3-all-merchants-phone")
    assert phone.errors == [] and phone.blocked == []

    tab = open_browser(locale="zh-CN")
    tab.sign_in("ops_ls", path=f"/ops/contracts/{cid}")
    # The period to its last day (the stored end, 1 Oct, is not in it). Failed before.
    expect(tab.page.locator("#terms")).to_contain_text("2026-Q3（2026年7月1日 – 2026年9月30日）")
    terms = tab.page.locator("#terms details.all-of")
    expect(terms.locator("summary")).to_contain_text("显示 5 / 共 6")
    expect(terms.locator("li")).to_have_count(6)
    assert tab.errors == [] and tab.blocked == []
