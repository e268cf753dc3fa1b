"""Fault tickets (故障工单) and their state history (tables), with their API schemas."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class TicketState(StrEnum):
    suspected = "suspected"  # raised from the feed; ops confirm (→ open) or dismiss (→ cancelled)
    open = "open"
    assigned = "assigned"
    on_site = "on_site"
    awaiting_parts = "awaiting_parts"  # the SLA clock is paused
    at_vendor = "at_vendor"  # the SLA clock is paused
    restored = "restored"
    closed = "closed"
    cancelled = "cancelled"


S = TicketState
# The moves a ticket may make; every one is a TicketEvent and an audit entry.
MOVES: dict[TicketState, frozenset[TicketState]] = {
    S.suspected: frozenset({S.open, S.cancelled}),
    S.open: frozenset({S.assigned, S.cancelled}),
    # Straight to restored: fixed over the phone (a line fault the telecom cleared).
    S.assigned: frozenset(
        {S.assigned, S.on_site, S.awaiting_parts, S.at_vendor, S.restored, S.cancelled}
    ),
    S.on_site: frozenset({S.restored, S.awaiting_parts, S.at_vendor}),
    S.awaiting_parts: frozenset({S.assigned, S.on_site}),
    S.at_vendor: frozenset({S.assigned, S.on_site}),
    S.restored: frozenset({S.closed}),
    S.closed: frozenset(),
    S.cancelled: frozenset(),
}
FINAL = frozenset({S.closed, S.cancelled})
PAUSED = frozenset({S.awaiting_parts, S.at_vendor})
# A unit has at most one ticket in these states (a database index keeps it so).
LIVE = frozenset(TicketState) - FINAL
_LIVE_SQL = "state NOT IN ('closed', 'cancelled')"


class TicketSource(StrEnum):
    field_visit = "field_visit"
    phone = "phone"  # ops took the merchant's call
    qr = "qr"  # the merchant's QR page
    feed = "feed"  # a suspicion from the transaction feed
    service = "service"  # a service staff member found it


class Symptom(StrEnum):
    phone_line = "phone_line"
    card_reader = "card_reader"
    printer = "printer"
    keypad = "keypad"
    display = "display"
    power = "power"
    key_injection = "key_injection"
    tampering = "tampering"
    other = "other"


class Priority(StrEnum):
    high = "high"
    normal = "normal"
    low = "low"


class Area(StrEnum):
    town = "town"  # within FLEET_SERVICE_TOWN_RADIUS_KM of a city or county branch
    rural = "rural"


class Resolution(StrEnum):
    repaired_on_site = "repaired_on_site"
    swapped = "swapped"
    sent_to_vendor = "sent_to_vendor"
    no_fault_found = "no_fault_found"
    merchant_caused = "merchant_caused"


class Ticket(SQLModel, table=True):
    """One fault of one unit, from report to verified restore, on an SLA clock."""

    __tablename__ = "fault_ticket"
    __table_args__ = (
        # No two live tickets for one unit, however they are raised.
        Index(
            "uq_fault_ticket_live_terminal",
            "terminal_id",
            unique=True,
            sqlite_where=text(_LIVE_SQL),
            postgresql_where=text(_LIVE_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    merchant_id: int | None = Field(default=None, foreign_key="merchant.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    source: TicketSource = Field(sa_type=enum_type(TicketSource))
    symptom: Symptom = Field(sa_type=enum_type(Symptom))
    priority: Priority = Field(default=Priority.normal, sa_type=enum_type(Priority))
    area: Area = Field(default=Area.town, sa_type=enum_type(Area))
    description: str = Field(default="", max_length=1000)
    state: TicketState = Field(default=S.open, sa_type=enum_type(TicketState), index=True)
    state_since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Bumped by every move: the compare-and-set that lets one of two people win.
    version: int = 1
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    opened_by_id: int | None = Field(default=None, foreign_key="user.id")
    opened_by_name: str = Field(default="", max_length=100)
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    # SLA deadlines (UTC), moved later by the business time spent paused.
    respond_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    on_site_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    restore_by: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_hours: float = 0.0
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    on_site_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    restored_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    breached_response: bool = False
    breached_on_site: bool = False
    breached_restore: bool = False
    # The unit's latest earlier ticket when that was opened within 30 days (a repeat fault).
    repeat_of_id: int | None = Field(default=None, foreign_key="fault_ticket.id")
    resolution: Resolution | None = Field(default=None, sa_type=enum_type(Resolution))
    resolution_note: str = Field(default="", max_length=1000)
    # [{"name": str, "cost": float}] in yuan.
    parts: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    parts_cost: float = 0.0
    labour_minutes: int = 0
    travel_km: float = 0.0
    vendor_fee: float = 0.0
    spare_terminal_id: int | None = Field(default=None, foreign_key="terminal.id")
    # Why the feed suspects a fault: {"code": ..., values...}.
    suspicion: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # After restore: the unit's first successful transaction verifies the ticket.
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    callback_due: bool = False
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketEvent(SQLModel, table=True):
    """One move of a ticket: the state history, with who and why."""

    __tablename__ = "fault_ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="fault_ticket.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_name: str = Field(default="", max_length=100)
    from_state: TicketState | None = Field(default=None, sa_type=enum_type(TicketState))
    to_state: TicketState = Field(sa_type=enum_type(TicketState))
    note: str = Field(default="", max_length=1000)


# --- API shapes -----------------------------------------------------------------------------


class TicketCreate(SQLModel):
    sn: str = Field(min_length=1, max_length=64)
    symptom: Symptom
    priority: Priority = Priority.normal
    source: TicketSource = TicketSource.phone
    description: str = Field(default="", max_length=1000)


class AssignRequest(SQLModel):
    username: str | None = Field(
        default=None, description="Who takes the ticket; default: the caller."
    )


class MoveRequest(SQLModel):
    to: TicketState
    note: str = Field(default="", max_length=1000)


class Part(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    cost: float = Field(ge=0)


class RestoreRequest(SQLModel):
    resolution: Resolution | None = None
    note: str = Field(default="", max_length=1000)
    parts: list[Part] = Field(default_factory=list)
    labour_minutes: int = Field(default=0, ge=0, le=10000)
    travel_km: float = Field(default=0, ge=0, le=10000)
    vendor_fee: float = Field(default=0, ge=0)
    spare_sn: str | None = Field(default=None, description="For a swap: the spare placed.")


class TicketEventPublic(SQLModel):
    at: datetime
    actor_name: str
    from_state: TicketState | None
    to_state: TicketState
    note: str


class TicketPublic(SQLModel):
    id: int
    sn: str
    terminal_id: int
    merchant_id: int | None
    merchant_name: str | None = None
    branch_id: int
    branch_code: str | None = None
    source: TicketSource
    symptom: Symptom
    symptom_zh: str
    priority: Priority
    area: Area
    description: str
    state: TicketState
    opened_at: datetime
    opened_by_name: str
    assignee: str | None = None
    respond_by: datetime | None
    on_site_by: datetime | None
    restore_by: datetime | None
    paused: bool
    hours_left: float | None = Field(
        default=None, description="Business hours to the restore deadline (negative: late)."
    )
    breached: list[str]
    repeat_of_id: int | None
    resolution: Resolution | None
    resolution_note: str
    parts: list[dict[str, Any]]
    parts_cost: float
    labour_minutes: int
    travel_km: float
    vendor_fee: float
    suspicion: dict[str, Any] | None
    restored_at: datetime | None
    verified_at: datetime | None
    callback_due: bool
    history: list[TicketEventPublic] = Field(default_factory=list)


# --- spares, vendor repairs, contractors ----------------------------------------------------


class Spare(SQLModel, table=True):
    """An in-stock unit a branch keeps to swap for a broken one (备机)."""

    __tablename__ = "spare_unit"

    terminal_id: int = Field(foreign_key="terminal.id", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    marked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    marked_by_name: str = Field(default="", max_length=100)


class RepairOutcome(StrEnum):
    in_stock = "in_stock"  # repaired, back at the branch
    retired = "retired"  # beyond repair


class VendorRepair(SQLModel, table=True):
    """A unit sent to the vendor: when, why, what it cost, and how it came back."""

    __tablename__ = "vendor_repair"

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="fault_ticket.id")
    vendor: str = Field(default="", max_length=100)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: RepairOutcome | None = Field(default=None, sa_type=enum_type(RepairOutcome))
    cost: float = 0.0
    note: str = Field(default="", max_length=1000)


class ContractorKind(StrEnum):
    company = "company"
    person = "person"  # e.g. a re-hired retiree (返聘内退人员)


class Contractor(SQLModel, table=True):
    """An outside after-sales provider, paid on its terms (ContractorTerms), set by admins."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: ContractorKind = Field(default=ContractorKind.company, sa_type=enum_type(ContractorKind))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContractorTerms(SQLModel, table=True):
    """A contractor's rates from a month on (YYYY-MM, China's calendar): a fee per outlet per
    year and per ticket, and a penalty for each SLA breach (example rates: 示例费率). A month's
    statement follows the latest terms from that month or before; the first terms also cover
    the months before theirs. Kept, never changed: a renewal adds terms from its month."""

    __tablename__ = "contractor_terms"

    contractor_id: int = Field(foreign_key="contractor.id", primary_key=True)
    from_month: str = Field(max_length=7, primary_key=True)
    annual_fee_per_outlet: float
    fee_per_ticket: float
    penalty_per_breach: float
    set_by_name: str = Field(max_length=100)
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ContractorBranch(SQLModel, table=True):
    """A branch (and its subtree) a contractor covers."""

    __tablename__ = "contractor_branch"

    contractor_id: int = Field(foreign_key="contractor.id", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", primary_key=True)


class ContractorStaff(SQLModel, table=True):
    """A service user who works for a contractor: they see only the branches it covers."""

    __tablename__ = "contractor_staff"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    contractor_id: int = Field(foreign_key="contractor.id", index=True)


class StatementSignOff(SQLModel, table=True):
    """Operations' sign-off of a contractor's monthly statement, with the amount agreed."""

    __tablename__ = "statement_sign_off"

    contractor_id: int = Field(foreign_key="contractor.id", primary_key=True)
    month: str = Field(max_length=7, primary_key=True)  # YYYY-MM
    amount_due: float
    signed_by_name: str = Field(max_length=100)
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- the service day ------------------------------------------------------------------------


class ServicePlan(SQLModel, table=True):
    """A branch's service day as planned: each service staff member's route of tickets, the
    tickets left out and why, and notes (dayplan.py)."""

    __tablename__ = "service_plan"
    __table_args__ = (
        UniqueConstraint("branch_id", "plan_date", name="uq_service_plan_branch_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    plan_date: date = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_by_name: str = Field(default="", max_length=100)
    travel_source: str = Field(default="geodesic", max_length=20)
    solver_seconds: float = 0.0
    tickets: int = 0  # the tickets that wanted a visit
    distance_m: int = 0
    # phrases (fleet.core.phrases: code and values), worded when shown
    notes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Per staff member: departure, return, lunch (clock seconds), distance, working time, the
    # spares they take along.
    routes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # [{"ticket_id": int, "reason_code": str}]: tickets not routed, and why.
    unplanned: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class ServiceStop(SQLModel, table=True):
    """One ticket on a service staff member's route: the planned times and whether a spare is
    swapped in there."""

    __tablename__ = "service_stop"
    __table_args__ = (Index("ix_service_stop_day_staff", "plan_date", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="service_plan.id", index=True)
    plan_date: date
    staff_id: int = Field(foreign_key="user.id")
    seq: int
    ticket_id: int = Field(foreign_key="fault_ticket.id", index=True)
    planned_arrival: datetime = Field(sa_type=UTCDateTime)
    planned_start: datetime = Field(sa_type=UTCDateTime)
    planned_departure: datetime = Field(sa_type=UTCDateTime)
    travel_m: int = 0
    travel_s: int = 0
    swap: bool = False  # a spare of the staff member's branch goes there
    due: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the restore deadline


# --- the merchant's QR sticker ----------------------------------------------------------------


class QrCode(SQLModel, table=True):
    """A unit's QR sticker code: unguessable, one live per unit; a renewed or revoked code
    opens nothing (the merchant's page answers 404 as for a forged one)."""

    __tablename__ = "unit_qr_code"

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    token: str = Field(max_length=64, unique=True, index=True)
    issued_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    issued_by_name: str = Field(default="", max_length=100)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class QrAttempt(SQLModel, table=True):
    """One use of the QR page, by client address ("ip:...") or by unit ("unit:..."): the rate
    limit's count, shared by every app worker."""

    __tablename__ = "qr_attempt"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=80, index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
