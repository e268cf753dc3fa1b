"""What happened at a visit, and the next step each outcome sets going.

| outcome                          | next step                                              |
|----------------------------------|--------------------------------------------------------|
| reached_promised, not_found      | none (a follow-up when a date is given)                |
| needs_training, moved            | a follow-up visit, on the given date or a week later   |
| device_faulty                    | a repair ticket (and a follow-up when a date is given) |
| wants_recovery, no_need, closed  | a recovery request: the unit becomes recovery_requested |
| recovered (recover visits only)  | the unit becomes recovered                             |

Field staff may not change lifecycle states, so the recovery request is made by a system
actor named after them (`visit:<username>`): the lifecycle event and its audit entry say who.
Field staff record outcomes of their own visits only; branch operations of their subtree.

Proof of visit: with the user's consent the outcome carries where the phone was; its distance
from the merchant is stored, and an outcome farther than FLEET_VISIT_PROOF_MAX_M is flagged
for the branch (`flagged_visits`). Without a location nothing is stored and nothing flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.core import audit, phrases
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.geo import distance_m
from fleet.core.paging import fetch_page
from fleet.core.phrases import Phrase
from fleet.feeds.models import TerminalDay
from fleet.inventory.models import Merchant, Terminal, TerminalState
from fleet.scoring.service import today_local
from fleet.visits.models import (
    FollowUp,
    FollowUpStatus,
    Outcome,
    RepairTicket,
    TicketStatus,
    Visit,
    VisitKind,
    VisitStatus,
)
from fleet.visits.schemas import OutcomeRequest

FOLLOW_UP = "follow_up"
REPAIR = "repair_ticket"
RECOVERY = "recovery_request"
RECOVERED = "recovered"
NEXT_STEP: dict[Outcome, str | None] = {
    Outcome.reached_promised: None,
    Outcome.not_found: None,
    Outcome.needs_training: FOLLOW_UP,
    Outcome.moved: FOLLOW_UP,
    Outcome.device_faulty: REPAIR,
    Outcome.wants_recovery: RECOVERY,
    Outcome.no_need: RECOVERY,
    Outcome.closed: RECOVERY,
    Outcome.recovered: RECOVERED,
}
DEFAULT_FOLLOW_UP_DAYS = 7
# "No need" on a unit used this recently is likely a mis-tap: it asks for a confirmation.
RECENT_USE_DAYS = 30

# A later layer (fleet.recovery) takes over recovery requests raised by outcomes, to keep its
# own request records: (session, the recording actor, terminal, visit, reason) -> the step to
# record. Likewise for a recover visit that comes back with the unit: the recovery layer closes
# its request and brings the unit to stock. fleet.wiring.plug_in() sets both; until then an
# outcome that needs them fails (it used to skip the recovery layer silently).
RecoveryHandler = Callable[[Session, Actor, Terminal, Visit, str], dict[str, object]]
# A request's reason is a phrase (fleet.core.phrases): the visit's day, outcome and note.
RequestHandler = Callable[[Session, Actor, Terminal, Visit, Phrase], dict[str, object]]
RECOVERY_HANDLERS: list[RequestHandler] = []
COLLECTION_HANDLERS: list[RecoveryHandler] = []
# And for a faulty device: the after-sales layer opens a fault ticket on its SLA clock (the
# repair_ticket table keeps only the rows recorded before).
REPAIR_HANDLERS: list[RecoveryHandler] = []


def visit_phrase(day: date, outcome: Outcome, note: str | None) -> Phrase:
    """What a visit found, as a phrase: the day, the outcome in words, and the note."""
    values = {"day": phrases.day(day), "outcome": phrases.word("outcome", outcome)}
    if note and note.strip():
        return phrases.phrase("visit_outcome_note", note=note.strip()[:300], **values)
    return phrases.phrase("visit_outcome", **values)


NOT_WIRED = "fleet is not wired: call fleet.wiring.plug_in() at start-up"


H = TypeVar("H")


def _wired(handlers: list[H]) -> H:
    if not handlers:
        raise RuntimeError(NOT_WIRED)
    return handlers[0]


def visible_visit(session: Session, actor: Actor, visit_id: int) -> Visit:
    """The visit, if the actor may see it: field staff their own, operations their subtree."""
    actor.require(Permission.read_visits)
    visit = session.get(Visit, visit_id)
    hidden = visit is None or (
        visit.staff_id != actor.user_id
        if actor.role is Role.field
        else not actor.sees_branch(visit.branch_id)
    )
    if hidden or visit is None:
        raise NotFound("visit {visit_id} not found", visit_id=visit_id)
    return visit


def my_visits(session: Session, actor: Actor, day: date) -> list[Visit]:
    """The actor's own visits of the day, in route order."""
    stmt = select(Visit).where(
        col(Visit.staff_id) == actor.user_id,
        col(Visit.plan_date) == day,
        col(Visit.status) != VisitStatus.cancelled,
    )
    return list(session.execute(stmt.order_by(col(Visit.seq))).scalars())


def replanned_away(visit_id: int) -> Conflict:
    """Why nothing can be recorded at a visit its day's re-plan cancelled."""
    return Conflict(
        "visit {visit_id} was re-planned away: its day was planned again and it is on no "
        "route now; open the day's visits again",
        visit_id=visit_id,
    )


def _invalid(field: str, message: str, **values: object) -> Invalid:
    """A refusal that names the request field at fault (forms show it next to that field)."""
    refusal = Invalid(message, **values)
    refusal.details = [{"field": field, "reason": refusal.message}]
    return refusal


def _step(visit: Visit, outcome: Outcome) -> str | None:
    """The next step `outcome` sets going at `visit`; Invalid when it cannot be recorded there."""
    if outcome is Outcome.recovered and visit.kind is not VisitKind.recover:
        raise _invalid("outcome", "only a recover visit can have the outcome recovered")
    if visit.kind is VisitKind.recover:
        # The recovery is approved already: only collecting the unit moves it on.
        step = RECOVERED if outcome is Outcome.recovered else None
    else:
        step = NEXT_STEP[outcome]
    if step is not None and visit.terminal_id is None:
        raise _invalid(
            "outcome",
            "visit {visit_id} has no terminal; outcome {outcome} needs one",
            visit_id=visit.id,
            outcome=outcome,
        )
    return step


def outcomes_for(visit: Visit) -> list[Outcome]:
    """The outcomes that may be recorded at `visit` (what a form offers), the likeliest first."""
    allowed: list[Outcome] = []
    for outcome in Outcome:
        try:
            _step(visit, outcome)
        except Invalid:
            continue
        allowed.append(outcome)
    if visit.kind is VisitKind.recover:
        allowed.sort(key=lambda o: o is not Outcome.recovered)
    return allowed


def _proof(
    session: Session, visit: Visit, data: OutcomeRequest, settings: Settings
) -> dict[str, Any]:
    """The visit's proof columns from the location sent with the outcome (none: all empty)."""
    if (data.lat is None) != (data.lng is None):
        raise _invalid("location", "send both lat and lng for a location, or neither")
    if data.lat is None or data.lng is None:
        return {}
    merchant = session.get(Merchant, visit.merchant_id)
    away: int | None = None
    if merchant is not None and merchant.lat is not None and merchant.lng is not None:
        away = round(distance_m((data.lat, data.lng), (merchant.lat, merchant.lng)))
    return {
        "proof_lat": data.lat,
        "proof_lng": data.lng,
        "proof_accuracy_m": data.accuracy_m,
        "proof_distance_m": away,
        "proof_flagged": away is not None and away > settings.visit_proof_max_m,
    }


def last_used_on(session: Session, terminal_id: int, since: date) -> date | None:
    """The unit's last day with a successful financial transaction on or after `since`."""
    stmt = select(func.max(TerminalDay.day)).where(
        col(TerminalDay.terminal_id) == terminal_id,
        col(TerminalDay.day) >= since,
        col(TerminalDay.txn_count) > 0,
    )
    return session.execute(stmt).scalar_one_or_none()


def _check_recent_use(
    session: Session, terminal: Terminal, data: OutcomeRequest, settings: Settings
) -> None:
    """Conflict, asking for `confirm_recent_use`, when "no need" would raise a recovery
    request for a unit used in the last RECENT_USE_DAYS days."""
    if data.confirm_recent_use:
        return
    since = today_local(settings) - timedelta(days=RECENT_USE_DAYS)
    last = last_used_on(session, terminal.id or 0, since)
    if last is None:
        return
    refusal = Conflict(
        "terminal {sn} was used on {day}, within the last {days} days: confirm that the "
        "merchant has no need (confirm_recent_use) before a recovery request is raised",
        sn=terminal.sn,
        day=last,
        days=RECENT_USE_DAYS,
    )
    refusal.details = [{"field": "confirm_recent_use", "reason": refusal.message}]
    raise refusal


def record_outcome(
    session: Session,
    actor: Actor,
    visit_id: int,
    data: OutcomeRequest,
    settings: Settings | None = None,
) -> Visit:
    """Records what happened at a visit (once) and sets its next step going."""
    settings = settings or get_settings()
    visit = visible_visit(session, actor, visit_id)
    if visit.status is VisitStatus.cancelled:
        raise replanned_away(visit_id)
    if visit.status is not VisitStatus.planned:
        outcome = visit.outcome.value if visit.outcome else visit.status.value
        raise Conflict(
            "visit {visit_id} is {status} already ({outcome})",
            visit_id=visit_id,
            status=visit.status,
            outcome=outcome,
        )
    if visit.plan_date > today_local(settings):
        raise Invalid(
            "visit {visit_id} is planned for {day}; record it on the day",
            visit_id=visit_id,
            day=visit.plan_date,
        )
    if data.follow_up_on is not None and data.follow_up_on <= visit.plan_date:
        raise _invalid("follow_up_on", "a follow-up date must come after the visit")
    step = _step(visit, data.outcome)
    proof = _proof(session, visit, data, settings)
    terminal = session.get(Terminal, visit.terminal_id) if visit.terminal_id else None
    why = f"visit {visit.id}: {data.outcome.value}" + (f" ({data.note})" if data.note else "")
    steps: list[dict[str, object]] = []
    if step == RECOVERY and terminal is not None:
        if terminal.state is TerminalState.deployed and data.outcome is Outcome.no_need:
            _check_recent_use(session, terminal, data, settings)
        if terminal.state is TerminalState.deployed:
            said = visit_phrase(visit.plan_date, data.outcome, data.note)
            steps.append(_wired(RECOVERY_HANDLERS)(session, actor, terminal, visit, said))
        else:
            steps.append({"kind": "none", "detail": f"terminal is {terminal.state.value}"})
    elif step == RECOVERED and terminal is not None:
        steps.append(_wired(COLLECTION_HANDLERS)(session, actor, terminal, visit, why))
    elif step == REPAIR and terminal is not None:
        steps.append(_wired(REPAIR_HANDLERS)(session, actor, terminal, visit, data.note or ""))
    wants_follow_up = step == FOLLOW_UP or (
        data.follow_up_on is not None and step not in (RECOVERY, RECOVERED)
    )
    if wants_follow_up and terminal is not None:
        due = data.follow_up_on or visit.plan_date + timedelta(days=DEFAULT_FOLLOW_UP_DAYS)
        follow_up = FollowUp(
            terminal_id=terminal.id or 0,
            branch_id=terminal.branch_id,
            due_on=due,
            staff_id=visit.staff_id,
            note=data.note,
            from_visit_id=visit.id,
        )
        session.add(follow_up)
        session.flush()
        steps.append({"kind": FOLLOW_UP, "id": follow_up.id, "due_on": due.isoformat()})
    if visit.follow_up_id is not None:
        promised = session.get(FollowUp, visit.follow_up_id)
        if promised is not None and promised.status is FollowUpStatus.open:
            promised.status, promised.done_visit_id = FollowUpStatus.done, visit.id
            session.add(promised)
    visit.status = VisitStatus.done
    visit.outcome, visit.note, visit.follow_up_on = data.outcome, data.note, data.follow_up_on
    visit.recorded_at, visit.recorded_by_id = utcnow(), actor.user_id
    visit.next_steps = steps or [{"kind": "none"}]
    for column, value in proof.items():
        setattr(visit, column, value)
    session.add(visit)
    audit.record(
        session,
        actor=actor,
        action="outcome",
        entity="visit",
        entity_id=visit.id,
        branch_id=visit.branch_id,
        changes={
            "outcome": data.outcome.value,
            "note": data.note,
            "next_steps": visit.next_steps,
            "proof_distance_m": visit.proof_distance_m,
            "proof_flagged": visit.proof_flagged,
        },
    )
    session.flush()
    return visit


def flagged_visits(
    session: Session, actor: Actor, *, limit: int = 50, offset: int = 0
) -> tuple[list[Visit], int]:
    """Outcomes recorded too far from the merchant in the actor's subtree, newest first, and
    how many there are. For branch operations and admins (those who plan the visits)."""
    actor.require(Permission.plan_visits)
    stmt = select(Visit).where(col(Visit.proof_flagged).is_(True))
    if actor.branch_ids is not None:
        stmt = stmt.where(col(Visit.branch_id).in_(actor.branch_ids))
    return fetch_page(
        session,
        stmt,
        model=Visit,
        sort="-recorded_at",
        sortable={"recorded_at"},
        limit=limit,
        offset=offset,
    )


def list_tickets(
    session: Session, actor: Actor, *, status: TicketStatus | None = None
) -> list[RepairTicket]:
    """Repair tickets in the actor's subtree (field staff: those they reported), newest first."""
    actor.require(Permission.read_visits)
    stmt = select(RepairTicket)
    if actor.role is Role.field:
        stmt = stmt.where(col(RepairTicket.created_by_id) == actor.user_id)
    elif actor.branch_ids is not None:
        stmt = stmt.where(col(RepairTicket.branch_id).in_(actor.branch_ids))
    if status is not None:
        stmt = stmt.where(col(RepairTicket.status) == status)
    stmt = stmt.order_by(col(RepairTicket.created_at).desc(), col(RepairTicket.id).desc())
    return list(session.execute(stmt).scalars())


# The same checks for a correction (fleet.visits.corrections) as at recording.
step_of = _step
check_recent_use = _check_recent_use
invalid_field = _invalid
wired = _wired
