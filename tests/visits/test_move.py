"""Moving a planned stop to another field officer: the receiving route takes it where it adds
the least driving and keeps every rule (the stored plan passes the independent check), both
routes are renumbered and retimed, the move is audited, and what may not move is refused
with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core.audit import AuditEntry
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.visits import move, outcomes, verify
from fleet.visits import plan as planning
from fleet.visits.models import Outcome, Visit, VisitPlan, VisitStatus
from fleet.visits.schemas import OutcomeRequest
from tests.visits.conftest import Region
from tests.visits.test_plan import actor


def planned(session: Session, plan_id: int, staff_id: int) -> list[Visit]:
    stmt = select(Visit).where(
        col(Visit.plan_id) == plan_id,
        col(Visit.staff_id) == staff_id,
        col(Visit.status) != VisitStatus.cancelled,
    )
    return sorted(session.execute(stmt).scalars(), key=lambda v: v.seq)


def a_plan(session: Session, region: Region) -> VisitPlan:
    return planning.plan_day(
        session, actor(session, "ops_a"), branch_code="A", plan_date=region.today
    )


def test_a_stop_moves_to_another_officer_and_both_routes_keep_the_rules(
    engine: Engine, region: Region
) -> None:
    with session_scope(engine) as session:
        plan = a_plan(session, region)
        giver = next(
            u
            for u in ("field_a1", "field_a2", "field_a3")
            if planned(session, plan.id or 0, region.users[u])
        )
        taker = next(u for u in ("field_a1", "field_a2", "field_a3") if u != giver)
        stop = planned(session, plan.id or 0, region.users[giver])[0]
        before = {v.id for v in planned(session, plan.id or 0, region.users[taker])}
        moved = move.move_stop(session, actor(session, "ops_a"), stop.id or 0, region.users[taker])
        assert moved.id == stop.id and moved.staff_id == region.users[taker]
        mine = planned(session, plan.id or 0, region.users[taker])
        assert {v.id for v in mine} == before | {stop.id}
        assert [v.seq for v in mine] == list(range(1, len(mine) + 1))
        rest = planned(session, plan.id or 0, region.users[giver])
        assert [v.seq for v in rest] == list(range(1, len(rest) + 1))
        assert verify.stored_plan_problems(session, plan, get_settings()) == []
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.entity == "visit", AuditEntry.action == "move")
        ).scalar_one()
        assert entry.changes["staff"] == [giver, taker] and entry.actor_name == "ops_a"
        by_staff = {e["staff_id"]: e for e in plan.routes}
        assert by_staff[region.users[taker]]["distance_m"] > 0
        assert plan.distance_m == sum(e["distance_m"] for e in plan.routes)


def test_what_may_not_move_is_refused_with_nothing_changed(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        plan = a_plan(session, region)
        visits = [
            v
            for u in ("field_a1", "field_a2", "field_a3")
            for v in planned(session, plan.id or 0, region.users[u])
        ]
        first = visits[0]
        ops = actor(session, "ops_a")
        with pytest.raises(Invalid):  # to the same officer
            move.move_stop(session, ops, first.id or 0, first.staff_id)
        with pytest.raises(Invalid):  # to an officer of another county
            move.move_stop(session, ops, first.id or 0, region.users["field_b1"])
        with pytest.raises(NotFound):  # by the other county's operations
            move.move_stop(
                session, actor(session, "ops_b"), first.id or 0, region.users["field_b1"]
            )
        field = actor(session, "field_a1")
        with pytest.raises(Forbidden):  # field staff do not plan
            move.move_stop(session, field, first.id or 0, region.users["field_a2"])
        officer = session.get(User, first.staff_id)
        assert officer is not None
        outcomes.record_outcome(
            session,
            actor(session, officer.username),
            first.id or 0,
            OutcomeRequest(outcome=Outcome.reached_promised),
        )
        other = next(u for u in ("field_a1", "field_a2") if region.users[u] != first.staff_id)
        with pytest.raises(Conflict):  # done visits stay with who made them
            move.move_stop(session, ops, first.id or 0, region.users[other])
        assert not session.execute(select(AuditEntry).where(AuditEntry.action == "move")).first()
