"""Contractors: terms, covered branches, their technicians' view, and the monthly statement
(XLSX; totals are the sum of the lines; provisional until the month is over; signed off once)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import col

from fleet.aftersales import contractors, service, statement
from fleet.aftersales.models import Ticket
from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid
from tests import factories
from tests.aftersales.conftest import SYSTEM, World, open_for

NOVEMBER = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def team(world: World) -> World:
    """Contractor RT, a re-hired team covering county A (one outlet, A1): 4,000 yuan per
    outlet a year, 50 per ticket, 100 per missed deadline; technician svc_c (home: the city)."""
    with session_scope() as session:
        factories.terminal(session, "SNA2", "A1", "CA1")
        factories.user(session, "svc_c", Role.service, "LY")
        contractors.create(
            session,
            SYSTEM,
            contractors.ContractorCreate(
                code="RT",
                name="返聘售后组",
                kind="person",
                fee_per_ticket=50,
                penalty_per_breach=100,
                branch_codes=["A"],
                staff_usernames=["svc_c"],
            ),
        )
    return world


def backdate(ticket_id: int, **values: object) -> None:
    """Moves a ticket into November (the services stamp the present moment)."""
    with session_scope() as session:
        session.execute(
            update(Ticket).where(col(Ticket.id) == ticket_id).values(opened_at=NOVEMBER, **values)
        )


def test_terms_are_checked_and_only_admins_set_them(team: World) -> None:
    with pytest.raises(Forbidden), session_scope() as session:
        contractors.create(
            session, team.actor("branch_ops_a"), contractors.ContractorCreate(code="X", name="X")
        )
    with pytest.raises(Invalid, match="service role"), session_scope() as session:
        contractors.create(
            session,
            SYSTEM,
            contractors.ContractorCreate(code="Y", name="Y", staff_usernames=["field_a"]),
        )
    with pytest.raises(Conflict, match="exists already"), session_scope() as session:
        contractors.create(session, SYSTEM, contractors.ContractorCreate(code="RT", name="again"))
    with session_scope() as session:
        shown = contractors.public(session, contractors.by_code(session, SYSTEM, "RT"))
    assert (shown.annual_fee_per_outlet, shown.branch_codes, shown.staff_usernames) == (
        4000.0,
        ["A"],
        ["svc_c"],
    )


def test_a_contractors_technician_sees_only_the_branches_it_covers(team: World) -> None:
    a = open_for(team, "SNA1")
    open_for(team, "SNB1", who="branch_ops_b")
    with session_scope() as session:
        svc_c = team.actor("svc_c")  # home branch: the city, which would show both
        assert [t.id for t in service.list_tickets(session, svc_c)] == [a]
        assert [t.id for t in service.list_tickets(session, team.actor("svc_b"))] != []


def test_the_monthly_statement_adds_up_and_is_signed_off_once(team: World, tmp_path: Path) -> None:
    late = open_for(team, "SNA1")
    on_time = open_for(team, "SNA2")
    elsewhere = open_for(team, "SNB1", who="branch_ops_b")  # county B: not RT's
    backdate(late, breached_response=True, breached_restore=True)
    backdate(on_time)
    backdate(elsewhere)
    ops = team.actor("branch_ops_a")
    with session_scope() as session:
        made = statement.build(session, ops, "RT", "2026-11")
    assert not made.provisional and made.outlets == 1
    assert [(line.ticket_id, line.fee, line.penalty) for line in made.lines] == [
        (late, 50.0, 200.0),
        (on_time, 50.0, 0.0),
    ]
    assert (made.base_fee, made.ticket_fees, made.penalties) == (333.33, 100.0, 200.0)
    assert made.amount_due == 233.33

    out = tmp_path / "rt-2026-11.xlsx"
    statement.write_xlsx(made, out)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    # One language per workbook (Chinese by default): no English heading beside the Chinese.
    assert rows[1] == (
        "工单", "终端 SN", "网点", "报修时间", "修复时间", "状态", "故障", "超时", "单次费用（元）",
        "扣款（元）",
    )  # fmt: skip
    lines = [r for r in rows[2:] if r and isinstance(r[0], int)]
    assert lines[0][7] == "响应超时、修复超时" and not lines[1][7]
    totals = {r[0]: r[9] for r in rows if r and isinstance(r[0], str) and r[9] is not None}
    assert sum(r[8] for r in lines) == totals["工单费用合计"]
    assert -sum(r[9] for r in lines) == totals["超时扣款合计"]
    assert totals["应付金额"] == pytest.approx(
        totals["网点年费分摊（1 个网点 × 年费 / 12）"] + sum(r[8] - r[9] for r in lines)
    )
    english = tmp_path / "rt-2026-11-en.xlsx"
    statement.write_xlsx(made, english, "en")
    rows = list(load_workbook(english).active.iter_rows(values_only=True))
    assert rows[1][:3] == ("Ticket", "Unit SN", "Branch")
    assert rows[2][7] == "response late, restore late"

    with session_scope() as session:
        current = statement.build(session, ops, "RT", "2026-12")
        assert current.provisional and current.lines == []
        with pytest.raises(Conflict, match="provisional"):
            statement.sign_off(session, ops, "RT", "2026-12")
        with pytest.raises(Forbidden):
            statement.sign_off(session, team.actor("svc_a"), "RT", "2026-11")
        statement.sign_off(session, ops, "RT", "2026-11")
    with pytest.raises(Conflict, match="signed off already"), session_scope() as session:
        statement.sign_off(session, team.actor("admin"), "RT", "2026-11")
    with session_scope() as session:
        assert statement.build(session, ops, "RT", "2026-11").signed_off_by == "branch_ops_a"
        with pytest.raises(Invalid, match="month must look like"):
            statement.build(session, ops, "RT", "November")
