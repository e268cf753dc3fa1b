"""API shapes of plans, visits, outcomes, repair tickets and attribution."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any

from sqlmodel import Field, SQLModel

from fleet.visits.models import Outcome, TicketStatus, VisitKind, VisitStatus


class PlanRequest(SQLModel):
    """Plan (or re-plan) a branch subtree's field day."""

    branch_code: str = Field(min_length=1, max_length=40)
    date: dt.date
    staff: int | None = Field(default=None, ge=1, description="At most this many field staff.")
    seconds: float | None = Field(
        default=None, gt=0, le=30, description="Solver budget; FLEET_REVISIT_SOLVER_SECONDS."
    )


class ProofPublic(SQLModel):
    """Where the phone was when the outcome was recorded (shared with the user's consent)."""

    lat: float
    lng: float
    accuracy_m: float | None = Field(description="The phone's own estimate, in metres.")
    distance_m: int | None = Field(
        description="From the merchant (none when the merchant has no coordinates)."
    )
    flagged: bool = Field(description="Farther from the merchant than FLEET_VISIT_PROOF_MAX_M.")


class VisitPublic(SQLModel):
    """One stop of a route, with everything a field user needs at the door."""

    visit_id: int
    plan_date: date
    staff_id: int
    staff_username: str | None = None
    seq: int
    kind: VisitKind
    status: VisitStatus
    terminal_id: int | None
    sn: str | None
    merchant_id: int
    merchant_code: str
    merchant_name: str
    address: str | None
    contact_name: str | None
    phone: str | None
    lat: float | None
    lng: float | None
    arrival: datetime
    start: datetime
    departure: datetime
    window: str = Field(description="The opening span the visit falls in (local time).")
    travel_km: float = Field(description="From the previous stop.")
    priority: float
    reason: dict[str, Any]
    why: dict[str, Any] = Field(description="Why it is on the list: a phrase (code and values).")
    nav_amap: str | None = Field(default=None, description="AMap/Gaode link (GCJ-02 point).")
    nav_geo: str | None = Field(default=None, description="geo: URI (WGS-84).")
    outcome: Outcome | None = None
    note: str | None = None
    follow_up_on: date | None = None
    next_steps: list[dict[str, Any]] = []
    opening_hours: str | None = Field(default=None, description="The shop's hours (local time).")
    recorded_at: datetime | None = None
    proof: ProofPublic | None = Field(
        default=None, description="Proof of visit; none when no location was shared."
    )


class RoutePublic(SQLModel):
    """One person's day: departure, lunch, return, distance, and the stops in order."""

    staff_id: int
    username: str
    full_name: str
    home_branch_code: str | None
    home_lat: float | None = None
    home_lng: float | None = None
    depart: datetime | None
    back: datetime | None
    lunch_start: datetime | None
    lunch_end: datetime | None
    distance_km: float
    working_minutes: int
    stops: list[VisitPublic]


class UnplannedPublic(SQLModel):
    """A candidate left out of the routes, and why."""

    terminal_id: int | None
    sn: str | None
    merchant_id: int
    merchant_code: str
    merchant_name: str
    kind: VisitKind
    priority: float
    reason_code: str = Field(description="Why it was left out (no_time, too_far, …).")
    why: dict[str, Any] = Field(description="Why it was a candidate: a phrase.")


class PlanPublic(SQLModel):
    """A branch's field day as planned: routes, totals, what was left out, notes."""

    id: int
    branch_code: str
    branch_name: str
    date: dt.date
    created_at: datetime
    created_by: str
    scores_as_of: dt.date | None
    travel_source: str
    solver_seconds: float
    candidates: int
    planned: int
    prize_total: int
    prize_planned: int
    distance_km: float
    objective: int = Field(description="Metres driven + prizes of candidates left out.")
    notes: list[str] = Field(description="How the plan was made, in English.")
    note_phrases: list[dict[str, Any]] = Field(
        default=[], description="The same notes as phrases (code and values), in order."
    )
    routes: list[RoutePublic]
    unplanned: list[UnplannedPublic]


class MoveRequest(SQLModel):
    """Whom a planned stop goes to."""

    to_staff_id: int = Field(
        description="A field officer of the plan's branches, other than the stop's own."
    )


class OutcomeRequest(SQLModel):
    """What happened at a visit."""

    outcome: Outcome
    note: str | None = Field(default=None, max_length=1000)
    follow_up_on: date | None = Field(
        default=None, description="Visit again on this date (a follow-up joins that day's list)."
    )
    # Proof of visit: sent only with the user's consent (the phone's geolocation, WGS-84).
    lat: float | None = Field(default=None, ge=-90, le=90, description="Where the phone is.")
    lng: float | None = Field(default=None, ge=-180, le=180)
    accuracy_m: float | None = Field(
        default=None, ge=0, description="The phone's accuracy estimate, in metres."
    )
    confirm_recent_use: bool = Field(
        default=False,
        description="Confirms no_need on a unit used in the last 30 days: without it such an "
        "outcome is refused (409), since it raises a recovery request for a unit in use.",
    )


class RepairTicketPublic(SQLModel):
    """A fault reported at a visit."""

    id: int
    terminal_id: int
    sn: str | None = None
    branch_id: int
    visit_id: int | None
    problem: str
    status: TicketStatus
    created_by_name: str
    created_at: datetime
    closed_at: datetime | None


class AttributionRow(SQLModel):
    """Visits and activations of one staff member or outcome (or all)."""

    key: str
    label: str
    visits: int = Field(description="Done visits in the period.")
    eligible: int = Field(description="Of those, to units idle, dormant or never used.")
    activated: int = Field(description="Eligible units used within the window after the visit.")
    pending: int = Field(description="Not used yet, but the window is still open.")
    rate: float | None = Field(description="activated / eligible.")


class Attribution(SQLModel):
    """Activation rate of done visits over a period."""

    date_from: date
    date_to: date
    window_days: int
    total: AttributionRow
    by_staff: list[AttributionRow]
    by_outcome: list[AttributionRow]
