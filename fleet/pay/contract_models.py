"""Contracts (承包): a staff member or a team takes targets for a portfolio over a period and is
paid a share of its net revenue (tables), with their API schemas.

Terms are set while a contract is a draft; approval locks them with the baseline. The final
settlement is stored line by line (`contract_line`), so that payroll's figure is the sum of
lines that each name a unit and its transactions.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, computed_field
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class ContractStatus(StrEnum):
    draft = "draft"  # terms may change
    approved = "approved"  # terms and baseline locked; the period has not begun
    running = "running"  # the period has begun
    settled = "settled"  # the final settlement is stored


class PortfolioKind(StrEnum):
    branch = "branch"  # a branch and every branch below it
    market = "market"  # the merchants of a wholesale market
    merchants = "merchants"  # a list of merchants


class ContractTerm(StrEnum):
    """A term a refusal names (said in words on the pages)."""

    target_active_rate = "target_active_rate"
    target_revenue_fen = "target_revenue_fen"
    commission_ppm = "commission_ppm"
    threshold_pct = "threshold_pct"
    cap_pct = "cap_pct"


class LineKind(StrEnum):
    unit = "unit"  # a unit's transactions and net revenue at the portfolio's merchants
    baseline = "baseline"  # the baseline's revenue, taken off when paid only above it
    clawback = "clawback"  # a unit credited as activated that fell back within 90 days


class Contract(SQLModel, table=True):
    __tablename__ = "contract"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    # The contractor's (first member's) branch: whose operations see and approve it.
    branch_id: int = Field(foreign_key="branch.id", index=True)
    status: ContractStatus = Field(
        default=ContractStatus.draft, sa_type=enum_type(ContractStatus), index=True
    )
    portfolio_kind: PortfolioKind = Field(sa_type=enum_type(PortfolioKind))
    portfolio_branch_id: int | None = Field(default=None, foreign_key="branch.id")
    portfolio_market_id: int | None = Field(default=None, foreign_key="market.id")
    period: str = Field(max_length=10)
    period_start: date = Field(index=True)
    period_end: date = Field(index=True)  # the first day after it
    # 动户率 to reach at the period's end (0–1), and net revenue over the period (fen).
    target_active_rate: float | None = None
    target_revenue_fen: int | None = None
    # The share of the portfolio's net revenue, in parts per million (5% = 50,000).
    commission_ppm: int
    above_baseline: bool = False
    # Attainment (% of target) below which nothing is paid, and above which nothing more.
    threshold_pct: int = 80
    cap_pct: int = 150
    clawback_days: int = 90
    # Locked at approval: the net revenue of the period just before, and 动户率 at the start.
    baseline_net_fen: int | None = None
    baseline_active_rate: float | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_name: str = Field(default="", max_length=100)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    approved_by_id: int | None = Field(default=None, foreign_key="user.id")
    approved_by_name: str | None = Field(default=None, max_length=100)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    settled_by_name: str | None = Field(default=None, max_length=100)
    settled_total_fen: int | None = None
    # The final settlement's figures as settled (its lines are in contract_line).
    settlement: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ContractMember(SQLModel, table=True):
    """The staff members who hold the contract (one, or a team sharing it equally)."""

    __tablename__ = "contract_member"

    contract_id: int = Field(foreign_key="contract.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)


class ContractMerchant(SQLModel, table=True):
    """The merchants of a portfolio given as a list."""

    __tablename__ = "contract_merchant"

    contract_id: int = Field(foreign_key="contract.id", primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True, index=True)


class ContractLine(SQLModel, table=True):
    """One line of a final settlement, as it was paid."""

    __tablename__ = "contract_line"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    kind: LineKind = Field(sa_type=enum_type(LineKind))
    # The month a clawed-back unit was credited as activated in (YYYY-MM).
    month: str = Field(default="", max_length=7)
    terminal_id: int | None = Field(default=None, foreign_key="terminal.id")
    sn: str = Field(default="", max_length=64)
    merchant_code: str = Field(default="", max_length=64)
    merchant_name: str = Field(default="", max_length=200)
    branch_code: str = Field(default="", max_length=40)
    txn_count: int = 0
    net_fen: int = 0
    commission_fen: int = 0
    # The day a clawed-back unit fell back (its 30 days without use complete).
    lapsed_on: date | None = None
    # A clawback carried from the contractor's earlier contract (fleet.pay.carry).
    from_contract_id: int | None = Field(default=None, foreign_key="contract.id")


class ContractCreate(BaseModel):
    """A new contract (a draft). Rates: 0–1; amounts in fen; the commission in ppm."""

    name: str = Field(min_length=1, max_length=100)
    members: list[str] = Field(min_length=1, description="Usernames: one, or a team.")
    portfolio_kind: PortfolioKind
    branch_code: str | None = Field(default=None, description="For a branch portfolio.")
    market_code: str | None = Field(default=None, description="For a market portfolio.")
    merchant_codes: list[str] = Field(default_factory=list, description="For a list.")
    period: str = Field(description="A month 2026-11, a quarter 2026-Q4 or a year 2026.")
    target_active_rate: float | None = None
    target_revenue_fen: int | None = None
    commission_ppm: int
    above_baseline: bool = False
    threshold_pct: int = 80
    cap_pct: int = 150


class ContractUpdate(BaseModel):
    """Changed terms of a draft (an approved contract's are locked)."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    target_active_rate: float | None = None
    target_revenue_fen: int | None = None
    commission_ppm: int | None = None
    above_baseline: bool | None = None
    threshold_pct: int | None = None
    cap_pct: int | None = None


class MemberPublic(BaseModel):
    username: str
    full_name: str


class MerchantNamed(BaseModel):
    code: str
    name: str


class ContractPublic(BaseModel):
    """A contract as the API shows it; amounts (fen) are None for roles that may not see pay."""

    id: int
    name: str
    status: ContractStatus
    branch_code: str
    branch_name: str
    members: list[MemberPublic]
    portfolio_kind: PortfolioKind
    portfolio_branch_code: str | None
    portfolio_market_code: str | None
    merchant_codes: list[str]
    # Every merchant of a named-merchant portfolio, by code (the label names the first few).
    merchants: list[MerchantNamed] = []
    portfolio_label: str
    label_names: int = 0  # how many of `merchants` the label names

    @computed_field  # type: ignore[prop-decorator]
    @property
    def period_last(self) -> date:
        """The period's last day, the end a person reads (pay.periods.last_day)."""
        from fleet.pay.periods import last_day

        return last_day(self.period_end)

    period: str
    period_start: date
    period_end: date  # the day after the period, as stored
    target_active_rate: float | None
    target_revenue_fen: int | None
    commission_ppm: int
    above_baseline: bool
    threshold_pct: int
    cap_pct: int
    clawback_days: int
    baseline_net_fen: int | None
    baseline_active_rate: float | None
    created_by_name: str
    approved_by_name: str | None
    approved_by_full_name: str | None = None
    approved_at: datetime | None
    settled_at: datetime | None
    settled_total_fen: int | None


class StatementLine(BaseModel):
    kind: LineKind
    month: str = ""
    sn: str = ""
    merchant_code: str = ""
    merchant_name: str = ""
    branch_code: str = ""
    branch_name: str = ""  # filled when the statement is shown (contracts.statement)
    txn_count: int = 0
    net_fen: int = 0
    commission_fen: int = 0
    lapsed_on: date | None = None
    # A clawback carried from the contractor's earlier contract #from_contract_id.
    from_contract_id: int | None = None


class LaterClawback(StatementLine):
    """A unit of the contract that fell back after its period: taken back in the contractor's
    next contract (#carried_to_id), or outstanding (None) while there is none."""

    carried_to_id: int | None = None
    carried_to_name: str = ""


class Statement(BaseModel):
    """A month's accrual (provisional) or the period's final settlement.

    attainment: the mean of each target's actual / target (1 without targets); factor: 0
    below the threshold, else min(1, cap / attainment); each unit's commission = its net ×
    rate × factor; total = the sum of the lines."""

    contract_id: int
    period: str
    start: date
    end: date
    final: bool
    settled: bool
    units: int
    active_units: int
    active_rate: float | None
    net_fen: int
    baseline_fen: int
    target_revenue_fen: int | None
    attainment: float
    revenue_attainment: float | None
    active_attainment: float | None
    factor: float
    total_fen: int
    lines: list[StatementLine]
    # The final settlement's units that fell back after the period, not in its total.
    later: list[LaterClawback] = []
    # Their sum not yet carried into a later contract (fen, 0 or less).
    outstanding_fen: int = 0


class Progress(BaseModel):
    """How a contract stands so far, without money: for the staff who hold it."""

    contract_id: int
    units: int
    active_units: int
    active_rate: float | None
    attainment: float
    revenue_attainment: float | None
    active_attainment: float | None
    paid: bool  # at or above the threshold
