"""Inventory tables and their API schemas (Base / table / Create / Update / Public)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import field_validator
from sqlalchemy import JSON, CheckConstraint, Column, Index, text
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow
from fleet.inventory.hours import normalise_hours


class BranchLevel(StrEnum):
    city = "city"
    county = "county"
    outlet = "outlet"


class MerchantStatus(StrEnum):
    open = "open"
    closed = "closed"
    moved = "moved"


class MarketCategory(StrEnum):
    appliances = "appliances"  # 家电
    furniture = "furniture"  # 家居
    home_decoration = "home_decoration"  # 家装
    building_materials = "building_materials"  # 建材
    stone = "stone"  # 石材
    medicinal_herbs = "medicinal_herbs"  # 药材
    hardware = "hardware"  # 五金
    auto_parts = "auto_parts"  # 汽配
    farm_supplies = "farm_supplies"  # 农资
    other = "other"


class TerminalState(StrEnum):
    in_stock = "in_stock"
    deployed = "deployed"
    recovery_requested = "recovery_requested"
    recovery_approved = "recovery_approved"
    recovered = "recovered"
    faulty = "faulty"
    in_repair = "in_repair"
    retired = "retired"
    lost = "lost"


# States in which the unit sits at a merchant: exactly one open placement, merchant_id set.
AT_MERCHANT = frozenset(
    {TerminalState.deployed, TerminalState.recovery_requested, TerminalState.recovery_approved}
)
_AT_MERCHANT_SQL = ", ".join(f"'{s.value}'" for s in sorted(AT_MERCHANT))


class Located(SQLModel):
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)


# --- branches -------------------------------------------------------------------------------


class BranchBase(Located):
    code: str = Field(max_length=40, min_length=1)
    name: str = Field(max_length=200, min_length=1)
    level: BranchLevel = Field(default=BranchLevel.outlet, sa_type=enum_type(BranchLevel))
    address: str | None = Field(default=None, max_length=300)


class Branch(BranchBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    parent_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BranchCreate(BranchBase):
    parent_code: str | None = None


class BranchUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=200, min_length=1)
    level: BranchLevel | None = None
    address: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    parent_code: str | None = None


class BranchPublic(BranchBase):
    id: int
    parent_id: int | None
    parent_code: str | None = None


# --- markets --------------------------------------------------------------------------------


class MarketBase(Located):
    code: str = Field(max_length=40, min_length=1)
    name: str = Field(max_length=200, min_length=1)
    category: MarketCategory = Field(
        default=MarketCategory.other, sa_type=enum_type(MarketCategory)
    )
    radius_m: float | None = Field(default=None, gt=0)
    stalls: int | None = Field(default=None, ge=0)
    approximate: bool = False
    address: str | None = Field(default=None, max_length=300)


class Market(MarketBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    # Extent as a polygon of [lat, lng] WGS-84 vertices; a centre and radius_m when absent.
    polygon: list[list[float]] | None = Field(default=None, sa_column=Column(JSON))
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MarketCreate(MarketBase):
    polygon: list[list[float]] | None = None
    branch_code: str | None = None


class MarketUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=200, min_length=1)
    category: MarketCategory | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0)
    polygon: list[list[float]] | None = None
    stalls: int | None = Field(default=None, ge=0)
    approximate: bool | None = None
    address: str | None = None
    branch_code: str | None = None


class MarketPublic(MarketBase):
    id: int
    polygon: list[list[float]] | None
    branch_id: int | None
    branch_code: str | None = None


# --- merchants ------------------------------------------------------------------------------


class MerchantBase(Located):
    code: str = Field(max_length=40, min_length=1)
    name: str = Field(max_length=200, min_length=1)
    category: str = Field(default="other", max_length=60)
    address: str | None = Field(default=None, max_length=300)
    opening_hours: str = Field(default="08:00-18:00", max_length=60)
    contact_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    status: MerchantStatus = Field(default=MerchantStatus.open, sa_type=enum_type(MerchantStatus))

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        return normalise_hours(value)


class Merchant(MerchantBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    market_id: int | None = Field(default=None, foreign_key="market.id", index=True)
    staff_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MerchantCreate(MerchantBase):
    branch_code: str = Field(min_length=1)  # "" would leave the merchant without a branch
    market_code: str | None = None
    staff_username: str | None = None


class MerchantUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=200, min_length=1)
    category: str | None = Field(default=None, max_length=60)
    address: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lng: float | None = Field(default=None, ge=-180, le=180)
    opening_hours: str | None = None
    contact_name: str | None = None
    phone: str | None = None
    status: MerchantStatus | None = None
    branch_code: str | None = None
    market_code: str | None = None
    staff_username: str | None = None

    @field_validator("opening_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        return None if value is None else normalise_hours(value)


class MerchantPublic(MerchantBase):
    id: int
    branch_id: int
    market_id: int | None
    staff_id: int | None
    branch_code: str | None = None
    market_code: str | None = None
    staff_username: str | None = None


# --- terminals ------------------------------------------------------------------------------


class TerminalBase(SQLModel):
    sn: str = Field(max_length=60, min_length=1)
    model: str = Field(default="", max_length=60)


class Terminal(TerminalBase, table=True):
    __table_args__ = (
        # A unit is at a merchant exactly when its state says so; the lifecycle keeps both.
        CheckConstraint(
            f"(state IN ({_AT_MERCHANT_SQL})) = (merchant_id IS NOT NULL)",
            name="merchant_matches_state",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    sn: str = Field(max_length=60, unique=True, index=True)
    branch_id: int = Field(foreign_key="branch.id", index=True)
    state: TerminalState = Field(
        default=TerminalState.in_stock, index=True, sa_type=enum_type(TerminalState)
    )
    merchant_id: int | None = Field(default=None, foreign_key="merchant.id", index=True)
    state_since: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TerminalCreate(TerminalBase):
    branch_code: str
    # A new unit starts in stock, or deployed at a merchant (placed on the given date).
    merchant_code: str | None = None
    deployed_at: datetime | None = None


class TerminalUpdate(SQLModel):
    model: str | None = Field(default=None, max_length=60)
    branch_code: str | None = None


class TerminalPublic(TerminalBase):
    id: int
    branch_id: int
    state: TerminalState
    state_since: datetime
    merchant_id: int | None
    branch_code: str | None = None
    merchant_code: str | None = None


class Placement(SQLModel, table=True):
    """Which terminal was at which merchant, from when to when (open while ended_at is null)."""

    __table_args__ = (
        Index(
            "uq_placement_open_terminal",
            "terminal_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=300)


class PlacementPublic(SQLModel):
    id: int
    terminal_id: int
    merchant_id: int
    merchant_code: str | None = None
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None


class LifecycleEvent(SQLModel, table=True):
    __tablename__ = "lifecycle_event"

    id: int | None = Field(default=None, primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", index=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_name: str = Field(max_length=100)
    from_state: TerminalState | None = Field(default=None, sa_type=enum_type(TerminalState))
    to_state: TerminalState = Field(sa_type=enum_type(TerminalState))
    merchant_id: int | None = Field(default=None, foreign_key="merchant.id")
    # Why: a phrase (fleet.core.phrases), worded in the reader's language when shown.
    why: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LifecycleEventPublic(SQLModel):
    id: int
    terminal_id: int
    at: datetime
    actor_name: str
    from_state: TerminalState | None
    to_state: TerminalState
    merchant_id: int | None
    why: dict[str, Any] = Field(description="The reason as a phrase: a code and its values.")
    reason: str = Field(default="", description="The reason in words (English).")


class TransitionRequest(SQLModel):
    to_state: TerminalState
    reason: str = Field(default="", max_length=500)
    merchant_code: str | None = Field(
        default=None, description="Required when deploying: the merchant receiving the unit."
    )
    at: datetime | None = Field(default=None, description="When it happened; now if omitted.")
