"""Recovery requests and per-branch rule overrides (tables), with their API schemas."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class RequestStatus(StrEnum):
    pending = "pending"  # awaiting a decision (possibly deferred to a date)
    approved = "approved"  # a recover visit is due
    rejected = "rejected"
    completed = "completed"  # the unit is back at the branch
    cancelled = "cancelled"  # used again before it was collected, or withdrawn
    withdrawn = "withdrawn"  # the visit outcome that raised it was corrected (a mis-tap)


# Open requests: the unit is at the merchant and awaiting a decision or collection.
OPEN = frozenset({RequestStatus.pending, RequestStatus.approved})
_OPEN_SQL = "status IN ('pending', 'approved')"


class RecoveryRequest(SQLModel, table=True):
    """One request to take a unit back: why, who decided what, and how it ended."""

    __tablename__ = "recovery_request"
    __table_args__ = (
        # At most one open request per terminal, whoever raises it and however.
        Index(
            "uq_recovery_request_open_terminal",
            "terminal_id",
            unique=True,
            sqlite_where=text(_OPEN_SQL),
            postgresql_where=text(_OPEN_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    status: RequestStatus = Field(
        default=RequestStatus.pending, sa_type=enum_type(RequestStatus), index=True
    )
    # Bumped by every change: the compare-and-set that lets one of two deciders win.
    version: int = 1
    source: str = Field(default="manual", max_length=20)  # rule, manual, visit
    rule: str | None = Field(default=None, max_length=40)
    # Why: a phrase (fleet.core.phrases), worded in the reader's language when shown.
    why: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    raised_by_id: int | None = Field(default=None, foreign_key="user.id")
    raised_by_name: str = Field(default="", max_length=100)
    deferred_until: date | None = None
    decision: str | None = Field(default=None, max_length=20)  # approved, rejected
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_by_name: str | None = Field(default=None, max_length=100)
    decision_note: str | None = Field(default=None, max_length=500)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_by_name: str | None = Field(default=None, max_length=100)
    condition: str | None = Field(default=None, max_length=20)  # ok, faulty
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=300)
    # Second marketing: where the recovered unit went next.
    redeployed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    redeployed_merchant_id: int | None = Field(default=None, foreign_key="merchant.id")


class RuleOverride(SQLModel, table=True):
    """A branch's own numbers for one rule; they hold for its whole subtree unless overridden."""

    __tablename__ = "recovery_rule_override"
    __table_args__ = (UniqueConstraint("branch_id", "rule", name="uq_recovery_rule_branch_rule"),)

    id: int | None = Field(default=None, primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    rule: str = Field(max_length=40)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_name: str = Field(default="", max_length=100)


# --- API schemas ------------------------------------------------------------------------------


class Suggestion(SQLModel):
    """A rule's proposal to recover one unit, with its reason and evidence."""

    terminal_id: int
    sn: str
    branch_id: int
    branch_code: str | None = None
    merchant_id: int
    merchant_code: str | None = None
    merchant_name: str | None = None
    rule: str
    why: dict[str, Any] = Field(description="The reason as a phrase: a code and its values.")
    reason: str = Field(default="", description="The reason in words (English).")
    evidence: dict[str, Any]


class RequestCreate(SQLModel):
    terminal_id: int | None = None
    sn: str | None = Field(default=None, description="The unit's serial number, or terminal_id.")
    reason: str = Field(min_length=1, max_length=500, description="Why the unit should come back.")


class DecisionCreate(SQLModel):
    decision: Literal["approve", "reject", "defer"]
    reason: str = Field(default="", max_length=500, description="Required to reject.")
    until: date | None = Field(default=None, description="To defer: hidden from the queue until.")


class CompletionCreate(SQLModel):
    condition: Literal["ok", "faulty"] = "ok"
    note: str = Field(default="", max_length=300)
    at: datetime | None = Field(default=None, description="When it was collected; now if omitted.")


class PlaceCreate(SQLModel):
    merchant_code: str
    reason: str = Field(default="second marketing", max_length=500)
    at: datetime | None = Field(default=None, description="When it was placed; now if omitted.")


class RuleParams(SQLModel):
    params: dict[str, Any]


class RecoveryRequestPublic(SQLModel):
    id: int
    terminal_id: int
    sn: str | None = None
    branch_id: int
    branch_code: str | None = None
    merchant_id: int
    merchant_code: str | None = None
    merchant_name: str | None = None
    status: RequestStatus
    overdue: bool = False
    source: str
    rule: str | None
    why: dict[str, Any] = Field(description="The reason as a phrase: a code and its values.")
    reason: str = Field(default="", description="The reason in words (English).")
    evidence: dict[str, Any]
    raised_at: datetime
    raised_by_name: str
    deferred_until: date | None
    decision: str | None
    decided_at: datetime | None
    decided_by_name: str | None
    decision_note: str | None
    completed_at: datetime | None
    completed_by_name: str | None
    condition: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    redeployed_at: datetime | None
    redeployed_merchant_id: int | None
