"""Outcomes and their next steps, who may record them, follow-ups coming due, attribution."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.aftersales.models import Ticket
from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core import phrases
from fleet.core.access import Actor
from fleet.core.audit import AuditEntry
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.core.i18n import texts_for
from fleet.core.words import word
from fleet.feeds.models import Txn
from fleet.inventory.models import LifecycleEvent, Terminal, TerminalState
from fleet.recovery import service as recovery
from fleet.recovery.models import RecoveryRequest
from fleet.visits import outcomes
from fleet.visits import plan as planning
from fleet.visits.attribution import attribution
from fleet.visits.models import FollowUp, FollowUpStatus, Outcome, Visit, VisitKind
from fleet.visits.schemas import OutcomeRequest
from tests.factories import SYSTEM
from tests.visits.conftest import Region, use


def actor(session: Session, username: str) -> Actor:
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return auth.actor_for(session, user)


def planned(engine: Engine, region: Region, day: date | None = None) -> dict[str, Visit]:
    """Plans county A's day; the visits by terminal serial number."""
    day = day or region.today
    with session_scope(engine) as session:
        plan = planning.plan_day(session, SYSTEM, branch_code="A", plan_date=day)
        visits = session.execute(select(Visit).where(col(Visit.plan_id) == plan.id)).scalars()
        by_id = {t.id: t.sn for t in session.execute(select(Terminal)).scalars()}
        return {by_id[v.terminal_id]: v for v in visits if v.terminal_id}


def record(engine: Engine, username: str, visit: Visit, request: OutcomeRequest) -> Visit:
    with session_scope(engine) as session:
        return outcomes.record_outcome(session, actor(session, username), visit.id or 0, request)


def owner(engine: Engine, visit: Visit) -> str:
    with session_scope(engine) as session:
        user = session.get(User, visit.staff_id)
        assert user is not None
        return user.username


@pytest.mark.parametrize(
    ("outcome", "step", "state"),
    [
        (Outcome.reached_promised, "none", TerminalState.deployed),
        (Outcome.needs_training, "follow_up", TerminalState.deployed),
        (Outcome.moved, "follow_up", TerminalState.deployed),
        # A fault ticket of after-sales (fleet.aftersales): the unit is faulty until restored.
        (Outcome.device_faulty, "repair_ticket", TerminalState.faulty),
        (Outcome.wants_recovery, "recovery_requested", TerminalState.recovery_requested),
        (Outcome.no_need, "recovery_requested", TerminalState.recovery_requested),
        (Outcome.closed, "recovery_requested", TerminalState.recovery_requested),
        (Outcome.not_found, "none", TerminalState.deployed),
    ],
)
def test_each_outcome_sets_its_next_step_going(
    engine: Engine, region: Region, outcome: Outcome, step: str, state: TerminalState
) -> None:
    visit = planned(engine, region)["IDLE"]
    field_user = owner(engine, visit)
    done = record(engine, field_user, visit, OutcomeRequest(outcome=outcome, note="老板说"))
    assert done.status.value == "done" and done.outcome is outcome
    assert [s["kind"] for s in done.next_steps] == [step]
    with session_scope(engine) as session:
        unit = session.get(Terminal, region.units["IDLE"])
        assert unit is not None and unit.state is state
        if step == "follow_up":
            follow_up = session.get(FollowUp, done.next_steps[0]["id"])
            assert follow_up is not None
            assert follow_up.due_on == region.today + timedelta(days=7)
            assert (follow_up.staff_id, follow_up.from_visit_id) == (visit.staff_id, visit.id)
        if step == "repair_ticket":
            ticket = session.get(Ticket, done.next_steps[0]["id"])
            assert ticket is not None
            assert (ticket.description, ticket.state.value, ticket.opened_by_name) == (
                "老板说",
                "open",
                field_user,
            )
            assert (ticket.source.value, ticket.visit_id) == ("field_visit", visit.id)
            assert ticket.restore_by is not None  # on the SLA clock
        if step == "recovery_requested":
            # The recovery layer takes the request into its queue, with the visit as evidence;
            # field staff may not move units, so the system did it in their name, audited.
            request = session.execute(
                select(RecoveryRequest).where(col(RecoveryRequest.terminal_id) == unit.id)
            ).scalar_one()
            assert (request.source, request.evidence["visit_id"]) == ("visit", visit.id)
            said = texts_for("zh").phrase(request.why)
            outcome_zh = texts_for("zh").gettext(word("outcome", outcome))
            assert said == f"{texts_for('zh').date(visit.plan_date)} 回访：{outcome_zh}（老板说）"
            assert done.next_steps[0]["request_id"] == request.id
            event = session.execute(
                select(LifecycleEvent).where(
                    col(LifecycleEvent.terminal_id) == unit.id,
                    col(LifecycleEvent.to_state) == TerminalState.recovery_requested,
                )
            ).scalar_one()
            assert event.actor_name == f"field:{field_user}"
            entry = session.execute(
                select(AuditEntry).where(
                    col(AuditEntry.action) == "transition",
                    col(AuditEntry.actor_name) == f"field:{field_user}",
                )
            ).scalar_one()
            assert (entry.entity_id, entry.changes["state"]) == (
                "IDLE",
                ["deployed", "recovery_requested"],
            )
        logged = session.execute(
            select(AuditEntry).where(col(AuditEntry.entity) == "visit")
        ).scalar_one()
        assert (logged.actor_name, logged.changes["outcome"]) == (field_user, outcome.value)


def test_a_faulty_device_without_a_note_stores_no_sentence(engine: Engine, region: Region) -> None:
    """The ticket's source and visit say where it came from; its description is only ever
    what the field officer typed (no English line stored in its place)."""
    visit = planned(engine, region)["IDLE"]
    done = record(
        engine, owner(engine, visit), visit, OutcomeRequest(outcome=Outcome.device_faulty)
    )
    with session_scope(engine) as session:
        ticket = session.get(Ticket, done.next_steps[0]["id"])
        assert ticket is not None
        assert (ticket.source.value, ticket.visit_id, ticket.description) == (
            "field_visit",
            visit.id,
            "",
        )


def test_a_date_given_makes_a_follow_up_whatever_the_outcome(
    engine: Engine, region: Region
) -> None:
    visit = planned(engine, region)["DORM"]
    later = region.today + timedelta(days=3)
    done = record(
        engine,
        "ops_a",
        visit,
        OutcomeRequest(outcome=Outcome.not_found, follow_up_on=later),
    )
    assert done.next_steps == [{"kind": "follow_up", "id": 1, "due_on": later.isoformat()}]


def test_who_may_record_an_outcome(engine: Engine, region: Region) -> None:
    visits = planned(engine, region)
    mine = visits["IDLE"]
    me = owner(engine, mine)
    intruder = next(u for u in ("field_a1", "field_a2", "field_a3") if u != me)
    reached = OutcomeRequest(outcome=Outcome.reached_promised)
    with pytest.raises(NotFound):
        record(engine, intruder, mine, reached)  # field staff: their own visits only
    with pytest.raises(NotFound):
        record(engine, "ops_b", mine, reached)  # another county's operations
    with pytest.raises(Forbidden):
        record(engine, "marketing_a", mine, reached)
    record(engine, "ops_a", visits["DORM"], reached)  # the county's operations
    record(engine, me, mine, reached)
    with pytest.raises(Conflict, match="done already"):
        record(engine, me, mine, reached)
    with pytest.raises(Invalid, match="only a recover visit"):
        record(engine, "ops_a", visits["NEVER"], OutcomeRequest(outcome=Outcome.recovered))


def test_a_visit_of_tomorrow_waits_for_its_day(engine: Engine, region: Region) -> None:
    visit = planned(engine, region, region.today + timedelta(days=1))["IDLE"]
    with pytest.raises(Invalid, match="record it on the day"):
        record(engine, "ops_a", visit, OutcomeRequest(outcome=Outcome.reached_promised))


def test_a_recover_visit_brings_the_unit_back(engine: Engine, region: Region) -> None:
    # The whole path through the recovery queue: asked for, approved, a recover visit, stock.
    with session_scope(engine) as session:
        unit = session.get(Terminal, region.units["NEVER"])
        assert unit is not None
        asked = recovery.raise_request(
            session, actor(session, "ops_a"), unit, why=phrases.text("商户无需求")
        )
        recovery.decide(session, actor(session, "ops_a"), asked.id or 0, "approve")
        request_id = asked.id
    visit = planned(engine, region)["NEVER"]
    assert visit.kind is VisitKind.recover
    done = record(engine, owner(engine, visit), visit, OutcomeRequest(outcome=Outcome.recovered))
    assert done.next_steps[0] == {
        "kind": "in_stock",
        "terminal_id": region.units["NEVER"],
        "request_id": request_id,
    }
    with session_scope(engine) as session:
        unit = session.get(Terminal, region.units["NEVER"])
        assert unit is not None and unit.state is TerminalState.in_stock
        assert unit.merchant_id is None
        request = session.get(RecoveryRequest, request_id)
        assert request is not None
        assert (request.status.value, request.completed_by_name) == (
            "completed",
            owner(engine, visit),
        )


def test_a_follow_up_comes_due_and_is_closed_by_its_visit(engine: Engine, region: Region) -> None:
    yesterday = region.today - timedelta(days=1)
    visit = planned(engine, region, yesterday)["IDLE"]
    record(
        engine,
        "ops_a",
        visit,
        OutcomeRequest(outcome=Outcome.needs_training, follow_up_on=region.today),
    )
    today = planned(engine, region)["IDLE"]
    assert today.kind is VisitKind.follow_up and today.follow_up_id is not None
    record(engine, "ops_a", today, OutcomeRequest(outcome=Outcome.reached_promised))
    with session_scope(engine) as session:
        follow_up = session.get(FollowUp, today.follow_up_id)
        assert follow_up is not None
        assert (follow_up.status, follow_up.done_visit_id) == (FollowUpStatus.done, today.id)


def test_activation_rate_by_staff_and_outcome(engine: Engine, region: Region) -> None:
    d10, d40 = region.today - timedelta(days=10), region.today - timedelta(days=40)
    old = planned(engine, region, d40)  # as of D-40, DORM was idle; IDLE was in use
    assert "IDLE" not in old
    record(engine, "ops_a", old["DORM"], OutcomeRequest(outcome=Outcome.not_found))
    recent = planned(engine, region, d10)
    said = {
        "IDLE": Outcome.reached_promised,
        "NEVER": Outcome.needs_training,
        "DECL": Outcome.reached_promised,
    }
    for sn, outcome in said.items():
        record(engine, "ops_a", recent[sn], OutcomeRequest(outcome=outcome))
        recorded_at(engine, recent[sn], local_time(d10, 11, 28))  # on the day, as staff do
    with session_scope(engine) as session:
        use(session, region.units["IDLE"], d10 + timedelta(days=4), 2)  # used again: activated
        result = attribution(session, SYSTEM, date_from=d40, date_to=region.today, branch_ids=None)
    total = result.total
    # DECL was declining (in use): not an activation candidate. DORM's 30 days are over with
    # no use; NEVER's are still running.
    assert (total.visits, total.eligible, total.activated, total.pending) == (4, 3, 1, 1)
    assert total.rate == pytest.approx(1 / 3, abs=1e-4)
    by_outcome = {r.key: r for r in result.by_outcome}
    assert (by_outcome["reached_promised"].eligible, by_outcome["reached_promised"].rate) == (
        1,
        1.0,
    )
    assert by_outcome["reached_promised"].label == "已见面，承诺使用"
    assert by_outcome["not_found"].rate == 0.0
    assert sum(r.visits for r in result.by_staff) == 4
    with pytest.raises(Invalid), session_scope(engine) as session:
        attribution(session, SYSTEM, date_from=region.today, date_to=d10)


def local_time(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(get_settings().feed_timezone))


def recorded_at(engine: Engine, visit: Visit, at: datetime) -> None:
    """The outcome as recorded at `at` (the service stamps the present moment)."""
    with session_scope(engine) as session:
        stored = session.get(Visit, visit.id)
        assert stored is not None and stored.recorded_at is not None
        stored.recorded_at = at
        session.add(stored)


def transaction(session: Session, terminal_id: int, at: datetime) -> None:
    """One successful transfer at `at`, and its day's rollup."""
    day = at.astimezone(ZoneInfo(get_settings().feed_timezone)).date()
    session.add(
        Txn(
            txn_ref=f"T{terminal_id}-{at.isoformat()}",
            terminal_id=terminal_id,
            occurred_at=at,
            day=day,
            amount_fen=10_000,
            txn_type="transfer",
            status="success",
            ingest_id=0,
        )
    )
    use(session, terminal_id, day, 1)


def test_only_use_after_the_outcome_was_recorded_is_credited(
    engine: Engine, region: Region
) -> None:
    d10 = region.today - timedelta(days=10)
    visits = planned(engine, region, d10)
    for sn in ("IDLE", "NEVER"):
        record(engine, "ops_a", visits[sn], OutcomeRequest(outcome=Outcome.reached_promised))
        recorded_at(engine, visits[sn], local_time(d10, 11, 28))
    with session_scope(engine) as session:
        transaction(session, region.units["IDLE"], local_time(d10, 8, 5))  # before: not credited
        transaction(session, region.units["NEVER"], local_time(d10, 14, 0))  # after: credited
        result = attribution(session, SYSTEM, date_from=d10, date_to=d10)
    total = result.total
    # IDLE's window is still open: pending, not activated by the use before the outcome.
    assert (total.visits, total.eligible, total.activated, total.pending) == (2, 2, 1, 1)


def test_no_need_on_a_unit_used_lately_asks_for_a_confirmation_first(
    engine: Engine, region: Region
) -> None:
    """A mis-tapped "no need" on a unit in use would raise a recovery request: refused until
    confirmed, with nothing recorded; confirmed, the request is raised."""
    visit = planned(engine, region)["IDLE"]
    with session_scope(engine) as session:
        use(session, region.units["IDLE"], region.today - timedelta(days=10), 2)
    field_user = owner(engine, visit)
    with pytest.raises(Conflict) as refused:
        record(engine, field_user, visit, OutcomeRequest(outcome=Outcome.no_need))
    assert "confirm_recent_use" in refused.value.message
    assert refused.value.details == [
        {"field": "confirm_recent_use", "reason": refused.value.message}
    ]
    with session_scope(engine) as session:
        unit = session.get(Terminal, region.units["IDLE"])
        assert unit is not None and unit.state is TerminalState.deployed
        again = session.get(Visit, visit.id)
        assert again is not None and again.outcome is None
    done = record(
        engine,
        field_user,
        visit,
        OutcomeRequest(outcome=Outcome.no_need, confirm_recent_use=True),
    )
    assert [s["kind"] for s in done.next_steps] == ["recovery_requested"]
