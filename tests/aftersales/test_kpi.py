"""After-sales KPIs on a hand-timed history: time to restore in business hours (mean, p90),
SLA met, first-time fix, repeats, downtime per 100 units, cost per outlet."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlmodel import col

from fleet.aftersales import kpi, service
from fleet.aftersales.models import Resolution, RestoreRequest, Ticket
from fleet.core.db import session_scope
from fleet.inventory.models import Placement, Terminal
from tests import factories
from tests.aftersales.conftest import SYSTEM, World, open_for

CN = ZoneInfo("Asia/Shanghai")
# SQLAlchemy's deprecations fail these tests: the next SQLAlchemy would remove the call.
pytestmark = pytest.mark.filterwarnings("error::sqlalchemy.exc.SADeprecationWarning")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=CN)


def fixed(world: World, sn: str, cost: float) -> int:
    admin = world.actor("admin")
    ticket_id = open_for(world, sn, who="admin")
    with session_scope() as session:
        service.assign(session, admin, ticket_id)
        service.restore(
            session,
            admin,
            ticket_id,
            RestoreRequest(
                resolution=Resolution.repaired_on_site, parts=[{"name": "电源", "cost": cost}]
            ),  # type: ignore[list-item]
        )
        service.close(session, admin, ticket_id)
    return ticket_id


def timed(ticket_id: int, opened: str, restored: str, **values: object) -> None:
    """Puts a ticket at given times (the services stamp the present moment)."""
    with session_scope() as session:
        session.execute(
            update(Ticket)
            .where(col(Ticket.id) == ticket_id)
            .values(opened_at=at(opened), restored_at=at(restored), **values)
        )


def test_kpis_by_branch_model_and_contractor(world: World) -> None:
    with session_scope() as session:
        factories.terminal(session, "SNA2", "A1", "CA1")
    first = fixed(world, "SNA1", 30.0)
    late = fixed(world, "SNA2", 0.0)
    repeat = fixed(world, "SNA1", 10.0)  # the same unit again: a repeat of `first`
    timed(first, "2026-11-03T09:00", "2026-11-03T11:00")  # 2 business hours
    timed(late, "2026-11-06T16:30", "2026-11-09T14:30", breached_restore=True)  # Fri → Mon: 7 h
    timed(repeat, "2026-11-20T09:00", "2026-11-20T14:00")  # 5 h, 17 days after `first`
    with session_scope() as session:
        [a1] = [r for r in kpi.kpis(session, SYSTEM, by="branch") if r.group == "A1"]
        [model] = kpi.kpis(session, SYSTEM, by="model")
    assert (a1.tickets, a1.restored) == (3, 3)
    assert (a1.mean_restore_hours, a1.p90_restore_hours) == (4.67, 7.0)
    assert a1.sla_met_pct == 66.7  # `late` missed its restore deadline
    assert a1.first_time_fix_pct == 66.7  # `first` came back within 30 days
    assert (a1.repeats_30, a1.repeats_90) == (1, 1)
    # 3 units in A1 (SNA1, SNA2, spare SPA1); down 2 h + 70 h + 5 h = 3.21 days.
    assert a1.units == 3 and a1.downtime_days_per_100_units == 106.94
    assert (a1.cost, a1.outlets, a1.cost_per_outlet_year) == (40.0, 1, 40.0)
    assert a1.cost_per_ticket == 13.33
    # 3 faults in the year over the model's 5 units (both branches): 60 per 100 units a year.
    assert (model.group, model.tickets, model.units) == ("T100", 3, 5)
    assert model.failures_per_100_units_year == 60.0
    with session_scope() as session:
        from fleet.aftersales import contractors

        contractors.create(
            session,
            SYSTEM,
            contractors.ContractorCreate(code="RT", name="返聘售后组", branch_codes=["B"]),
        )
        assert kpi.kpis(session, SYSTEM, by="contractor") == []  # B had no faults
        assert kpi.kpis(session, world.actor("branch_ops_b"), by="branch") == []


def test_reliability_by_the_units_years_in_service(world: World) -> None:
    """Faults grouped by the unit's whole years in service at the fault (first placement,
    else registration); per 100 units of that age today, per year."""
    first = fixed(world, "SNA1", 0.0)
    with session_scope() as session:
        factories.terminal(session, "SNA2", "A1", "CA1")
        session.execute(
            update(Placement)
            .where(
                col(Placement.terminal_id)
                == select(Terminal.id).where(col(Terminal.sn) == "SNA2").scalar_subquery()
            )
            .values(started_at=at("2023-06-01T10:00"))
        )
    old = fixed(world, "SNA2", 0.0)
    timed(first, "2026-11-03T09:00", "2026-11-03T11:00")
    timed(old, "2026-11-04T09:00", "2026-11-04T11:00")
    with session_scope() as session:
        rows = {r.group: r for r in kpi.kpis(session, SYSTEM, by="age")}
    assert set(rows) == {"0-1", "3+"}
    assert (rows["3+"].tickets, rows["3+"].units) == (1, 1)
    assert rows["3+"].failures_per_100_units_year == 100.0
    assert rows["0-1"].tickets == 1 and rows["0-1"].units >= 1
    assert kpi.age_band(None, at("2026-11-04T09:00")) == "0-1"
    assert kpi.age_band(at("2024-11-03T09:00"), at("2026-11-04T09:00")) == "2-3"
