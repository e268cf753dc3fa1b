"""The fee schedule, merchants' fee classes and the revenue rollups (tables), with schemas.

Ingest (fleet/feeds/revenue.py) reads `fee_rule` and `merchant_fee_class` by table name, so
that feeds never imports this higher layer, and adds revenue to terminal_day's columns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class FeeType(StrEnum):
    """The transaction types that earn a fee (the financial ones)."""

    transfer = "transfer"
    card_payment = "card_payment"
    bill_payment = "bill_payment"


class MerchantClass(StrEnum):
    """The fee class of a merchant (PBoC 银发〔2021〕169号: standard and preferential rates)."""

    standard = "standard"
    preferential = "preferential"
    non_profit = "non_profit"


class FeeRuleBase(SQLModel):
    """One version of the fee for one transaction type and merchant class.

    merchant fee = clamp(fixed + amount × rate_ppm / 1,000,000, minimum, cap), rounded half up
    to the fen. Rates are in parts per million (1 basis point = 100 ppm): the network's guided
    fee of 0.0325% is 3.25 bp, which whole basis points cannot say. The bank keeps the fee
    less the network's share (rate and cap), and less the issuer's share when another bank
    issued the card (rate and cap).
    """

    txn_type: FeeType = Field(sa_type=enum_type(FeeType))
    merchant_class: MerchantClass = Field(sa_type=enum_type(MerchantClass))
    effective_from: date
    # The first day it no longer applies; None: until further notice.
    effective_to: date | None = None
    rate_ppm: int = 0
    fixed_fen: int = 0
    min_fen: int = 0
    cap_fen: int | None = None
    network_ppm: int = 0
    network_cap_fen: int | None = None
    issuer_ppm: int = 0
    issuer_cap_fen: int | None = None
    # Shipped example values (示例费率), to be replaced by the bank's own.
    example: bool = False


class FeeRule(FeeRuleBase, table=True):
    __tablename__ = "fee_rule"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by: str = Field(default="", max_length=100)


class FeeRuleIn(FeeRuleBase):
    """A row of the schedule as an admin sends it (checked as a whole by fees.set_schedule)."""


class FeeRulePublic(FeeRuleBase):
    id: int


class MerchantFeeClass(SQLModel, table=True):
    """A merchant's fee class; a merchant without a row is `standard`."""

    __tablename__ = "merchant_fee_class"

    merchant_id: int = Field(foreign_key="merchant.id", primary_key=True)
    merchant_class: MerchantClass = Field(sa_type=enum_type(MerchantClass))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
