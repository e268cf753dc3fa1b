"""Every lifecycle move, allowed and refused, with its placements, events and audit entries."""

from __future__ import annotations

from collections import deque

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import AT_MERCHANT, Placement, Terminal, TerminalState
from tests import factories
from tests.factories import SYSTEM

S = TerminalState
ALL_PAIRS = [(a, b) for a in S for b in S]


def path_to(state: TerminalState) -> list[TerminalState]:
    """The shortest chain of allowed moves from in_stock to `state`."""
    queue: deque[list[TerminalState]] = deque([[S.in_stock]])
    while queue:
        path = queue.popleft()
        if path[-1] is state:
            return path[1:]
        queue.extend([*path, n] for n in sorted(lifecycle.ALLOWED[path[-1]]) if n not in path)
    raise AssertionError(f"{state} unreachable")


def move(session: Session, terminal: Terminal, to: TerminalState) -> None:
    needs_merchant = to is S.deployed and terminal.state not in AT_MERCHANT
    lifecycle.transition(
        session,
        SYSTEM,
        terminal,
        to,
        reason=f"to {to.value}",
        merchant_code="C1" if needs_merchant else None,
    )


@pytest.fixture
def unit(session: Session) -> Terminal:
    factories.branch(session, "LY", level="city")
    factories.merchant(session, "C1", "LY")
    return factories.terminal(session, "SN1", "LY")


def open_placements(session: Session, terminal: Terminal) -> int:
    stmt = select(func.count()).where(
        Placement.terminal_id == terminal.id, Placement.ended_at.is_(None)
    )  # type: ignore[union-attr]
    return int(session.execute(stmt).scalar_one())


@pytest.mark.parametrize(("start", "target"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_each_move_is_allowed_or_refused_by_the_table(
    session: Session, unit: Terminal, start: TerminalState, target: TerminalState
) -> None:
    for step in path_to(start):
        move(session, unit, step)
    assert unit.state is start
    events_before = len(lifecycle.events(session, unit))

    if target in lifecycle.ALLOWED[start]:
        move(session, unit, target)
        assert unit.state is target
        assert (unit.merchant_id is not None) == (target in AT_MERCHANT)
        assert open_placements(session, unit) == (1 if target in AT_MERCHANT else 0)
        last = lifecycle.events(session, unit)[-1]
        assert (last.from_state, last.to_state, last.why) == (
            start,
            target,
            {"code": "text", "values": {"text": f"to {target.value}"}},
        )
        audit_row = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "transition")
                .order_by(AuditEntry.id.desc())
            )
            .scalars()
            .first()
        )  # type: ignore[union-attr]
        assert audit_row is not None
        assert audit_row.changes["state"] == [start.value, target.value]
    else:
        with pytest.raises(Conflict) as refused:
            move(session, unit, target)
        assert f"is {start.value}" in refused.value.message
        assert refused.value.details["current_state"] == start.value
        assert unit.state is start
        assert len(lifecycle.events(session, unit)) == events_before


def test_a_full_round_trip_keeps_the_placement_history(session: Session, unit: Terminal) -> None:
    for step in (
        S.deployed,
        S.recovery_requested,
        S.recovery_approved,
        S.recovered,
        S.in_stock,
        S.deployed,
    ):
        move(session, unit, step)
    history = lifecycle.placements(session, unit)
    assert [p.ended_at is None for p in history] == [False, True]
    assert history[0].end_reason == "recovered"


def test_deploying_needs_an_open_merchant_in_scope(session: Session, unit: Terminal) -> None:
    with pytest.raises(Invalid, match="needs merchant_code"):
        lifecycle.transition(session, SYSTEM, unit, S.deployed)
    with pytest.raises(NotFound):
        lifecycle.transition(session, SYSTEM, unit, S.deployed, merchant_code="NOPE")
    factories.merchant(session, "CLOSED", "LY", status="closed")
    with pytest.raises(Invalid, match="is closed"):
        lifecycle.transition(session, SYSTEM, unit, S.deployed, merchant_code="CLOSED")
    assert unit.state is S.in_stock


def test_a_move_cannot_be_dated_before_the_current_state(session: Session, unit: Terminal) -> None:
    from datetime import timedelta

    with pytest.raises(Invalid, match="cannot be dated before"):
        lifecycle.transition(
            session, SYSTEM, unit, S.faulty, at=unit.state_since - timedelta(days=1)
        )


def test_of_two_concurrent_moves_exactly_one_wins(
    engine: object, session: Session, unit: Terminal
) -> None:
    session.commit()
    with session_scope() as first, session_scope() as second:
        a = inventory.terminal_by_sn(first, SYSTEM, "SN1")
        b = inventory.terminal_by_sn(second, SYSTEM, "SN1")
        lifecycle.transition(first, SYSTEM, a, S.faulty, reason="broken screen")
        first.commit()
        with pytest.raises(Conflict, match="now faulty"):
            lifecycle.transition(second, SYSTEM, b, S.retired)
    with session_scope() as check:
        assert inventory.terminal_by_sn(check, SYSTEM, "SN1").state is S.faulty


def test_the_database_refuses_a_deployed_unit_without_a_merchant(
    session: Session, unit: Terminal
) -> None:
    session.commit()
    with pytest.raises(IntegrityError), session_scope() as raw:
        raw.execute(text("UPDATE terminal SET state = 'deployed' WHERE sn = 'SN1'"))
        raw.flush()


def test_the_database_refuses_two_open_placements(session: Session, unit: Terminal) -> None:
    move(session, unit, S.deployed)
    session.commit()
    with pytest.raises(IntegrityError), session_scope() as raw:
        merchant = inventory.merchant_by_code(raw, SYSTEM, "C1")
        raw.add(
            Placement(
                terminal_id=unit.id or 0, merchant_id=merchant.id or 0, started_at=unit.state_since
            )
        )
        raw.flush()
