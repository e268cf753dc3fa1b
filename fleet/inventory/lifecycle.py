"""The terminal lifecycle: which moves are allowed, and the one function that makes them.

in_stock → deployed → (recovery_requested → recovery_approved → recovered) → in_stock,
plus faulty → in_repair → in_stock (or back to deployed when repaired), and retired / lost.
Every move is an event and an audit entry; placements open and close with it, so a unit at a
merchant has exactly one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from fleet.core import audit, phrases
from fleet.core.access import Actor, Permission
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid, Listed
from fleet.inventory import service
from fleet.inventory.models import (
    AT_MERCHANT,
    LifecycleEvent,
    MerchantStatus,
    Placement,
    Terminal,
    TerminalState,
)

S = TerminalState
ALLOWED: dict[TerminalState, frozenset[TerminalState]] = {
    S.in_stock: frozenset({S.deployed, S.faulty, S.retired, S.lost}),
    S.deployed: frozenset({S.recovery_requested, S.faulty, S.lost}),
    # Back to deployed: the request was rejected, or the merchant started using the unit again.
    S.recovery_requested: frozenset({S.recovery_approved, S.deployed}),
    S.recovery_approved: frozenset({S.recovered, S.deployed}),
    S.recovered: frozenset({S.in_stock, S.faulty}),
    # Back to deployed: repaired at the merchant's, or back from the vendor to the same shop
    # (a fault ticket, fleet.aftersales).
    S.faulty: frozenset({S.in_repair, S.retired, S.deployed}),
    S.in_repair: frozenset({S.in_stock, S.retired, S.deployed}),
    S.lost: frozenset({S.in_stock, S.retired}),
    S.retired: frozenset(),
}


def allowed_from(state: TerminalState) -> list[str]:
    return sorted(s.value for s in ALLOWED[state])


Why = phrases.Phrase | str


def said(reason: Why) -> phrases.Phrase:
    """A reason as a phrase: what a person typed is kept as their text."""
    if isinstance(reason, str):
        return phrases.text(reason.strip()[:500]) if reason.strip() else {}
    return reason


def record_event(
    session: Session,
    actor: Actor,
    terminal: Terminal,
    from_state: TerminalState | None,
    to_state: TerminalState,
    *,
    reason: Why,
    at: datetime,
) -> LifecycleEvent:
    """One entry of a unit's history; `reason` is a phrase, or text a person typed."""
    event = LifecycleEvent(
        terminal_id=terminal.id or 0,
        at=at,
        actor_id=actor.user_id,
        actor_name=actor.username,
        from_state=from_state,
        to_state=to_state,
        merchant_id=terminal.merchant_id,
        why=said(reason),
    )
    session.add(event)
    return event


def transition(
    session: Session,
    actor: Actor,
    terminal: Terminal,
    to_state: TerminalState,
    *,
    reason: Why = "",
    merchant_code: str | None = None,
    at: datetime | None = None,
) -> LifecycleEvent:
    """Moves `terminal` to `to_state`, or refuses with a Conflict naming its current state.
    `reason` is a phrase (fleet.core.phrases), or text a person typed."""
    actor.require(Permission.change_lifecycle)
    from_state = terminal.state
    if to_state not in ALLOWED[from_state]:
        details = {"current_state": from_state.value, "allowed": allowed_from(from_state)}
        if not ALLOWED[from_state]:
            raise Conflict(
                "terminal {sn} is {state}, a final state; it cannot become {target}",
                details=details,
                sn=terminal.sn,
                state=from_state,
                target=to_state,
            )
        raise Conflict(
            "terminal {sn} is {state}; it cannot become {target} (allowed from {state}: {allowed})",
            details=details,
            sn=terminal.sn,
            state=from_state,
            target=to_state,
            allowed=Listed(sorted(ALLOWED[from_state])),
        )
    now = utcnow()
    at = at or now
    if at > now:
        raise Invalid("a lifecycle change cannot be dated in the future")
    if at < terminal.state_since:
        raise Invalid(
            "terminal {sn} has been {state} since {since}; a change cannot be dated before that",
            sn=terminal.sn,
            state=from_state,
            since=terminal.state_since.isoformat(),
        )

    placing = to_state is S.deployed and from_state not in AT_MERCHANT
    leaving = from_state in AT_MERCHANT and to_state not in AT_MERCHANT
    merchant_id = terminal.merchant_id
    if placing:
        if not merchant_code:
            raise Invalid("deploying terminal {sn} needs merchant_code", sn=terminal.sn)
        merchant = service.merchant_by_code(session, actor, merchant_code)
        if merchant.status is not MerchantStatus.open:
            raise Invalid(
                "merchant {code} is {status}; place units only with open merchants",
                code=merchant.code,
                status=merchant.status,
            )
        merchant_id = merchant.id
    elif merchant_code:
        raise Invalid(
            "merchant_code is only for deploying a unit, not for {target}", target=to_state
        )
    if leaving:
        merchant_id = None

    # Compare-and-set on the state: of two people moving the same unit at once, one wins.
    changed = session.execute(
        update(Terminal)
        .where(col(Terminal.id) == terminal.id, col(Terminal.state) == from_state)
        .values(state=to_state, merchant_id=merchant_id, state_since=at, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(terminal)
        raise Conflict(
            "terminal {sn} was changed meanwhile; it is now {state}",
            details={"current_state": terminal.state.value},
            sn=terminal.sn,
            state=terminal.state,
        )

    if leaving:
        session.execute(
            update(Placement)
            .where(col(Placement.terminal_id) == terminal.id, col(Placement.ended_at).is_(None))
            .values(ended_at=at, end_reason=to_state.value)
            .execution_options(synchronize_session=False)
        )
    old_merchant = terminal.merchant_id
    terminal.state, terminal.merchant_id, terminal.state_since, terminal.updated_at = (
        to_state,
        merchant_id,
        at,
        now,
    )
    if placing:
        session.add(
            Placement(terminal_id=terminal.id or 0, merchant_id=merchant_id or 0, started_at=at)
        )
    event = record_event(session, actor, terminal, from_state, to_state, reason=reason, at=at)
    if leaving:
        event.merchant_id = old_merchant
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="transition",
        entity="terminal",
        entity_id=terminal.sn,
        branch_id=terminal.branch_id,
        changes={
            "state": [from_state.value, to_state.value],
            "reason": said(reason),
            "merchant_id": [old_merchant, merchant_id],
        },
    )
    return event


def placements(session: Session, terminal: Terminal) -> list[Placement]:
    stmt = select(Placement).where(Placement.terminal_id == terminal.id)
    return list(
        session.execute(stmt.order_by(col(Placement.started_at), col(Placement.id))).scalars()
    )


def events(session: Session, terminal: Terminal) -> list[LifecycleEvent]:
    stmt = select(LifecycleEvent).where(LifecycleEvent.terminal_id == terminal.id)
    return list(
        session.execute(stmt.order_by(col(LifecycleEvent.at), col(LifecycleEvent.id))).scalars()
    )
