"""Each move of a fault ticket and each refusal; the unit's state follows in the same
transaction; who sees which ticket."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from fleet.aftersales import service, spares
from fleet.aftersales.models import (
    Resolution,
    RestoreRequest,
    Spare,
    Symptom,
    Ticket,
    TicketEvent,
    TicketSource,
    TicketState,
)
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.inventory import service as inventory
from fleet.inventory.models import Placement, TerminalState
from tests.aftersales.conftest import SYSTEM, World, open_for

T = TicketState
U = TerminalState


def unit(world: World, sn: str) -> tuple[U, int | None]:
    with session_scope(world.engine) as session:
        found = inventory.terminal_by_sn(session, SYSTEM, sn)
        return found.state, found.merchant_id


def unit_id(session: Session, sn: str) -> int:
    return inventory.terminal_by_sn(session, SYSTEM, sn).id or 0


def ticket(world: World, ticket_id: int) -> Ticket:
    with session_scope(world.engine) as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


def test_opening_a_ticket_makes_the_unit_faulty_and_starts_the_clock(world: World) -> None:
    _, merchant_id = unit(world, "SNA1")
    ticket_id = open_for(world)
    opened = ticket(world, ticket_id)
    assert (opened.state, opened.source, opened.merchant_id) == (T.open, "phone", merchant_id)
    assert opened.area.value == "town"  # the merchant is ~1.4 km from county branch A
    assert opened.respond_by and opened.restore_by and opened.respond_by <= opened.restore_by
    assert unit(world, "SNA1") == (U.faulty, None)
    with session_scope(world.engine) as session:
        events = session.execute(select(TicketEvent)).scalars().all()
        assert [(e.from_state, e.to_state) for e in events] == [(None, T.open)]
        audited = session.execute(
            select(AuditEntry.action).where(col(AuditEntry.entity) == "fault_ticket")
        ).all()
        assert [a for (a,) in audited] == ["ticket_open"]


def test_the_whole_path_and_the_unit_back_at_its_merchant(world: World) -> None:
    _, merchant_id = unit(world, "SNA1")
    ticket_id = open_for(world)
    svc = world.actor("svc_a")
    ops = world.actor("branch_ops_a")
    with session_scope(world.engine) as session:
        service.assign(session, svc, ticket_id)
    with session_scope(world.engine) as session:
        service.arrive(session, svc, ticket_id)
    with pytest.raises(Invalid, match="needs a resolution"), session_scope(world.engine) as s:
        service.restore(s, svc, ticket_id, RestoreRequest())
    assert ticket(world, ticket_id).state is T.on_site  # nothing changed
    assert unit(world, "SNA1")[0] is U.faulty
    data = RestoreRequest(
        resolution=Resolution.repaired_on_site,
        note="换读卡头",
        parts=[{"name": "读卡头", "cost": 35.5}],  # type: ignore[list-item]
        labour_minutes=40,
        travel_km=6.5,
    )
    with session_scope(world.engine) as session:
        service.restore(session, svc, ticket_id, data)
    restored = ticket(world, ticket_id)
    assert (restored.state, restored.parts_cost, restored.labour_minutes) == (T.restored, 35.5, 40)
    assert restored.responded_at and restored.on_site_at and restored.restored_at
    assert unit(world, "SNA1") == (U.deployed, merchant_id)
    with session_scope(world.engine) as session:
        service.close(session, ops, ticket_id)
    with pytest.raises(Conflict, match="is closed already"), session_scope(world.engine) as s:
        service.close(s, ops, ticket_id)
    with session_scope(world.engine) as session:
        moves = session.execute(
            select(TicketEvent.to_state).where(col(TicketEvent.ticket_id) == ticket_id)
        ).all()
        assert [m for (m,) in moves] == [T.open, T.assigned, T.on_site, T.restored, T.closed]
        placements = session.execute(select(Placement).order_by(col(Placement.id))).scalars()
        # The fault ended the placement; the repair started one at the same merchant.
        mine = [p for p in placements if p.merchant_id == merchant_id]
        assert [p.ended_at is None for p in mine] == [False, True]


def test_a_unit_not_at_a_merchant_gets_no_ticket(world: World) -> None:
    with pytest.raises(Conflict, match="not at a merchant"):
        open_for(world, "SPA1")
    with session_scope(world.engine) as session:
        assert session.execute(select(Ticket)).first() is None


def test_no_two_open_tickets_for_one_unit_and_a_fault_within_30_days_is_a_repeat(
    world: World,
) -> None:
    first = open_for(world)
    with pytest.raises(Conflict, match="has an open ticket already"):
        open_for(world)
    ops = world.actor("branch_ops_a")
    with session_scope(world.engine) as session:
        service.assign(session, ops, first)
        service.arrive(session, ops, first)
        service.restore(session, ops, first, RestoreRequest(resolution=Resolution.no_fault_found))
        service.close(session, ops, first)
    second = open_for(world)
    assert ticket(world, second).repeat_of_id == first
    assert ticket(world, first).repeat_of_id is None


def test_the_vendor_pauses_the_clock_and_takes_the_unit_to_repair(world: World) -> None:
    ticket_id = open_for(world)
    ops = world.actor("branch_ops_a")
    with session_scope(world.engine) as session:
        service.assign(session, ops, ticket_id)
        service.send_to_vendor(session, ops, ticket_id, note="主板")
    paused = ticket(world, ticket_id)
    assert paused.state is T.at_vendor and paused.paused_since is not None
    assert unit(world, "SNA1")[0] is U.in_repair
    with session_scope(world.engine) as session:
        service.resume(session, ops, ticket_id)
        service.restore(
            session, ops, ticket_id, RestoreRequest(resolution=Resolution.sent_to_vendor)
        )
    back = ticket(world, ticket_id)
    assert back.paused_since is None and back.paused_hours >= 0
    assert unit(world, "SNA1")[0] is U.deployed


def test_a_swap_places_the_spare_and_takes_the_broken_unit_to_repair(world: World) -> None:
    _, merchant_id = unit(world, "SNA1")
    ticket_id = open_for(world)
    ops = world.actor("branch_ops_a")
    admin = world.actor("admin")
    swap = RestoreRequest(resolution=Resolution.swapped, spare_sn="SPB1")
    with session_scope(world.engine) as session:
        service.assign(session, ops, ticket_id)
    with pytest.raises(Conflict, match="another branch"), session_scope(world.engine) as s:
        service.restore(s, admin, ticket_id, swap)
    assert unit(world, "SPB1")[0] is U.in_stock and ticket(world, ticket_id).state is T.assigned
    own = RestoreRequest(resolution=Resolution.swapped, spare_sn="SPA1")
    with pytest.raises(Conflict, match="not marked as a spare"), session_scope(world.engine) as s:
        service.restore(s, ops, ticket_id, own)
    with session_scope(world.engine) as session:
        spares.mark(session, ops, "SPA1")
    with session_scope(world.engine) as session:
        service.restore(session, ops, ticket_id, own)
        assert session.get(Spare, unit_id(session, "SPA1")) is None  # at a merchant now
    assert unit(world, "SPA1") == (U.deployed, merchant_id)
    assert unit(world, "SNA1") == (U.in_repair, None)


def test_cancelling_puts_the_unit_back(world: World) -> None:
    _, merchant_id = unit(world, "SNA1")
    ticket_id = open_for(world)
    with session_scope(world.engine) as session:
        service.cancel(session, world.actor("branch_ops_a"), ticket_id, note="误报")
    assert ticket(world, ticket_id).state is T.cancelled
    assert unit(world, "SNA1") == (U.deployed, merchant_id)
    with pytest.raises(Conflict, match="is cancelled already"), session_scope(world.engine) as s:
        service.cancel(s, world.actor("branch_ops_a"), ticket_id)


def test_service_staff_see_their_own_tickets_and_their_branchs_pool(world: World) -> None:
    a1 = open_for(world, "SNA1")
    b1 = open_for(world, "SNB1", who="branch_ops_b")
    svc_a, svc_a2, svc_b = (world.actor(u) for u in ("svc_a", "svc_a2", "svc_b"))
    with session_scope(world.engine) as session:
        assert [t.id for t in service.list_tickets(session, svc_a)] == [a1]
        assert [t.id for t in service.list_tickets(session, svc_b)] == [b1]
        with pytest.raises(NotFound):
            service.get_ticket(session, svc_b, a1)
        service.assign(session, svc_a2, a1)
    with session_scope(world.engine) as session:
        # Taken by a colleague: out of svc_a's pool.
        assert service.list_tickets(session, svc_a) == []
        assert [t.id for t in service.list_tickets(session, svc_a2)] == [a1]
        with pytest.raises(NotFound):
            service.arrive(session, svc_a, a1)
        with pytest.raises(Forbidden):
            service.close(session, svc_a2, a1)
        ops_b = world.actor("branch_ops_b")
        assert [t.id for t in service.list_tickets(session, ops_b)] == [b1]
        admin = world.actor("admin")
        assert sorted(t.id or 0 for t in service.list_tickets(session, admin)) == [a1, b1]


def test_field_staff_and_marketing_cannot_work_tickets(world: World) -> None:
    ticket_id = open_for(world)
    with session_scope(world.engine) as session:
        with pytest.raises(Forbidden):
            service.get_ticket(session, world.actor("marketing_a"), ticket_id)
        # Field staff see only the faults they reported themselves.
        with pytest.raises(NotFound):
            service.get_ticket(session, world.actor("field_a"), ticket_id)
        with pytest.raises(Forbidden):
            service.assign(session, world.actor("field_a"), ticket_id)
        unit_ = inventory.terminal_by_sn(session, SYSTEM, "SNB1")
        with pytest.raises(Forbidden):
            service.open_ticket(
                session, world.actor("field_a"), unit_, Symptom.power, source=TicketSource.phone
            )
