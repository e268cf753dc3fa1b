"""The 五提升 scorecard's tables: a period's plan and its frozen baseline, the weights of the
five measures per role, and the four rates imported from the bank's other systems."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class Measure(StrEnum):
    """The five improvements (五提升): fleet computes the first, the others are imported."""

    activation = "activation"  # 转账电话存量客户激活率
    atm_diversion = "atm_diversion"  # ATM 分流率
    passbook_to_card = "passbook_to_card"  # 存折换卡
    corporate_ebank = "corporate_ebank"  # 企业网银覆盖率
    personal_ebank = "personal_ebank"  # 个人网银动户率


IMPORTED = (
    Measure.atm_diversion,
    Measure.passbook_to_card,
    Measure.corporate_ebank,
    Measure.personal_ebank,
)


class PlanState(StrEnum):
    draft = "draft"
    approved = "approved"


class ScorecardPlan(SQLModel, table=True):
    """A period's scorecard plan for a branch's subtree. Approving it freezes the baseline:
    the units deployed at the period's first day, their merchants and which were in the
    activation cohort, so later corrections and handovers do not move it."""

    __tablename__ = "scorecard_plan"
    __table_args__ = (UniqueConstraint("period", "branch_id"),)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=10, index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    k: int = 3
    state: PlanState = Field(default=PlanState.draft, sa_type=enum_type(PlanState))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by: str | None = Field(default=None, max_length=100)


class ScorecardBaseline(SQLModel, table=True):
    """One unit deployed at an approved plan's baseline date, as it then stood."""

    __tablename__ = "scorecard_baseline"

    plan_id: int = Field(foreign_key="scorecard_plan.id", primary_key=True)
    terminal_id: int = Field(primary_key=True)
    merchant_id: int
    # Idle, dormant or never used then (the activation cohort).
    in_cohort: bool
    # Used in the 30 days before (counts in 动户率 at the baseline).
    was_active: bool


class ScorecardWeight(SQLModel, table=True):
    """How much one measure counts in one role's points (set by an admin)."""

    __tablename__ = "scorecard_weight"

    role: str = Field(primary_key=True, max_length=20)
    measure: Measure = Field(primary_key=True, sa_type=enum_type(Measure))
    weight: int = Field(ge=0, le=100)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by: str = Field(default="", max_length=100)


class ScorecardRate(SQLModel, table=True):
    """One of the four imported rates of one staff member for one period (0..1)."""

    __tablename__ = "scorecard_rate"

    period: str = Field(primary_key=True, max_length=10)
    staff_id: int = Field(foreign_key="user.id", primary_key=True)
    measure: Measure = Field(primary_key=True, sa_type=enum_type(Measure))
    value: float
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    imported_by: str = Field(default="", max_length=100)
