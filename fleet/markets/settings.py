"""Settings of markets and campaigns, read like the core settings from FLEET_* variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MarketSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLEET_", env_file=".env", extra="ignore")

    # What a campaign costs: each unit placed, and each visit made (yuan).
    campaign_cost_per_unit_yuan: float = Field(default=300.0, ge=0)
    campaign_cost_per_visit_yuan: float = Field(default=50.0, ge=0)
    # In-stock units at branches this close to a market count as available to it (km).
    stock_radius_km: float = Field(default=10.0, gt=0)
    # A market campaigned in within this many days is ranked lower.
    recent_campaign_days: int = Field(default=90, ge=0)
    # Weekly points in a market's coverage trend.
    trend_weeks: int = Field(default=8, ge=1, le=104)


@lru_cache
def market_settings() -> MarketSettings:
    return MarketSettings()
