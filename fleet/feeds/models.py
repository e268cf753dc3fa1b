"""Transactions, ingest runs and their rejected rows, per terminal-day rollups, feed sources."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class TxnType(StrEnum):
    transfer = "transfer"
    card_payment = "card_payment"
    bill_payment = "bill_payment"
    balance_inquiry = "balance_inquiry"
    reversal = "reversal"


class TxnStatus(StrEnum):
    success = "success"
    failed = "failed"


class RunStatus(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    interrupted = "interrupted"


class RejectReason(StrEnum):
    malformed_line = "malformed_line"
    bad_encoding = "bad_encoding"
    missing_field = "missing_field"
    bad_timestamp = "bad_timestamp"
    future_timestamp = "future_timestamp"
    bad_amount = "bad_amount"
    non_positive_amount = "non_positive_amount"
    unknown_type = "unknown_type"
    unknown_status = "unknown_status"
    unknown_terminal = "unknown_terminal"
    not_deployed = "not_deployed"
    control_character = "control_character"


class Txn(SQLModel, table=True):
    """One accepted transaction. `txn_ref` is the acquirer's id; with the terminal it is the key
    of exactly-once (so that an uploader of one branch cannot, by sending a reference first,
    make another branch's genuine transaction a duplicate, nor learn that it exists).

    No foreign keys and no index but the key: this is the bulk table (billions of rows at a
    national bank, partitioned by month on PostgreSQL). Ingest resolves terminal_id and
    ingest_id itself, and per-row constraint checks would cost a third of the load time.
    """

    # SQLite assigns ids only to an INTEGER PRIMARY KEY; PostgreSQL needs 64 bits at bank scale.
    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    __table_args__ = (UniqueConstraint("txn_ref", "terminal_id"),)

    txn_ref: str = Field(max_length=64)
    terminal_id: int
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    # The local (Asia/Shanghai) calendar day, which every rollup and KPI counts in.
    day: date
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    txn_type: str = Field(max_length=20)
    status: str = Field(max_length=10)
    merchant_code: str | None = Field(default=None, max_length=40)
    ingest_id: int


def _fen_column() -> Column[int]:
    return Column(BigInteger, nullable=False, server_default="0")


class TerminalDay(SQLModel, table=True):
    """Per terminal and local day: successful financial transactions, and everything else.

    On SQLite the rows are stored in key order (WITHOUT ROWID): a terminal's days are read in
    one pass by scoring, and an ingest's upserts write one B-tree instead of two.
    """

    __tablename__ = "terminal_day"
    __table_args__ = {"sqlite_with_rowid": False}

    terminal_id: int = Field(foreign_key="terminal.id", primary_key=True)
    day: date = Field(primary_key=True, index=True)
    txn_count: int = 0
    amount_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    other_count: int = 0
    # Of all the day's transactions, those that failed: the failed share after-sales watches
    # (aftersales.watch) is read from here, not from the bulk table.
    failed_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Revenue (fleet/feeds/revenue.py): per fee-earning type the successful transactions,
    # their amount and the fee charged, and the bank's net of all of them (fen).
    transfer_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    transfer_fen: int = Field(default=0, sa_column=_fen_column())
    transfer_fee_fen: int = Field(default=0, sa_column=_fen_column())
    card_payment_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    card_payment_fen: int = Field(default=0, sa_column=_fen_column())
    card_payment_fee_fen: int = Field(default=0, sa_column=_fen_column())
    bill_payment_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    bill_payment_fen: int = Field(default=0, sa_column=_fen_column())
    bill_payment_fee_fen: int = Field(default=0, sa_column=_fen_column())
    net_fen: int = Field(default=0, sa_column=_fen_column())


class IngestRun(SQLModel, table=True):
    __tablename__ = "ingest_run"

    id: int | None = Field(default=None, primary_key=True)
    source_kind: str = Field(max_length=10)  # file, url, upload
    source: str = Field(max_length=500)
    sha256: str | None = Field(default=None, max_length=64, index=True)
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    encoding: str | None = Field(default=None, max_length=20)
    format: str | None = Field(default=None, max_length=10)
    feed_source_id: int | None = Field(default=None, foreign_key="feed_source.id", index=True)
    status: RunStatus = Field(default=RunStatus.running, sa_type=enum_type(RunStatus), index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received: int = 0
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_name: str = Field(max_length=100)
    rejects_path: str | None = Field(default=None, max_length=500)
    # For a paged HTTP feed: the cursor after the last page taken, to resume from.
    cursor: str | None = Field(default=None, max_length=500)
    error: str | None = Field(default=None, max_length=1000)  # in English, for the API
    # Why it failed as a phrase (fleet.core.phrases), worded in the reader's language.
    why: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    host: str = Field(default="", max_length=100)
    pid: int = 0


class IngestRunBranch(SQLModel, table=True):
    """A branch whose units a run accepted transactions for, recorded at ingest time: who
    beyond the run's starter may see it (ops of the branch's subtree), without scanning the
    bulk `txn` table, which has no index on its run."""

    __tablename__ = "ingest_run_branch"

    ingest_id: int = Field(foreign_key="ingest_run.id", primary_key=True)
    branch_id: int = Field(foreign_key="branch.id", primary_key=True, index=True)


class RejectedRow(SQLModel, table=True):
    __tablename__ = "rejected_row"

    id: int | None = Field(default=None, primary_key=True)
    ingest_id: int = Field(foreign_key="ingest_run.id", index=True)
    line_no: int
    reason: RejectReason = Field(sa_type=enum_type(RejectReason))
    detail: str = Field(default="", max_length=300)
    raw: str = Field(sa_column=Column(Text, nullable=False))


class FeedSource(SQLModel, table=True):
    """A bank endpoint that fleet pulls transactions from, on a schedule."""

    __tablename__ = "feed_source"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    url: str = Field(max_length=500)
    # Sent as the Authorization header; shown only masked.
    auth_header: str | None = Field(default=None, max_length=500)
    schedule: str = Field(default="0 2 * * *", max_length=100)  # cron, Asia/Shanghai
    page_size: int = 1000
    cursor: str | None = Field(default=None, max_length=500)
    enabled: bool = True
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: str | None = Field(default=None, max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CoverageOrigin(StrEnum):
    admin = "admin"  # set by an admin (API, CLI or the settings page)
    derived = "derived"  # taken from the source's first ingest that finished (fleet.feeds.coverage)


class DataCoverage(SQLModel, table=True):
    """From which day a source's feed is complete: what statuses and reasons count from.

    `source` is `default` (files, uploads and URLs pulled without a registered source) or
    `feed-source:<id>`. No foreign key: the data a deleted source brought stays, and so does
    the fact of how far back it is complete.
    """

    __tablename__ = "data_coverage"

    source: str = Field(primary_key=True, max_length=40)
    starts_on: date
    origin: CoverageOrigin = Field(sa_type=enum_type(CoverageOrigin))
    # For a derived start: the run it came from and the oldest day that run held, so that a
    # reader sees what the rule left out (a stray old line).
    ingest_id: int | None = None
    oldest_day: date | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_name: str = Field(default="", max_length=100)
