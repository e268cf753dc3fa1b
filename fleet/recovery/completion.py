"""The end of a request: the unit collected (in stock, or faulty), or left where it is because
the merchant started using it again; and keeping requests in step with moves made elsewhere."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.core import audit, phrases
from fleet.core.access import Actor, Permission, system_actor
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid
from fleet.core.phrases import Phrase
from fleet.feeds.models import TerminalDay
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalState
from fleet.recovery.models import OPEN, RecoveryRequest, RequestStatus
from fleet.recovery.service import claim, get_request, local_day, mover

S = TerminalState
USED_AGAIN = system_actor("recovery:used-again")
SYNC = system_actor("recovery:sync")


def complete_recovery(
    session: Session,
    actor: Actor,
    request_id: int,
    condition: Literal["ok", "faulty"] = "ok",
    *,
    note: str = "",
    at: datetime | None = None,
) -> RecoveryRequest:
    """The unit is in hand: recovered, then in stock at its branch (or faulty); placement closed."""
    request = get_request(session, actor, request_id)
    actor.require(Permission.request_recovery)
    if condition not in ("ok", "faulty"):
        raise Invalid("condition must be ok or faulty")
    if request.status is not RequestStatus.approved:
        raise Conflict(
            "recovery request #{request} is {status}; only approved ones are collected",
            details={"status": request.status.value},
            request=request.id,
            status=request.status,
        )
    terminal = inventory.get_terminal(session, actor, request.terminal_id)
    now = at or utcnow()
    claim(
        session,
        request,
        {
            "status": RequestStatus.completed,
            "completed_at": now,
            "completed_by_name": actor.username,
            "condition": condition,
        },
    )
    by = mover(actor)
    # Who collected it is the event's actor (shown by name); the phrase says which request.
    why = (
        phrases.phrase("recovery_collected_note", request=request.id, note=note)
        if note
        else phrases.phrase("recovery_collected", request=request.id)
    )
    lifecycle.transition(session, by, terminal, S.recovered, reason=why, at=now)
    final = S.in_stock if condition == "ok" else S.faulty
    lifecycle.transition(session, by, terminal, final, reason=why, at=now)
    audit.record(
        session,
        actor=actor,
        action="complete",
        entity="recovery_request",
        entity_id=request.id,
        branch_id=request.branch_id,
        changes={"condition": condition, "state": final.value, "note": note},
    )
    return request


def cancel_if_used_again(session: Session, as_of: date | None = None) -> list[RecoveryRequest]:
    """Cancels open requests whose unit had a successful financial transaction after the day
    the request was raised (counted up to the day before `as_of`); the unit stays deployed."""
    requests = list(
        session.execute(
            select(RecoveryRequest).where(col(RecoveryRequest.status).in_(OPEN))
        ).scalars()
    )
    # Read everything first, then cancel: on SQLite the write lock is taken by the first
    # cancellation, and held only for the writes, not for one query per open request.
    used_again: list[tuple[RecoveryRequest, Phrase]] = []
    for request in requests:
        raised_on = local_day(request.raised_at)
        where = [
            col(TerminalDay.terminal_id) == request.terminal_id,
            col(TerminalDay.day) > raised_on,
            col(TerminalDay.txn_count) > 0,
        ]
        if as_of is not None:
            where.append(col(TerminalDay.day) < as_of)
        first, count = session.execute(
            select(func.min(col(TerminalDay.day)), func.sum(col(TerminalDay.txn_count))).where(
                *where
            )
        ).one()
        if first is None:
            continue
        why = phrases.phrase("used_again", first=phrases.day(first), count=int(count))
        used_again.append((request, why))
    cancelled = []
    for request, why in used_again:
        try:
            cancelled.append(_cancel(session, USED_AGAIN, request, "used_again", why))
        except Conflict:  # decided since it was read (claim compares versions): left as is
            continue
    return cancelled


def _cancel(
    session: Session,
    actor: Actor,
    request: RecoveryRequest,
    code: str,
    why: Phrase,
    status: RequestStatus = RequestStatus.cancelled,
) -> RecoveryRequest:
    """Cancels an open request; the unit goes back to plain deployed if it is still waiting.
    The request keeps `code` (why it was cancelled); the unit's history says `why`."""
    claim(session, request, {"status": status, "cancelled_at": utcnow(), "cancel_reason": code})
    terminal = session.get(Terminal, request.terminal_id)
    if terminal is not None and terminal.state in (S.recovery_requested, S.recovery_approved):
        lifecycle.transition(session, mover(actor), terminal, S.deployed, reason=why)
    audit.record(
        session,
        actor=actor,
        action="withdraw" if status is RequestStatus.withdrawn else "cancel",
        entity="recovery_request",
        entity_id=request.id,
        branch_id=request.branch_id,
        changes={"reason": why, "code": code},
    )
    return request


def withdraw(
    session: Session, actor: Actor, request: RecoveryRequest, why: Phrase
) -> RecoveryRequest:
    """Withdraws an open request (pending, or approved and not yet collected) whose visit
    outcome was corrected (state withdrawn, audited); the unit goes back to deployed, moved in
    the name of the one who corrected."""
    return _cancel(session, actor, request, "withdrawn", why, status=RequestStatus.withdrawn)


def sync(session: Session) -> dict[str, int]:
    """Brings requests in step with moves made by other layers (a recover visit's outcome, a
    plain transition): open requests whose unit has left are closed, and units moved to
    recovery_requested without a request get one, so the queue shows them."""
    counts = {"completed": 0, "cancelled": 0, "adopted": 0}
    rows = session.execute(
        select(RecoveryRequest, Terminal)
        .join(Terminal, col(Terminal.id) == col(RecoveryRequest.terminal_id))
        .where(col(RecoveryRequest.status).in_(OPEN))
    ).all()
    for request, terminal in list(rows):
        if terminal.state in (S.recovered, S.in_stock, S.faulty, S.in_repair):
            claim(
                session,
                request,
                {
                    "status": RequestStatus.completed,
                    "completed_at": terminal.state_since,
                    "completed_by_name": SYNC.username,
                    "condition": "faulty" if terminal.state in (S.faulty, S.in_repair) else "ok",
                },
            )
            counts["completed"] += 1
        elif terminal.state not in (S.recovery_requested, S.recovery_approved):
            why = phrases.phrase("moved_elsewhere", state=phrases.word("state", terminal.state))
            _cancel(session, SYNC, request, "moved_elsewhere", why)
            counts["cancelled"] += 1
    has_open = select(RecoveryRequest.terminal_id).where(col(RecoveryRequest.status).in_(OPEN))
    orphans = session.execute(
        select(Terminal).where(
            col(Terminal.state).in_((S.recovery_requested, S.recovery_approved)),
            col(Terminal.id).not_in(has_open),
        )
    ).scalars()
    for terminal in list(orphans):
        approved = terminal.state is S.recovery_approved
        request = RecoveryRequest(
            terminal_id=terminal.id or 0,
            branch_id=terminal.branch_id,
            merchant_id=terminal.merchant_id or 0,
            status=RequestStatus.approved if approved else RequestStatus.pending,
            decision="approved" if approved else None,
            source="visit",
            why=phrases.phrase("moved_to_recovery"),
            raised_at=terminal.state_since,
            raised_by_name=SYNC.username,
        )
        session.add(request)
        counts["adopted"] += 1
    session.flush()
    return counts
