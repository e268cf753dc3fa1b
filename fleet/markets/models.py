"""Campaign tables (a campaign, its staff, set-aside units, prospects, placements) and the
branch records of prospects; with their API schemas.

Placements stay an inventory table: a campaign's placements are linked to it through
`campaign_placement`, so the lifecycle code needs to know nothing about campaigns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class CampaignPhase(StrEnum):
    planned = "planned"  # starts later
    running = "running"  # today is within its dates
    finished = "finished"  # ended


class ProspectStatus(StrEnum):
    pending = "pending"  # to be visited
    visited = "visited"  # reached, no unit placed (yet)
    placed = "placed"  # a unit was placed for the campaign
    declined = "declined"  # does not want one


class Campaign(SQLModel, table=True):
    """A planned push in one wholesale market, owned by the market's responsible branch."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    market_id: int = Field(foreign_key="market.id", index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    starts_on: date
    ends_on: date
    target_placements: int = 0
    notes: str | None = Field(default=None, max_length=1000)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignStaff(SQLModel, table=True):
    __tablename__ = "campaign_staff"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    user_id: int = Field(foreign_key="user.id", primary_key=True, index=True)


class CampaignUnit(SQLModel, table=True):
    """An in-stock terminal set aside for the campaign."""

    __tablename__ = "campaign_unit"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    terminal_id: int = Field(foreign_key="terminal.id", primary_key=True, index=True)
    set_aside_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignProspect(SQLModel, table=True):
    """A merchant without a terminal that the campaign means to visit."""

    __tablename__ = "campaign_prospect"

    campaign_id: int = Field(foreign_key="campaign.id", primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True, index=True)
    priority: int = 0  # 0-100, from the prospect score when added
    # Why it is worth a visit: a phrase (fleet.core.phrases), worded when it is shown.
    why: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    source: str = Field(default="market", max_length=20)  # market, import, manual, placement
    status: ProspectStatus = Field(
        default=ProspectStatus.pending, sa_type=enum_type(ProspectStatus)
    )
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CampaignPlacement(SQLModel, table=True):
    """Links an inventory placement to the campaign it was made for."""

    __tablename__ = "campaign_placement"

    placement_id: int = Field(foreign_key="placement.id", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    terminal_id: int = Field(foreign_key="terminal.id")
    merchant_id: int = Field(foreign_key="merchant.id")
    staff_id: int | None = Field(default=None, foreign_key="user.id")
    placed_at: datetime = Field(sa_type=UTCDateTime)


class Prospect(SQLModel, table=True):
    """What a branch knows of a merchant that has no terminal: how often it brings cash to
    the counter, and how much."""

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", unique=True)
    counter_visits_month: float | None = None
    avg_cash_yuan: float | None = None
    source: str = Field(default="", max_length=200)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# --- API schemas ------------------------------------------------------------------------------


class CampaignCreate(SQLModel):
    name: str = Field(max_length=200, min_length=1)
    market_code: str
    starts_on: date
    ends_on: date
    target_placements: int = Field(default=0, ge=0)
    notes: str | None = Field(default=None, max_length=1000)
    staff_usernames: list[str] = Field(default_factory=list)
    unit_sns: list[str] = Field(
        default_factory=list, description="In-stock terminals to set aside, by serial number."
    )
    draw_prospects: bool = Field(
        default=True, description="Put the market's open merchants without a terminal on the list."
    )

    @model_validator(mode="after")
    def _dates(self) -> CampaignCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class CampaignUpdate(SQLModel):
    name: str | None = Field(default=None, max_length=200, min_length=1)
    starts_on: date | None = None
    ends_on: date | None = None
    target_placements: int | None = Field(default=None, ge=0)
    notes: str | None = Field(default=None, max_length=1000)


class CampaignPublic(SQLModel):
    id: int
    name: str
    market_id: int
    market_code: str
    market_name: str
    category: str
    branch_id: int | None
    branch_code: str | None
    starts_on: date
    ends_on: date
    phase: CampaignPhase
    target_placements: int
    notes: str | None
    staff: list[str]
    units_set_aside: int
    prospects: int
    placed: int


class ProspectPublic(SQLModel):
    merchant_id: int
    merchant_code: str
    merchant_name: str
    category: str
    address: str | None
    lat: float | None
    lng: float | None
    opening_hours: str
    priority: int
    why: dict[str, Any] = Field(description="The reason as a phrase: a code and its values.")
    reason: str = Field(default="", description="The reason in words (English).")
    source: str
    status: ProspectStatus
    staff_username: str | None


class PlacementCreate(SQLModel):
    sn: str = Field(description="Serial number of the unit placed.")
    merchant_code: str
    at: datetime | None = Field(default=None, description="When it was placed; now if omitted.")
    staff_username: str | None = Field(
        default=None, description="Campaign staff member who placed it; you if omitted."
    )


class OutcomeUpdate(SQLModel):
    status: ProspectStatus
