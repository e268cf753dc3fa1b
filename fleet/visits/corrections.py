"""Correcting a recorded visit outcome (issue 17): a mis-tap is put right, its history kept.

Who may correct: the officer who recorded the outcome, on the same day (the China day,
Asia/Shanghai, of the recording); branch operations of the visit's subtree (and admins) at
any time. A field officer's visit stays hidden from other officers (404, as everywhere).

What a correction does: the steps the old outcome set going that the new one does not want are
undone (the recovery request it raised is withdrawn: state withdrawn, the unit deployed again,
refused once the request is approved; its open follow-up is cancelled), the new outcome's step
is set going as at recording, and one audit row ("outcome_corrected") keeps what it was, what
it became, who and when: the visit page lists them. A fault ticket already raised stays
(after-sales closes it), and a collected unit's outcome cannot be corrected.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from fleet.core import audit
from fleet.core.access import Actor, Permission, Role
from fleet.core.audit import AuditEntry
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid
from fleet.core.i18n import local_day
from fleet.inventory.models import Terminal, TerminalState
from fleet.visits import outcomes
from fleet.visits.models import FollowUp, FollowUpStatus, Outcome, Visit, VisitStatus
from fleet.visits.schemas import OutcomeRequest

CORRECTED = "outcome_corrected"
# The recovery layer withdraws the request an outcome raised: (session, actor, request id,
# visit) -> the step to record. fleet.wiring.plug_in() sets it.
WithdrawHandler = Callable[[Session, Actor, int, Visit], dict[str, object]]
WITHDRAW_HANDLERS: list[WithdrawHandler] = []


def refusal(actor: Actor, visit: Visit, now: datetime | None = None) -> Conflict | None:
    """Why `actor` may not correct `visit`'s outcome now, or None when they may."""
    if visit.status is not VisitStatus.done or visit.outcome is None:
        return Conflict("visit {visit_id} has no recorded outcome to correct", visit_id=visit.id)
    if visit.outcome is Outcome.recovered:
        return Conflict(
            "visit {visit_id} brought the unit back to stock: its outcome cannot be corrected",
            visit_id=visit.id,
        )
    if actor.can(Permission.plan_visits):
        return None  # branch operations of the visit's subtree (visible_visit checked it)
    if actor.role is not Role.field or visit.recorded_by_id != actor.user_id:
        return Conflict(
            "only the officer who recorded the outcome of visit {visit_id}, or branch "
            "operations, may correct it",
            visit_id=visit.id,
        )
    recorded = local_day(visit.recorded_at or utcnow())
    if local_day(now or utcnow()) != recorded:
        return Conflict(
            "the outcome of visit {visit_id} was recorded on {day}: field staff may correct "
            "it on that day only; ask branch operations",
            visit_id=visit.id,
            day=recorded,
        )
    return None


def may_correct(actor: Actor, visit: Visit, now: datetime | None = None) -> bool:
    return refusal(actor, visit, now) is None


def _wired() -> WithdrawHandler:
    if not WITHDRAW_HANDLERS:
        raise RuntimeError(outcomes.NOT_WIRED)
    return WITHDRAW_HANDLERS[0]


def _undo(
    session: Session, actor: Actor, visit: Visit, old: dict[str, Any], new_step: str | None
) -> list[dict[str, object]] | None:
    """Undoes one step of the old outcome that the new one does not want: the step to record
    instead (empty: dropped), or None to keep it."""
    kind = old.get("kind")
    if kind == "recovery_requested" and new_step != outcomes.RECOVERY:
        return [_wired()(session, actor, int(str(old["request_id"])), visit)]
    if kind == outcomes.FOLLOW_UP and new_step != outcomes.FOLLOW_UP:
        follow_up = session.get(FollowUp, old.get("id"))
        if follow_up is not None and follow_up.status is FollowUpStatus.open:
            follow_up.status = FollowUpStatus.cancelled
            session.add(follow_up)
        return []
    return None


def _set_going(
    session: Session,
    actor: Actor,
    visit: Visit,
    data: OutcomeRequest,
    step: str | None,
    kept: list[dict[str, Any]],
    settings: Settings,
) -> list[dict[str, object]]:
    """The new outcome's step, when the old one had not set it going already."""
    have = {str(s.get("kind")) for s in kept}
    terminal = session.get(Terminal, visit.terminal_id) if visit.terminal_id else None
    if terminal is None or step is None:
        return []
    if step == outcomes.RECOVERY and "recovery_requested" not in have:
        if terminal.state is not TerminalState.deployed:
            return [{"kind": "none", "detail": f"terminal is {terminal.state.value}"}]
        if data.outcome is Outcome.no_need:
            outcomes.check_recent_use(session, terminal, data, settings)
        said = outcomes.visit_phrase(visit.plan_date, data.outcome, data.note)
        return [outcomes.wired(outcomes.RECOVERY_HANDLERS)(session, actor, terminal, visit, said)]
    if step == outcomes.REPAIR and outcomes.REPAIR not in have:
        repair = outcomes.wired(outcomes.REPAIR_HANDLERS)
        return [repair(session, actor, terminal, visit, data.note or "")]
    if step == outcomes.FOLLOW_UP and outcomes.FOLLOW_UP not in have:
        due = data.follow_up_on or visit.plan_date + timedelta(days=outcomes.DEFAULT_FOLLOW_UP_DAYS)
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
        return [{"kind": outcomes.FOLLOW_UP, "id": follow_up.id, "due_on": due.isoformat()}]
    return []


def correct_outcome(
    session: Session,
    actor: Actor,
    visit_id: int,
    data: OutcomeRequest,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> Visit:
    """Corrects a recorded outcome (see the module's docstring for who, when and what)."""
    settings = settings or get_settings()
    visit = outcomes.visible_visit(session, actor, visit_id)
    refused = refusal(actor, visit, now)
    if refused is not None:
        raise refused
    if data.outcome is visit.outcome and (data.note or None) == (visit.note or None):
        raise Invalid("the correction changes nothing: choose another outcome or note")
    if data.follow_up_on is not None and data.follow_up_on <= visit.plan_date:
        raise outcomes.invalid_field("follow_up_on", "a follow-up date must come after the visit")
    step = outcomes.step_of(visit, data.outcome)
    before = {"outcome": visit.outcome, "note": visit.note, "next_steps": visit.next_steps}
    kept: list[dict[str, Any]] = []
    undone: list[dict[str, object]] = []
    for old in visit.next_steps or []:
        if old.get("kind") == "none":
            continue
        replaced = _undo(session, actor, visit, old, step)
        if replaced is None:
            kept.append(old)
        else:
            undone.extend(replaced)
    started = _set_going(session, actor, visit, data, step, kept, settings)
    visit.outcome, visit.note, visit.follow_up_on = data.outcome, data.note, data.follow_up_on
    visit.next_steps = [*kept, *started, *undone] or [{"kind": "none"}]
    session.add(visit)
    audit.record(
        session,
        actor=actor,
        action=CORRECTED,
        entity="visit",
        entity_id=visit.id,
        branch_id=visit.branch_id,
        changes={
            "outcome": [before["outcome"], data.outcome],
            "note": [before["note"], data.note],
            "next_steps": [before["next_steps"], visit.next_steps],
        },
    )
    session.flush()
    return visit


def corrections(session: Session, visit: Visit) -> list[AuditEntry]:
    """The corrections of a visit's outcome, oldest first (the visit's visibility is the
    caller's to check: visible_visit)."""
    stmt = select(AuditEntry).where(
        col(AuditEntry.entity) == "visit",
        col(AuditEntry.entity_id) == str(visit.id),
        col(AuditEntry.action) == CORRECTED,
    )
    return list(session.execute(stmt.order_by(col(AuditEntry.at), col(AuditEntry.id))).scalars())
