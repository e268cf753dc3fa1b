"""Data coverage: from which day each source's feed is complete, and where counting starts.

A bank's first export covers its last months only, for units deployed years before. Every
count of use (statuses, days without use, trends, the recovery rules and their reasons) starts
at the later of a unit's deployment and `start()`, the fleet's coverage start.

Each source's start is either set by an admin or taken from the first ingest of that source
that finishes with data (`derived_start`): the first day of the dense span that runs up to the
ingest's newest day. A day is dense when it holds at least `DENSE_SHARE` of the median day's
lines; the span runs back from the newest dense day while no more than `LONGEST_GAP_DAYS` pass
without a dense day. One stray old line is neither dense nor within reach of the span, so it
does not move the start. Later ingests of the source never move it either: after loading
older history, an admin sets the new start.

The fleet's start is the earliest start among the sources: each is complete from its start
on, and a source that takes over later (the nightly HTTP feed after a first file) adds to the
history rather than cutting it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import Connection, func, select
from sqlmodel import Session, col

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import dialect_insert, utcnow
from fleet.core.errors import Invalid, NotFound
from fleet.feeds.models import CoverageOrigin, DataCoverage, FeedSource, IngestRun

DEFAULT_SOURCE = "default"
FEED_SOURCE_PREFIX = "feed-source:"
DENSE_SHARE = 0.1
LONGEST_GAP_DAYS = 7
WRITE = Permission.write_branches  # admins, as for the feed sources themselves
READ = Permission.import_data


def source_key(feed_source_id: int | None) -> str:
    """The coverage key of a run's source: its registered feed source, else the default."""
    return DEFAULT_SOURCE if feed_source_id is None else f"{FEED_SOURCE_PREFIX}{feed_source_id}"


def derived_start(lines_per_day: Mapping[date, int]) -> date | None:
    """The first day of the dense span ending at the newest dense day (module docstring)."""
    if not lines_per_day:
        return None
    counts = sorted(lines_per_day.values())
    floor = DENSE_SHARE * counts[len(counts) // 2]
    dense = sorted(day for day, n in lines_per_day.items() if n >= floor)
    start = dense[-1]
    for earlier in reversed(dense[:-1]):
        if (start - earlier).days - 1 > LONGEST_GAP_DAYS:  # days between them without data
            break
        start = earlier
    return start


def after_ingest(conn: Connection, run_id: int | None, lines_per_day: Mapping[date, int]) -> None:
    """Derives the run's source's start from this run, if the source has none yet."""
    start = derived_start(lines_per_day)
    if start is None or run_id is None:
        return
    feed_source_id = conn.execute(
        select(col(IngestRun.feed_source_id)).where(col(IngestRun.id) == run_id)
    ).scalar_one_or_none()
    # Two first ingests of one source may finish together: the first to commit sets it.
    insert = dialect_insert(conn)
    conn.execute(
        insert(DataCoverage)
        .values(
            source=source_key(feed_source_id),
            starts_on=start,
            origin=CoverageOrigin.derived,
            ingest_id=run_id,
            oldest_day=min(lines_per_day),
            updated_at=utcnow(),
            updated_by_name="",
        )
        .on_conflict_do_nothing(index_elements=["source"])
    )


def start(session: Session) -> date | None:
    """The fleet's coverage start: the earliest source's; None when no source has one."""
    return session.execute(select(func.min(col(DataCoverage.starts_on)))).scalar_one_or_none()


class CoveragePublic(BaseModel):
    source: str
    name: str  # the feed source's name, or "default"
    starts_on: date
    origin: CoverageOrigin
    ingest_id: int | None
    oldest_day: date | None
    updated_at: Any
    updated_by_name: str


class CoverageSet(BaseModel):
    starts_on: date


def source_names(session: Session) -> dict[str, str]:
    """The coverage key and name of every source: the default one, then each feed source."""
    stmt = select(col(FeedSource.id), col(FeedSource.name)).order_by(col(FeedSource.name))
    rows = session.execute(stmt).all()
    return {DEFAULT_SOURCE: DEFAULT_SOURCE} | {source_key(i): name for i, name in rows}


def _public(row: DataCoverage, names: dict[str, str]) -> CoveragePublic:
    return CoveragePublic(name=names.get(row.source, row.source), **row.model_dump())


def list_coverage(session: Session, actor: Actor) -> list[CoveragePublic]:
    """Every source's coverage start, the default source first."""
    actor.require(READ)
    names = source_names(session)
    rows = session.execute(select(DataCoverage).order_by(col(DataCoverage.source))).scalars()
    return sorted(
        (_public(row, names) for row in rows), key=lambda c: (c.source != DEFAULT_SOURCE, c.name)
    )


def resolve(session: Session, source: str) -> str:
    """The coverage key of `default`, a feed source's name, or `feed-source:<id>`."""
    names = source_names(session)
    if source in names or session.get(DataCoverage, source) is not None:
        return source
    for key, name in names.items():
        if name == source:
            return key
    known = ", ".join(sorted(set(names.values())))
    raise NotFound("no feed source {source}; sources: {known}", source=repr(source), known=known)


def set_start(session: Session, actor: Actor, source: str, starts_on: date) -> CoveragePublic:
    """Sets from which day a source's feed is complete (admins only)."""
    actor.require(WRITE)
    key = resolve(session, source)
    if starts_on > datetime.now(ZoneInfo(get_settings().feed_timezone)).date():
        raise Invalid("coverage cannot start in the future ({day})", day=starts_on)
    row = session.get(DataCoverage, key)
    before = row.starts_on.isoformat() if row else None
    if row is None:
        row = DataCoverage(source=key, starts_on=starts_on, origin=CoverageOrigin.admin)
    row.starts_on, row.origin = starts_on, CoverageOrigin.admin
    row.ingest_id, row.oldest_day = None, None
    row.updated_at, row.updated_by_name = utcnow(), actor.username
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set_coverage",
        entity="data_coverage",
        entity_id=key,
        changes={"starts_on": [before, starts_on.isoformat()]},
    )
    return _public(row, source_names(session))


def clear(session: Session, actor: Actor, source: str) -> bool:
    """Forgets a source's start: its next finished ingest derives it again (admins only)."""
    actor.require(WRITE)
    key = resolve(session, source)
    row = session.get(DataCoverage, key)
    if row is None:
        return False
    before = row.starts_on.isoformat()
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="clear_coverage",
        entity="data_coverage",
        entity_id=key,
        changes={"starts_on": [before, None]},
    )
    return True
