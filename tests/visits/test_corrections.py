"""Correcting a recorded visit outcome (issue 17, item 7): the author the same China day,
branch operations later; the history kept; a recovery request raised by a mis-tap withdrawn
with the correction; refused for another officer, a later day and an approved request."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.inventory.models import Terminal, TerminalState
from fleet.recovery import service as recovery
from fleet.recovery.models import RecoveryRequest, RequestStatus
from fleet.visits import corrections
from fleet.visits.models import FollowUp, FollowUpStatus, Outcome, Visit
from fleet.visits.schemas import OutcomeRequest
from tests.visits.conftest import Region
from tests.visits.test_outcomes import actor, owner, planned, record

CHINA = ZoneInfo("Asia/Shanghai")


def correct(engine: Engine, username: str, visit: Visit, outcome: Outcome, **more: object) -> Visit:
    now = more.pop("now", None)
    assert now is None or isinstance(now, datetime)
    with session_scope(engine) as session:
        return corrections.correct_outcome(
            session,
            actor(session, username),
            visit.id or 0,
            OutcomeRequest.model_validate({"outcome": outcome, **more}),
            now=now,
        )


def request_of(engine: Engine, unit_id: int) -> RecoveryRequest:
    with session_scope(engine) as session:
        return session.execute(
            select(RecoveryRequest).where(col(RecoveryRequest.terminal_id) == unit_id)
        ).scalar_one()


def state_of(engine: Engine, unit_id: int) -> TerminalState:
    with session_scope(engine) as session:
        unit = session.get(Terminal, unit_id)
        assert unit is not None
        return unit.state


def test_a_mis_tapped_recovery_is_withdrawn_by_its_author_the_same_day(
    engine: Engine, region: Region
) -> None:
    visit = planned(engine, region)["IDLE"]
    me = owner(engine, visit)
    record(engine, me, visit, OutcomeRequest(outcome=Outcome.wants_recovery))
    assert state_of(engine, region.units["IDLE"]) is TerminalState.recovery_requested
    raised = request_of(engine, region.units["IDLE"])

    fixed = correct(engine, me, visit, Outcome.reached_promised, note="点错了")
    assert fixed.outcome is Outcome.reached_promised and fixed.note == "点错了"
    assert [s["kind"] for s in fixed.next_steps] == ["recovery_withdrawn"]
    withdrawn = request_of(engine, region.units["IDLE"])
    assert (withdrawn.id, withdrawn.status) == (raised.id, RequestStatus.withdrawn)
    assert state_of(engine, region.units["IDLE"]) is TerminalState.deployed
    with session_scope(engine) as session:
        actions = {
            (e.entity, e.action)
            for e in session.execute(select(AuditEntry)).scalars()
            if e.entity in ("visit", "recovery_request")
        }
        assert {("visit", "outcome"), ("visit", "outcome_corrected")} <= actions
        assert ("recovery_request", "withdraw") in actions
        stored = session.get(Visit, visit.id)
        assert stored is not None
        history = corrections.corrections(session, stored)
    assert [(h.actor_name, h.changes["outcome"]) for h in history] == [
        (me, ["wants_recovery", "reached_promised"])
    ]


def test_operations_correct_later_and_each_correction_is_kept(
    engine: Engine, region: Region
) -> None:
    visit = planned(engine, region)["DORM"]
    me = owner(engine, visit)
    record(engine, me, visit, OutcomeRequest(outcome=Outcome.needs_training))
    tomorrow = datetime.combine(region.today + timedelta(days=1), time(9), CHINA)
    # The author, a day later: refused, with the day and whom to ask.
    with pytest.raises(Conflict, match="on that day only; ask branch operations"):
        correct(engine, me, visit, Outcome.not_found, now=tomorrow)
    # Branch operations may, and twice: each correction is a row of the history.
    first = correct(engine, "ops_a", visit, Outcome.not_found, now=tomorrow)
    assert first.next_steps == [{"kind": "none"}]  # the follow-up was cancelled
    with session_scope(engine) as session:
        follow_up = session.execute(
            select(FollowUp).where(col(FollowUp.from_visit_id) == visit.id)
        ).scalar_one()
        assert follow_up.status is FollowUpStatus.cancelled
    second = correct(engine, "ops_a", visit, Outcome.moved, note="搬到东街")
    assert [s["kind"] for s in second.next_steps] == ["follow_up"]
    with session_scope(engine) as session:
        stored = session.get(Visit, visit.id)
        assert stored is not None
        rows = [h.changes["outcome"] for h in corrections.corrections(session, stored)]
    assert rows == [["needs_training", "not_found"], ["not_found", "moved"]]


def test_refusals_change_nothing(engine: Engine, region: Region) -> None:
    visits = planned(engine, region)
    visit = visits["IDLE"]
    me = owner(engine, visit)
    other = next(u for u in ("field_a1", "field_a2", "field_a3") if u != me)
    with pytest.raises(Conflict, match="no recorded outcome"):
        correct(engine, me, visit, Outcome.not_found)
    record(engine, me, visit, OutcomeRequest(outcome=Outcome.closed))
    with pytest.raises(NotFound):
        correct(engine, other, visit, Outcome.not_found)  # another officer's visit is hidden
    with pytest.raises(NotFound):
        correct(engine, "ops_b", visit, Outcome.not_found)  # another county
    with pytest.raises(Invalid, match="changes nothing"):
        correct(engine, me, visit, Outcome.closed)
    # Once the request is approved, its author may not correct the outcome: operations may.
    raised = request_of(engine, region.units["IDLE"])
    with session_scope(engine) as session:
        recovery.decide(session, actor(session, "ops_a"), raised.id or 0, "approve")
    with pytest.raises(Conflict, match="approved already"):
        correct(engine, me, visit, Outcome.reached_promised)
    with session_scope(engine) as session:
        stored = session.get(Visit, visit.id)
        assert stored is not None and stored.outcome is Outcome.closed
        assert corrections.corrections(session, stored) == []
    assert request_of(engine, region.units["IDLE"]).status is RequestStatus.approved
    assert state_of(engine, region.units["IDLE"]) is TerminalState.recovery_approved


def test_an_officer_may_not_correct_what_operations_recorded(
    engine: Engine, region: Region
) -> None:
    visit = planned(engine, region)["NEVER"]
    me = owner(engine, visit)
    record(engine, "ops_a", visit, OutcomeRequest(outcome=Outcome.not_found))
    with pytest.raises(Conflict, match="only the officer who recorded"):
        correct(engine, me, visit, Outcome.reached_promised)


def test_a_correction_to_no_need_on_a_unit_in_use_asks_for_the_confirmation(
    engine: Engine, region: Region
) -> None:
    from tests.visits.conftest import use

    visit = planned(engine, region)["IDLE"]
    with session_scope(engine) as session:
        use(session, region.units["IDLE"], region.today - timedelta(days=5), 3)
    me = owner(engine, visit)
    record(engine, me, visit, OutcomeRequest(outcome=Outcome.reached_promised))
    with pytest.raises(Conflict, match="confirm_recent_use"):
        correct(engine, me, visit, Outcome.no_need)
    assert state_of(engine, region.units["IDLE"]) is TerminalState.deployed
    done = correct(engine, me, visit, Outcome.no_need, confirm_recent_use=True)
    assert [s["kind"] for s in done.next_steps] == ["recovery_requested"]
    assert state_of(engine, region.units["IDLE"]) is TerminalState.recovery_requested


def test_operations_correct_a_mis_tap_whose_request_was_approved_meanwhile(
    engine: Engine, region: Region
) -> None:
    """Ops approved the morning's queue before the officer saw the mis-tap: the officer may not
    correct it any more, ops may (there was no other way back: the request's page offers no
    action on an approved request). The approved request is withdrawn, the unit deployed
    again, and the recover visit planned for it cancelled."""
    from fleet.visits import plan as planning
    from fleet.visits.models import VisitKind, VisitStatus
    from tests.factories import SYSTEM

    visit = planned(engine, region)["IDLE"]
    me = owner(engine, visit)
    record(engine, me, visit, OutcomeRequest(outcome=Outcome.wants_recovery))
    raised = request_of(engine, region.units["IDLE"])
    with session_scope(engine) as session:
        recovery.decide(session, actor(session, "ops_a"), raised.id or 0, "approve")
        planning.plan_day(
            session, SYSTEM, branch_code="A", plan_date=region.today + timedelta(days=1)
        )
        recover = session.execute(
            select(Visit).where(
                col(Visit.terminal_id) == region.units["IDLE"],
                col(Visit.kind) == VisitKind.recover,
            )
        ).scalar_one()
    with pytest.raises(Conflict, match="approved already"):
        correct(engine, me, visit, Outcome.reached_promised)

    fixed = correct(engine, "ops_a", visit, Outcome.reached_promised, note="点错了")
    assert [s["kind"] for s in fixed.next_steps] == ["recovery_withdrawn"]
    assert request_of(engine, region.units["IDLE"]).status is RequestStatus.withdrawn
    assert state_of(engine, region.units["IDLE"]) is TerminalState.deployed
    with session_scope(engine) as session:
        again = session.get(Visit, recover.id)
        assert again is not None and again.status is VisitStatus.cancelled
