"""The job lock (one row per job name) and the record of every run (one row per attempt)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from fleet.core.db import UTCDateTime, enum_type, utcnow


class JobLock(SQLModel, table=True):
    """Who runs a job now, until when (a lease), and which firing was last finished.

    A holder that dies keeps the row until `expires_at`; after that anyone may take it over.
    """

    __tablename__ = "job_lock"

    name: str = Field(primary_key=True, max_length=100)
    holder: str = Field(max_length=200)
    acquired_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    # The scheduled firing being run, and the last one finished: a second scheduler that fires
    # the same minute finds it done and does not run it again.
    run_key: str | None = Field(default=None, max_length=40)
    done_key: str | None = Field(default=None, max_length=40)


class Outcome(StrEnum):
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class JobRun(SQLModel, table=True):
    __tablename__ = "job_run"

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=100, index=True)
    holder: str = Field(max_length=200)
    attempt: int = 1
    # "manual", or the scheduled firing it runs (local time, e.g. 2026-11-28T02:00).
    trigger: str = Field(default="schedule", max_length=20)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: Outcome = Field(default=Outcome.running, sa_type=enum_type(Outcome), index=True)
    counts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: str = Field(default="", max_length=1000)
    error: str | None = Field(default=None, max_length=2000)


class JobRunPublic(SQLModel):
    id: int
    job: str
    holder: str
    attempt: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    outcome: Outcome
    counts: dict[str, Any]
    message: str
    error: str | None
