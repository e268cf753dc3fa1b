"""Fault tickets: open, assign, on site, pause, restore, close, cancel; who sees which.

Every move is a compare-and-set on the ticket's version (of two people assigning or closing
at once, one wins and the other gets a Conflict, 409), a TicketEvent and an audit entry, and
the unit's own lifecycle state follows in the same transaction:
a fault opens → the unit is faulty (off the merchant's placement); at the vendor → in_repair;
restored on site → deployed at the same merchant again; swapped → the spare is deployed there
and the broken unit goes to in_repair; a cancelled ticket puts the unit back where it was.

Scope: admins see every ticket, branch operations their subtree's, service staff the tickets
assigned to them and the open, unassigned tickets of their branch (the pool), field staff the
faults they reported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.aftersales import contractors, policies, sla, spares
from fleet.aftersales.clock import Clock
from fleet.aftersales.models import (
    FINAL,
    LIVE,
    MOVES,
    PAUSED,
    Priority,
    Resolution,
    RestoreRequest,
    Symptom,
    Ticket,
    TicketEvent,
    TicketSource,
    TicketState,
)
from fleet.auth.models import User
from fleet.core import audit
from fleet.core.access import Actor, Permission, Role, system_actor
from fleet.core.config import Settings, get_settings
from fleet.core.db import attempt, utcnow
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.core.phrases import phrase, word
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Merchant, Terminal, TerminalState
from fleet.inventory.scope import subtree_ids

T = TicketState
U = TerminalState


@dataclass
class Context:
    settings: Settings
    clock: Clock

    @classmethod
    def of(cls, settings: Settings | None = None, session: Session | None = None) -> Context:
        """The settings (with the admins' SLA policies when a session is given) and clock."""
        settings = settings or get_settings()
        if session is not None:
            settings = policies.settings_in_force(session, settings)
        return cls(settings, Clock(settings))


def _not_found(ticket_id: object) -> NotFound:
    return NotFound("ticket {ticket_id} not found", ticket_id=ticket_id)


def _sees(actor: Actor, ticket: Ticket) -> bool:
    if actor.role is Role.field:  # the faults they reported at their visits
        return ticket.opened_by_id is not None and ticket.opened_by_id == actor.user_id
    if actor.role is Role.service:
        mine = ticket.assignee_id is not None and ticket.assignee_id == actor.user_id
        pool = ticket.state is T.open and ticket.assignee_id is None
        return mine or (pool and actor.sees_branch(ticket.branch_id))
    return actor.sees_branch(ticket.branch_id)


def _narrowed(session: Session, actor: Actor) -> Actor:
    """A contractor's technician works only in the branches the contractor covers."""
    if actor.role is not Role.service:
        return actor
    covered = contractors.covered_for_user(session, actor.user_id)
    if covered is None:
        return actor
    mine = covered if actor.branch_ids is None else covered & actor.branch_ids
    return replace(actor, branch_ids=mine)


def get_ticket(session: Session, actor: Actor, ticket_id: int) -> Ticket:
    """The ticket, if the actor may see it; otherwise the same 404 as for a missing one."""
    actor.require(Permission.read_tickets)
    return _visible(_narrowed(session, actor), session.get(Ticket, ticket_id), ticket_id)


def _visible(actor: Actor, ticket: Ticket | None, ticket_id: int) -> Ticket:
    if ticket is None or not _sees(actor, ticket):
        raise _not_found(ticket_id)
    return ticket


def list_tickets(
    session: Session,
    actor: Actor,
    *,
    branch_id: int | None = None,
    state: TicketState | None = None,
    live_only: bool = False,
) -> list[Ticket]:
    """Tickets the actor may see, the most urgent first (earliest restore deadline)."""
    actor.require(Permission.read_tickets)
    actor = _narrowed(session, actor)
    stmt = select(Ticket)
    if actor.branch_ids is not None:
        stmt = stmt.where(col(Ticket.branch_id).in_(actor.branch_ids))
    if actor.role is Role.service:
        pool = (col(Ticket.state) == T.open) & col(Ticket.assignee_id).is_(None)
        stmt = select(Ticket).where(
            or_(
                col(Ticket.assignee_id) == actor.user_id,
                pool & col(Ticket.branch_id).in_(actor.branch_ids or frozenset()),
            )
        )
    if actor.role is Role.field:
        stmt = stmt.where(col(Ticket.opened_by_id) == actor.user_id)
    if branch_id is not None:
        below = inventory.get_branch(session, actor, branch_id)
        stmt = stmt.where(col(Ticket.branch_id).in_(subtree_ids(session, below.id or 0)))
    if state is not None:
        stmt = stmt.where(col(Ticket.state) == state)
    elif live_only:
        stmt = stmt.where(col(Ticket.state).in_(LIVE))
    stmt = stmt.order_by(col(Ticket.restore_by).is_(None), col(Ticket.restore_by), col(Ticket.id))
    return list(session.execute(stmt).scalars())


def live_ticket(session: Session, terminal_id: int) -> Ticket | None:
    return session.execute(
        select(Ticket).where(col(Ticket.terminal_id) == terminal_id, col(Ticket.state).in_(LIVE))
    ).scalar_one_or_none()


def history(session: Session, ticket: Ticket) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(col(TicketEvent.ticket_id) == ticket.id)
    return list(session.execute(stmt.order_by(col(TicketEvent.at), col(TicketEvent.id))).scalars())


def _unit_mover(actor: Actor) -> Actor:
    # Service staff may not move units through the inventory; the ticket moves them, in the
    # name of the person working it (the lifecycle event and its audit entry say who).
    return system_actor(f"ticket:{actor.username}")


def _event(session: Session, actor: Actor, ticket: Ticket, before: T | None, note: str) -> None:
    session.add(
        TicketEvent(
            ticket_id=ticket.id or 0,
            at=ticket.state_since,
            actor_id=actor.user_id,
            actor_name=actor.username,
            from_state=before,
            to_state=ticket.state,
            note=note[:1000],
        )
    )
    audit.record(
        session,
        actor=actor,
        action="ticket_move" if before else "ticket_open",
        entity="fault_ticket",
        entity_id=ticket.id,
        branch_id=ticket.branch_id,
        changes={"state": [before.value if before else None, ticket.state.value], "note": note},
    )


def open_ticket(
    session: Session,
    actor: Actor,
    terminal: Terminal,
    symptom: Symptom,
    *,
    source: TicketSource,
    priority: Priority = Priority.normal,
    description: str = "",
    visit_id: int | None = None,
    suspicion: dict[str, object] | None = None,
    opened_by: tuple[int | None, str] | None = None,
    ctx: Context | None = None,
) -> Ticket:
    """Opens a ticket for a unit at a merchant (a feed suspicion: a *suspected* ticket, the
    unit untouched until ops confirm it)."""
    actor.require(Permission.dispatch_tickets if suspicion else Permission.work_tickets)
    ctx = ctx or Context.of(session=session)
    inventory.get_terminal(session, actor, terminal.id or 0)
    existing = live_ticket(session, terminal.id or 0)
    if existing is not None:
        raise Conflict(
            "terminal {sn} has an open ticket already ({ticket_id})",
            details={"ticket_id": existing.id, "state": existing.state.value},
            sn=terminal.sn,
            ticket_id=existing.id,
        )
    if terminal.state is not U.deployed or terminal.merchant_id is None:
        raise Conflict(
            "terminal {sn} is {state}, not at a merchant; only a unit at a merchant can have "
            "a fault ticket",
            details={"current_state": terminal.state.value},
            sn=terminal.sn,
            state=terminal.state,
        )
    now = utcnow()
    recent = session.execute(
        select(Ticket)
        .where(
            col(Ticket.terminal_id) == terminal.id,
            col(Ticket.state) != T.cancelled,
            col(Ticket.opened_at) >= now - timedelta(days=ctx.settings.service_repeat_days),
        )
        .order_by(col(Ticket.opened_at).desc())
        .limit(1)
    ).scalar_one_or_none()
    merchant = session.get(Merchant, terminal.merchant_id)
    by_id, by_name = opened_by or (actor.user_id, actor.username)
    ticket = Ticket(
        terminal_id=terminal.id or 0,
        merchant_id=terminal.merchant_id,
        branch_id=terminal.branch_id,
        source=source,
        symptom=symptom,
        priority=priority,
        area=sla.area_of(session, merchant, ctx.settings),
        description=description[:1000],
        state=T.suspected if suspicion else T.open,
        state_since=now,
        opened_at=now,
        opened_by_id=by_id,
        opened_by_name=by_name,
        visit_id=visit_id,
        repeat_of_id=recent.id if recent else None,
        suspicion=suspicion,
    )
    if not suspicion:
        sla.set_deadlines(ticket, ctx.clock, ctx.settings, now)
    try:
        with attempt(session):
            session.add(ticket)
            session.flush()
    except IntegrityError:  # someone opened one for this unit a moment ago
        raise Conflict(
            "terminal {sn} has an open ticket already ({ticket_id})",
            sn=terminal.sn,
            ticket_id="?",
        ) from None
    if not suspicion:
        lifecycle.transition(
            session,
            _unit_mover(actor),
            terminal,
            U.faulty,
            reason=phrase("fault_ticket", ticket=ticket.id),
        )
    _event(session, actor, ticket, None, description)
    session.flush()
    return ticket


def _compare_and_set(
    session: Session, ticket: Ticket, to: T, now: datetime, **values: object
) -> None:
    """Moves the ticket if nobody else has since it was read; else a Conflict saying what
    happened meanwhile."""
    seen = ticket.version
    changed = session.execute(
        update(Ticket)
        .where(col(Ticket.id) == ticket.id, col(Ticket.version) == seen)
        .values(state=to, state_since=now, version=seen + 1, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(ticket)
        who = session.get(User, ticket.assignee_id) if ticket.assignee_id else None
        raise Conflict(
            "ticket {ticket_id} was changed meanwhile; it is now {state}",
            details={
                "state": ticket.state.value,
                "assignee": who.username if who else None,
            },
            ticket_id=ticket.id,
            state=ticket.state,
        )
    session.refresh(ticket)


def _check_move(ticket: Ticket, to: T) -> None:
    if to in MOVES[ticket.state]:
        return
    if to is ticket.state:  # a second click, or another tab: nothing left to do
        raise Conflict(
            "ticket {ticket_id} is {state} already",
            details={"state": ticket.state.value},
            ticket_id=ticket.id,
            state=ticket.state,
        )
    if ticket.state in FINAL:
        raise Conflict(
            "ticket {ticket_id} is {state} already; it cannot become {target}",
            details={"state": ticket.state.value},
            ticket_id=ticket.id,
            state=ticket.state,
            target=to,
        )
    raise Conflict(
        "ticket {ticket_id} is {state}; it cannot become {target}",
        details={"state": ticket.state.value, "allowed": sorted(MOVES[ticket.state])},
        ticket_id=ticket.id,
        state=ticket.state,
        target=to,
    )


def _move(
    session: Session,
    actor: Actor,
    ticket: Ticket,
    to: T,
    note: str,
    ctx: Context,
    **values: object,
) -> Ticket:
    _check_move(ticket, to)
    before = ticket.state
    now = utcnow()
    # The clock's changes are worked out on a copy: the ticket itself changes only through
    # the compare-and-set (an unflushed change would be written without it).
    probe = Ticket(**ticket.model_dump())
    if before in PAUSED and to not in PAUSED:
        sla.resume(probe, ctx.clock, now)
    elif to in PAUSED:
        sla.pause(probe, now)
    for name in ("paused_since", "paused_hours", "on_site_by", "restore_by"):
        values.setdefault(name, getattr(probe, name))
    _compare_and_set(session, ticket, to, now, **values)
    sla.flag_breaches(ticket, now)
    session.add(ticket)
    _event(session, actor, ticket, before, note)
    session.flush()
    return ticket


def assign(
    session: Session,
    actor: Actor,
    ticket_id: int,
    username: str | None = None,
    *,
    note: str = "",
    ctx: Context | None = None,
) -> Ticket:
    """Gives the ticket to a service staff member (or ops, admin); service staff take tickets
    from their branch's pool for themselves."""
    ctx = ctx or Context.of(session=session)
    actor.require(Permission.work_tickets)
    actor.require(Permission.read_tickets)
    found = session.get(Ticket, ticket_id)
    _refuse_if_taken(_narrowed(session, actor), found)
    ticket = _visible(_narrowed(session, actor), found, ticket_id)
    if username is None or username == actor.username:
        assignee_id = actor.user_id
    else:
        actor.require(Permission.dispatch_tickets)
        user = inventory.staff_by_username(session, actor, username)
        if user.role not in (Role.service, Role.branch_ops, Role.admin):
            raise Invalid(
                "{username} is {role}; give tickets to service staff or operations",
                username=username,
                role=user.role.value,
            )
        assignee_id = user.id
    if assignee_id is None:
        raise Invalid("the command line cannot take a ticket itself; name who takes it")
    if ticket.state is T.assigned and not actor.can(Permission.dispatch_tickets):
        raise Forbidden("only operations may reassign a ticket")
    first = ticket.responded_at is None
    return _move(
        session,
        actor,
        ticket,
        T.assigned,
        # Who took it is the ticket's assignee (and the event's actor, when taken): a note
        # holds only what a person wrote, never a username the pages would show as a code.
        note,
        ctx,
        assignee_id=assignee_id,
        responded_at=utcnow() if first else ticket.responded_at,
    )


def _refuse_if_taken(actor: Actor, ticket: Ticket | None) -> None:
    """A colleague took this ticket from the branch's pool a moment ago: say so (409), rather
    than answer as if it never existed (the caller saw it in the pool)."""
    if (
        ticket is not None
        and actor.role is Role.service
        and not _sees(actor, ticket)
        and actor.sees_branch(ticket.branch_id)
        and ticket.state is T.assigned
    ):
        raise Conflict(
            "ticket {ticket_id} was changed meanwhile; it is now {state}",
            details={"state": ticket.state.value, "assignee_id": ticket.assignee_id},
            ticket_id=ticket.id,
            state=ticket.state,
        )


def _ticket_to_move(
    session: Session, actor: Actor, ticket_id: int, permission: Permission
) -> Ticket:
    """The ticket, if the actor holds the permission and sees it; working a ticket is for its
    assignee, or for operations."""
    actor.require(permission)
    ticket = get_ticket(session, actor, ticket_id)
    working = permission is Permission.work_tickets and not actor.can(Permission.dispatch_tickets)
    if working and ticket.assignee_id != actor.user_id:
        raise Forbidden("only the assignee or operations may work this ticket")
    return ticket


def arrive(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """The technician is at the merchant."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.work_tickets)
    return _move(
        session, actor, ticket, T.on_site, note, ctx, on_site_at=ticket.on_site_at or utcnow()
    )


def wait_for_parts(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """Pauses the SLA clock until the parts are there."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.work_tickets)
    return _move(session, actor, ticket, T.awaiting_parts, note, ctx)


def send_to_vendor(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """The unit goes to the vendor (in_repair); the SLA clock pauses until it is back."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.work_tickets)
    _move(session, actor, ticket, T.at_vendor, note, ctx)
    terminal = session.get(Terminal, ticket.terminal_id)
    if terminal is not None and terminal.state is U.faulty:
        lifecycle.transition(
            session,
            _unit_mover(actor),
            terminal,
            U.in_repair,
            reason=phrase("fault_ticket_vendor", ticket=ticket.id),
        )
    return ticket


def resume(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """Parts arrived or the unit is back from the vendor: the clock runs again."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.work_tickets)
    to = T.on_site if ticket.on_site_at is not None else T.assigned
    return _move(session, actor, ticket, to, note, ctx)


def restore(
    session: Session,
    actor: Actor,
    ticket_id: int,
    data: RestoreRequest,
    *,
    ctx: Context | None = None,
) -> Ticket:
    """The unit works again at the merchant: the resolution, parts, labour, travel and vendor
    fee are recorded, and the unit (or, for a swap, the spare) is deployed there."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.work_tickets)
    if data.resolution is None:
        raise Invalid("a restore needs a resolution (how the fault was dealt with)")
    _check_move(ticket, T.restored)
    terminal = session.get(Terminal, ticket.terminal_id)
    merchant = session.get(Merchant, ticket.merchant_id) if ticket.merchant_id else None
    if terminal is None or merchant is None:
        raise Conflict(
            "ticket {ticket_id} has no merchant to restore the unit at", ticket_id=ticket.id
        )
    spare: Terminal | None = None
    if data.resolution is Resolution.swapped:
        if not data.spare_sn:
            raise Invalid("a swap needs the spare's serial number (spare_sn)")
        spare = spares.spare_for_swap(session, ticket.branch_id, data.spare_sn)
    elif data.spare_sn:
        raise Invalid("spare_sn is only for a swap")
    parts = [p.model_dump() for p in data.parts]
    _move(
        session,
        actor,
        ticket,
        T.restored,
        data.note,
        ctx,
        restored_at=utcnow(),
        resolution=data.resolution,
        resolution_note=data.note[:1000],
        parts=parts,
        parts_cost=round(sum(p.cost for p in data.parts), 2),
        labour_minutes=data.labour_minutes,
        travel_km=data.travel_km,
        vendor_fee=data.vendor_fee,
        spare_terminal_id=spare.id if spare else None,
    )
    mover = _unit_mover(actor)
    why = phrase(
        "fault_ticket_resolved",
        ticket=ticket.id,
        resolution=word("resolution", data.resolution),
    )
    if spare is not None:
        lifecycle.transition(
            session, mover, spare, U.deployed, reason=why, merchant_code=merchant.code
        )
        spares.used(session, spare)
        if terminal.state is U.faulty:
            lifecycle.transition(session, mover, terminal, U.in_repair, reason=why)
    elif terminal.state in (U.faulty, U.in_repair):
        lifecycle.transition(
            session, mover, terminal, U.deployed, reason=why, merchant_code=merchant.code
        )
    return ticket


def close(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """Closes a restored ticket (operations)."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.dispatch_tickets)
    return _move(session, actor, ticket, T.closed, note, ctx, closed_at=utcnow())


def cancel(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """Cancels a ticket opened by mistake, or dismisses a suspicion; a unit taken off its
    merchant by the ticket goes back there."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.dispatch_tickets)
    was = ticket.state
    _move(session, actor, ticket, T.cancelled, note, ctx, closed_at=utcnow())
    terminal = session.get(Terminal, ticket.terminal_id)
    merchant = session.get(Merchant, ticket.merchant_id) if ticket.merchant_id else None
    if was is not T.suspected and terminal is not None and terminal.state is U.faulty and merchant:
        lifecycle.transition(
            session,
            _unit_mover(actor),
            terminal,
            U.deployed,
            reason=phrase("fault_ticket_cancelled", ticket=ticket.id),
            merchant_code=merchant.code,
        )
    return ticket


def confirm(
    session: Session, actor: Actor, ticket_id: int, *, note: str = "", ctx: Context | None = None
) -> Ticket:
    """Confirms a suspected fault: the ticket opens, its SLA clock starts, the unit is faulty."""
    ctx = ctx or Context.of(session=session)
    ticket = _ticket_to_move(session, actor, ticket_id, Permission.dispatch_tickets)
    _check_move(ticket, T.open)
    probe = Ticket(**ticket.model_dump())
    sla.set_deadlines(probe, ctx.clock, ctx.settings, utcnow())
    _move(
        session,
        actor,
        ticket,
        T.open,
        note,
        ctx,
        respond_by=probe.respond_by,
        on_site_by=probe.on_site_by,
        restore_by=probe.restore_by,
    )
    terminal = session.get(Terminal, ticket.terminal_id)
    if terminal is not None and terminal.state is U.deployed:
        lifecycle.transition(
            session,
            _unit_mover(actor),
            terminal,
            U.faulty,
            reason=phrase("fault_ticket", ticket=ticket.id),
        )
    return ticket
