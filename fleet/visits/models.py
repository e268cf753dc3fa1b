"""Visit plans, visits, follow-ups and repair tickets (tables; API shapes are in schemas.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class VisitKind(StrEnum):
    revisit = "revisit"  # 促动: get an idle unit used again
    follow_up = "follow_up"  # a date promised at an earlier visit
    recover = "recover"  # 回收: collect a unit whose recovery is approved
    campaign = "campaign"  # 专项营销: a market campaign's prospect (see candidates.SOURCES)
    service = "service"  # 售后: a fault ticket on a service staff member's day (not a Visit row)


class VisitStatus(StrEnum):
    planned = "planned"
    done = "done"
    cancelled = "cancelled"


class Outcome(StrEnum):
    reached_promised = "reached_promised"  # reached; promised to use the unit
    needs_training = "needs_training"
    device_faulty = "device_faulty"
    wants_recovery = "wants_recovery"
    no_need = "no_need"
    closed = "closed"  # the shop has closed
    moved = "moved"  # the shop has moved
    not_found = "not_found"
    recovered = "recovered"  # a recover visit collected the unit


class FollowUpStatus(StrEnum):
    open = "open"
    done = "done"
    cancelled = "cancelled"


class TicketStatus(StrEnum):
    open = "open"
    closed = "closed"


class VisitPlan(SQLModel, table=True):
    """One branch's field day: its routes' totals, the candidates left out and why."""

    __tablename__ = "visit_plan"
    __table_args__ = (UniqueConstraint("branch_id", "plan_date", name="uq_visit_plan_branch_day"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    plan_date: date = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_by_name: str = Field(default="", max_length=100)
    scores_as_of: date | None = None
    travel_source: str = Field(default="geodesic", max_length=20)
    solver_seconds: float = 0.0
    candidates: int = 0
    prize_total: int = 0
    prize_planned: int = 0
    distance_m: int = 0
    # distance_m + the prizes of the candidates left out: what the solver minimises.
    objective: int = 0
    # How the plan was made, as phrases (fleet.core.phrases: code and values), worded when shown.
    notes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Per staff member: departure, return, lunch, distance and working time of the route.
    routes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    unplanned: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class Visit(SQLModel, table=True):
    """One stop of a route: planned times, why it was picked, and what happened there."""

    __table_args__ = (Index("ix_visit_day_staff", "plan_date", "staff_id"),)

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="visit_plan.id", index=True)
    plan_date: date
    staff_id: int = Field(foreign_key="user.id", index=True)
    seq: int
    kind: VisitKind = Field(sa_type=enum_type(VisitKind))
    status: VisitStatus = Field(default=VisitStatus.planned, sa_type=enum_type(VisitStatus))
    # A campaign prospect may have no terminal yet.
    terminal_id: int | None = Field(default=None, foreign_key="terminal.id", index=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    # The campaign's id, when campaigns (a later layer) supply visits; no foreign key on purpose.
    campaign_id: int | None = None
    follow_up_id: int | None = Field(default=None, foreign_key="follow_up.id")
    planned_arrival: datetime = Field(sa_type=UTCDateTime)
    planned_start: datetime = Field(sa_type=UTCDateTime)
    planned_departure: datetime = Field(sa_type=UTCDateTime)
    time_window: str = Field(default="", max_length=20)  # the opening span the visit falls in
    travel_m: int = 0  # from the previous stop
    travel_s: int = 0
    priority: float = 0.0
    usage_status: str | None = Field(default=None, max_length=20)  # when planned
    reason: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Why it is on the list, as a phrase (fleet.core.phrases); `reason` holds the facts.
    why: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: Outcome | None = Field(default=None, sa_type=enum_type(Outcome))
    note: str | None = Field(default=None, max_length=1000)
    follow_up_on: date | None = None
    recorded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    next_steps: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Proof of visit, with the user's consent: where the phone was when the outcome was
    # recorded (WGS-84), its accuracy, how far that is from the merchant, and whether that is
    # farther than FLEET_VISIT_PROOF_MAX_M (flagged for the branch). No location: all empty.
    proof_lat: float | None = None
    proof_lng: float | None = None
    proof_accuracy_m: float | None = None
    proof_distance_m: int | None = None
    proof_flagged: bool = Field(default=False, index=True)


class FollowUp(SQLModel, table=True):
    """A visit promised for a date; it joins the revisit list as that date comes."""

    __tablename__ = "follow_up"

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    due_on: date = Field(index=True)
    status: FollowUpStatus = Field(
        default=FollowUpStatus.open, sa_type=enum_type(FollowUpStatus), index=True
    )
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    note: str | None = Field(default=None, max_length=1000)
    # Not foreign keys: visit refers to follow_up, and a cycle would need deferred constraints.
    from_visit_id: int | None = None
    done_visit_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RepairTicket(SQLModel, table=True):
    """A fault reported at a visit; after-sales work is tracked elsewhere, later."""

    __tablename__ = "repair_ticket"

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    visit_id: int | None = Field(default=None, foreign_key="visit.id")
    problem: str = Field(max_length=1000)
    status: TicketStatus = Field(
        default=TicketStatus.open, sa_type=enum_type(TicketStatus), index=True
    )
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_by_name: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
