"""Contractors: terms, covered branches, their technicians' view, and the monthly statement
(XLSX; totals are the sum of the lines; provisional until the month is over; signed off once)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update
from sqlmodel import col, select

from fleet.aftersales import contractors, service, statement
from fleet.aftersales.models import Ticket
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid
from fleet.inventory.models import Branch
from tests import factories
from tests.aftersales.conftest import SYSTEM, World, open_for

NOVEMBER = datetime(2026, 11, 10, 3, 0, tzinfo=UTC)


@pytest.fixture
def team(world: World) -> World:
    """Contractor RT, a re-hired team covering county A (one outlet, A1): 4,000 yuan per
    outlet a year, 50 per ticket, 100 per missed deadline, from October 2026; technician svc_c
    (home: the city)."""
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
                from_month="2026-10",
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
    # Each ticket's branch by name, its code after (not the code alone).
    code = made.lines[0].branch_code
    with session_scope() as session:
        name = session.execute(select(Branch).where(col(Branch.code) == code)).scalar_one().name
    assert lines[0][2] == f"{name} ({code})" != code
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


def test_new_terms_from_a_month_leave_earlier_statements_as_they_were(team: World) -> None:
    """A renewal at new rates from December: November's statement keeps the first terms (they
    cover the months before their own, too), December's follows the new ones; terms can't start
    in or before a month signed off, and terms not yet used can be corrected (audited)."""
    late = open_for(team, "SNA1")
    backdate(late, breached_response=True)
    admin, ops = team.actor("admin"), team.actor("branch_ops_a")
    renewal = contractors.TermsChange(
        from_month="2026-12", annual_fee_per_outlet=4800, fee_per_ticket=60, penalty_per_breach=80
    )
    with session_scope() as session:
        with pytest.raises(Forbidden):
            contractors.set_terms(session, ops, "RT", renewal)
        contractors.set_terms(session, admin, "RT", renewal)
    with session_scope() as session:
        november = statement.build(session, ops, "RT", "2026-11")
        december = statement.build(session, ops, "RT", "2026-12")
        october = statement.build(session, ops, "RT", "2026-10")
    assert (november.terms_from, november.base_fee, november.lines[0].fee) == (
        "2026-10",
        333.33,
        50.0,
    )
    assert october.terms_from == "2026-10"
    assert november.lines[0].penalty == 100.0 and october.base_fee == 333.33
    assert (december.terms_from, december.base_fee, december.rates.fee_per_ticket) == (
        "2026-12",
        400.0,
        60.0,
    )

    with session_scope() as session:
        statement.sign_off(session, ops, "RT", "2026-11")
    for month in ("2026-11", "2026-10"):
        with pytest.raises(Conflict, match="signed off already"), session_scope() as session:
            contractors.set_terms(
                session, admin, "RT", renewal.model_copy(update={"from_month": month})
            )
    with session_scope() as session:
        contractors.set_terms(
            session, admin, "RT", renewal.model_copy(update={"fee_per_ticket": 55})
        )
        shown = contractors.public(session, contractors.by_code(session, admin, "RT"))
        history = session.execute(
            select(AuditEntry.action, AuditEntry.changes).where(
                col(AuditEntry.entity) == "contractor", col(AuditEntry.action) == "set_terms"
            )
        ).all()
    assert [(t.from_month, t.fee_per_ticket) for t in shown.terms] == [
        ("2026-10", 50.0),
        ("2026-12", 55.0),
    ]
    assert history[-1][1]["before"]["fee_per_ticket"] == 60.0
    assert history[-1][1]["after"]["fee_per_ticket"] == 55.0
    with pytest.raises(Invalid, match="month must look like"), session_scope() as session:
        contractors.set_terms(
            session, admin, "RT", renewal.model_copy(update={"from_month": "2026-13"})
        )


def test_who_the_contractor_is_changes_and_a_technician_works_for_one_contractor(
    team: World,
) -> None:
    admin = team.actor("admin")
    with session_scope() as session:
        factories.user(session, "svc_d", Role.service, "LY")
        contractors.change(
            session,
            admin,
            "RT",
            contractors.Who(
                name="银龄售后队",
                kind="company",
                branch_codes=["A", "B"],
                staff_usernames=["svc_d"],
            ),
        )
    with session_scope() as session:
        shown = contractors.public(session, contractors.by_code(session, admin, "RT"))
        assert (shown.name, shown.kind, shown.branch_codes, shown.staff_usernames) == (
            "银龄售后队",
            "company",
            ["A", "B"],
            ["svc_d"],
        )
        # svc_c left RT: it now sees every branch a plain service user sees.
        assert contractors.covered_for_user(session, team.actor("svc_c").user_id) is None
    # A technician already working for another contractor: refused in words, not a crash.
    with pytest.raises(Conflict, match="works for contractor RT"), session_scope() as session:
        contractors.create(
            session,
            admin,
            contractors.ContractorCreate(code="OT", name="另一家", staff_usernames=["svc_d"]),
        )
    with pytest.raises(Forbidden), session_scope() as session:
        contractors.change(session, team.actor("branch_ops_a"), "RT", contractors.Who(name="x"))
