"""Scores kept per as-of date, so that statuses and KPIs can be shown as trends."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class UsageStatus(StrEnum):
    active = "active"
    declining = "declining"
    idle = "idle"
    dormant = "dormant"
    never_used = "never_used"
    # Deployed too recently to be judged never used.
    new = "new"


class TerminalScore(SQLModel, table=True):
    """One deployed terminal's utilisation as of a date, with the grouping keys of that date."""

    __tablename__ = "terminal_score"

    as_of: date = Field(primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", primary_key=True, index=True)
    status: UsageStatus = Field(sa_type=enum_type(UsageStatus), index=True)
    deployed_on: date
    # The fleet's data coverage start when scored (fleet.feeds.coverage); use is counted from
    # the later of it and deployed_on (`counted_from`).
    data_from: date | None = None
    last_used_on: date | None = None
    days_since_use: int | None = None
    count_30: int = 0
    amount_30_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    count_90: int = 0
    amount_90_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # Monthly average over the 90 days before the last 30: what "declining" compares against;
    # 0 (and trend None) when the data do not cover that window.
    previous_monthly: float = 0.0
    trend: float | None = None
    score: float = 0.0
    peer_group: str = Field(default="", max_length=80)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    merchant_id: int = Field(foreign_key="merchant.id")
    market_id: int | None = Field(default=None, foreign_key="market.id")
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    category: str = Field(default="", max_length=60)

    def counted_from(self) -> date:
        """The first day whose use counts: the later of deployment and the data's start."""
        return max(self.deployed_on, self.data_from or self.deployed_on)

    def data_later(self) -> date | None:
        """The data's start when it is after the deployment (what reasons must say), else None."""
        return self.data_from if self.data_from and self.data_from > self.deployed_on else None


class ScoreRun(SQLModel, table=True):
    __tablename__ = "score_run"

    as_of: date = Field(primary_key=True)
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    terminals: int = 0
    settings: str = Field(default="", max_length=1000)


class TerminalScorePublic(SQLModel):
    as_of: date
    terminal_id: int
    sn: str | None = None
    status: UsageStatus
    deployed_on: date
    data_from: date | None = None
    counted_from: date | None = None
    last_used_on: date | None
    days_since_use: int | None
    count_30: int
    amount_30_fen: int
    count_90: int
    amount_90_fen: int
    previous_monthly: float
    trend: float | None
    score: float
    peer_group: str
    branch_id: int
    branch_code: str | None = None
    merchant_id: int
    merchant_code: str | None = None
    market_id: int | None
    market_code: str | None = None
    staff_id: int | None
    category: str


class ScoreSummary(SQLModel):
    """What one scoring run did: how many terminals, in which statuses, how long it took."""

    as_of: date
    terminals: int
    by_status: dict[str, int]
    seconds: float
