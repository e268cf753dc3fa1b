"""Correcting a mis-tap on a phone, in Chinese (issue 17, item 7): the officer records "商户要求
回收" by mistake, corrects it to what happened, sees the correction in the visit's history and
the recovery request withdrawn; "商户无需求" on a unit used last week asks for a confirmation
on the page before any request is raised. Run once, in the SQLite pass."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.db import session_scope
from fleet.inventory.models import Terminal, TerminalState
from fleet.recovery.models import RecoveryRequest, RequestStatus
from fleet.visits.models import Outcome, Visit
from tests.conftest import TEST_URL
from tests.pages.conftest import PHONE, needs_browser
from tests.pages.test_field import OWNER, FieldDay, field_day
from tests.visits.conftest import use

pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    needs_browser,
]


@pytest.fixture
def day(engine: Engine) -> Iterator[FieldDay]:
    yield from field_day(engine)


def unit_of(engine: Engine, visit_id: int) -> tuple[int, TerminalState]:
    with session_scope(engine) as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None and visit.terminal_id is not None
        unit = session.get(Terminal, visit.terminal_id)
        assert unit is not None
        return unit.id or 0, unit.state


def test_a_mis_tap_is_corrected_on_the_phone(
    open_browser: Any, engine: Engine, day: FieldDay
) -> None:
    from playwright.sync_api import expect

    first, second = day.visits[0], day.visits[1]
    unit_id, _ = unit_of(engine, first)
    used_id, _ = unit_of(engine, second)
    with session_scope(engine) as session:
        use(session, used_id, day.today - timedelta(days=6), 4)
    tab = open_browser(viewport=PHONE, locale="zh-CN")
    page = tab.page
    tab.sign_in(OWNER)

    # The mis-tap: "the merchant wants it taken back" raises a recovery request.
    tab.goto(f"/field/visits/{first}")
    page.get_by_label("拜访结果").select_option(label="商户要求回收")
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已登记拜访结果")
    assert unit_of(engine, first)[1] is TerminalState.recovery_requested

    # Corrected on the visit's page, the same day.
    tab.goto(f"/field/visits/{first}")
    page.get_by_text("更正回访结果").click()
    page.get_by_label("拜访结果").select_option(label="已见面，承诺使用")
    page.get_by_label("备注").fill("点错了，老板答应继续用")
    tab.shot("correct-1-form")
    page.get_by_role("button", name="更正", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("回访结果已更正。")
    history = page.locator("ol.history li")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("由“商户要求回收”更正为“已见面，承诺使用”")
    expect(page.locator(".recorded")).to_contain_text("已见面，承诺使用")
    expect(page.locator(".recorded .steps")).to_have_text("回收申请已撤回（结果已更正）")
    tab.shot("correct-2-history")
    assert unit_of(engine, first)[1] is TerminalState.deployed
    with session_scope(engine) as session:
        request = session.execute(
            select(RecoveryRequest).where(col(RecoveryRequest.terminal_id) == unit_id)
        ).scalar_one()
        assert request.status is RequestStatus.withdrawn

    # "No need" on a unit used six days ago: the page asks first, nothing is raised until then.
    tab.goto(f"/field/visits/{second}")
    page.get_by_label("拜访结果").select_option(label="商户无需求")
    page.get_by_role("button", name="登记", exact=True).click()
    question = page.locator(".confirm")
    expect(question).to_contain_text(re.compile(r"还有交易（近 30 天内）：商户真的无需求吗"))
    expect(page.get_by_label("拜访结果")).to_have_value("no_need")  # kept as chosen
    tab.shot("correct-3-confirm")
    assert unit_of(engine, second)[1] is TerminalState.deployed
    page.get_by_label("是的，商户确实无需求：发起回收申请").check()
    page.get_by_role("button", name="登记", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("已登记拜访结果")
    assert unit_of(engine, second)[1] is TerminalState.recovery_requested
    with session_scope(engine) as session:
        recorded = session.get(Visit, second)
        assert recorded is not None and recorded.outcome is Outcome.no_need
    assert tab.errors == [] and tab.blocked == []


def test_operations_find_a_recorded_outcome_from_their_pages_and_correct_it(
    open_browser: Any, engine: Engine, day: FieldDay
) -> None:
    """Ops meet a mis-tap on the day's plan (or the unit's page), open the visit from its
    outcome, correct it there (the request it raised is withdrawn, so the queue no longer
    offers its approval) and go back to the plan, not to a field officer's empty day."""
    from playwright.sync_api import expect

    from fleet.visits import outcomes
    from fleet.visits.schemas import OutcomeRequest
    from tests.visits.test_outcomes import actor

    visit_id = day.visits[0]
    unit_id, _ = unit_of(engine, visit_id)
    with session_scope(engine) as session:
        outcomes.record_outcome(
            session,
            actor(session, OWNER),
            visit_id,
            OutcomeRequest(outcome=Outcome.wants_recovery),
        )
    assert unit_of(engine, visit_id)[1] is TerminalState.recovery_requested
    with session_scope(engine) as session:
        sn = session.get(Terminal, unit_id).sn  # type: ignore[union-attr]
    tab = open_browser(locale="zh-CN")
    page = tab.page
    tab.sign_in("ops_a", path="/ops")
    tab.goto("/ops/recovery")
    expect(page.get_by_role("button", name=f"批准回收 {sn}")).to_have_count(1)
    queue = tab.context.new_page()  # the queue left open in another tab
    queue.goto(tab.base + "/ops/recovery")

    page.get_by_role("link", name="拜访计划").first.click()
    page.locator("#officers tbody tr").first.get_by_role("link").click()
    page.wait_for_load_state("load")
    stop = page.locator(f'#stops tr[data-visit="{visit_id}"]')
    stop.get_by_role("link", name="商户要求回收").click()
    page.wait_for_load_state("load")
    page.get_by_text("更正回访结果").click()
    page.get_by_label("拜访结果").select_option(label="已见面，承诺使用")
    page.get_by_label("备注").fill("客户经理点错了，已电话核实")
    page.get_by_role("button", name="更正", exact=True).click()
    expect(page.locator(".flash")).to_contain_text("回访结果已更正。")
    expect(page.locator("ol.history li").first).to_contain_text(
        "由“商户要求回收”更正为“已见面，承诺使用”"
    )
    tab.shot("correct-4-by-operations")
    assert unit_of(engine, visit_id)[1] is TerminalState.deployed

    page.get_by_role("link", name="返回拜访计划").click()
    page.wait_for_load_state("load")
    assert "/ops/plans" in page.url
    expect(page.locator(f'#stops tr[data-visit="{visit_id}"]')).to_contain_text("已见面，承诺使用")
    tab.goto("/ops/recovery")
    expect(page.get_by_role("button", name=f"批准回收 {sn}")).to_have_count(0)
    # Approved from the tab left open: refused, saying why (nobody else decided anything).
    queue.get_by_role("button", name=f"批准回收 {sn}").click()
    queue.wait_for_load_state("load")
    flash = queue.locator("p.flash")
    expect(flash).to_contain_text(
        re.compile(r"^无需审批：回收申请 #\d+ 已是“已撤回（回访结果已更正）”\s*$")
    )
    assert unit_of(engine, visit_id)[1] is TerminalState.deployed
    assert tab.errors == [] and tab.blocked == []
