"""What a job is: a name, a cron line (local time), and a function of the engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from fleet.core.access import system_actor
from fleet.core.errors import Reason


@dataclass
class JobResult:
    """What a run did: counts for the record and the metrics, and a line for people."""

    counts: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    # Set when the job ran to its end but failed at it (a pull whose lines were refused): the
    # run is recorded failed, with its counts, and not tried again, which could not mend it.
    error: str = ""


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Engine], JobResult]
    # A 5-field cron line in the feed time zone; None or "" means run by hand only.
    schedule: str | None = None
    # What it does, said where it is listed (`fleet jobs list`) in the reader's language.
    doc: Reason | str = ""


def job_actor(name: str) -> Any:
    """The actor a job acts as: full access, recorded in the audit log as job:<name>."""
    return system_actor(f"job:{name}")
