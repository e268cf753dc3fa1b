"""Data coverage: derived from a source's first finished ingest (its dense span, not a stray
old line), set or cleared by an admin, one per source, the fleet's start the earliest."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.core.access import Actor, Role
from fleet.core.db import session_scope
from fleet.core.errors import Forbidden, NotFound
from fleet.feeds import coverage, service, sources
from fleet.feeds.models import CoverageOrigin, DataCoverage, TerminalDay
from fleet.feeds.sources import FeedSourceCreate
from fleet.inventory.models import Terminal
from fleet.migrations import alembic_config
from tests.conftest import TEST_URL
from tests.factories import SYSTEM
from tests.feeds.pulling import FeedServer, good_items, world
from tests.feeds.util import line, small_fleet, write_feed

__all__ = ["world"]  # a fixture
OPS = Actor(username="ops", role=Role.branch_ops, branch_ids=frozenset({1}))
SPAN_START = date(2026, 4, 1)


def days(first: date, n: int, per_day: int = 1) -> dict[date, int]:
    return {first + timedelta(days=i): per_day for i in range(n)}


def test_the_derived_start_is_the_dense_span_not_a_stray_line() -> None:
    span = days(SPAN_START, 61, per_day=30)
    assert coverage.derived_start(span) == SPAN_START
    assert coverage.derived_start(span | {date(2026, 1, 2): 1}) == SPAN_START
    # A thin day within reach is still stray: 2 lines against a median day of 30.
    assert coverage.derived_start(span | {SPAN_START - timedelta(days=3): 2}) == SPAN_START
    # A week without data inside the span is a quiet week; more than that is a gap.
    before = days(SPAN_START - timedelta(days=21), 13, per_day=30)  # then 8 days without
    assert coverage.derived_start(span | before) == SPAN_START
    close = days(SPAN_START - timedelta(days=20), 13, per_day=30)  # then 7 days without
    assert coverage.derived_start(span | close) == SPAN_START - timedelta(days=20)
    # A small fleet with a line a day is dense every day.
    assert coverage.derived_start(days(SPAN_START, 10)) == SPAN_START
    assert coverage.derived_start({}) is None


def feed_lines(first: date, n: int, prefix: str = "R") -> list[str]:
    return [
        line(f"{prefix}{i}-{sn}", sn, f"{first + timedelta(days=i)}T10:00:00", merchant=m)
        for i in range(n)
        for sn, m in (("T1", "M1"), ("T2", "M2"))
    ]


def row(engine: Engine, key: str = coverage.DEFAULT_SOURCE) -> DataCoverage | None:
    with Session(engine) as session:
        return session.get(DataCoverage, key)


def test_the_first_ingest_sets_the_start_and_a_stray_old_line_does_not_move_it(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    stray = line("OLD", "T3", "2026-03-02T10:00:00", merchant="M3")
    report = service.ingest_file(
        write_feed(tmp_path / "first.csv", [stray, *feed_lines(SPAN_START, 40)]), actor=SYSTEM
    )
    assert report.accepted == 81
    first = row(engine)
    assert first is not None
    assert (first.starts_on, first.origin, first.oldest_day, first.ingest_id) == (
        SPAN_START,
        CoverageOrigin.derived,
        date(2026, 3, 2),
        report.run_id,
    )
    with Session(engine) as s:
        assert coverage.start(s) == SPAN_START
    # A later feed with older lines does not move it either: the first ingest's span stands.
    older = feed_lines(date(2026, 3, 5), 20, prefix="B")
    service.ingest_file(write_feed(tmp_path / "backfill.csv", older), actor=SYSTEM)
    assert row(engine).starts_on == SPAN_START  # type: ignore[union-attr]


def test_a_feed_with_nothing_valid_derives_nothing(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    bad = [line("X1", "NOPE", "2026-04-01T10:00:00")]
    service.ingest_file(write_feed(tmp_path / "bad.csv", bad), actor=SYSTEM)
    assert row(engine) is None


def test_an_admin_sets_the_start_and_clearing_it_derives_it_again(
    engine: Engine, session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    with session_scope(engine) as s:
        shown = coverage.set_start(s, SYSTEM, "default", date(2026, 4, 10))
        assert (shown.name, shown.origin) == ("default", CoverageOrigin.admin)
    # An ingest does not overwrite an admin's start.
    service.ingest_file(write_feed(tmp_path / "a.csv", feed_lines(SPAN_START, 30)), actor=SYSTEM)
    assert row(engine).starts_on == date(2026, 4, 10)  # type: ignore[union-attr]
    with session_scope(engine) as s:
        assert coverage.clear(s, SYSTEM, "default") is True
        assert coverage.clear(s, SYSTEM, "default") is False
        assert coverage.start(s) is None
    later = feed_lines(date(2026, 6, 1), 30, prefix="L")
    service.ingest_file(write_feed(tmp_path / "b.csv", later), actor=SYSTEM)
    assert row(engine).starts_on == date(2026, 6, 1)  # type: ignore[union-attr]


def test_only_admins_set_it_and_operations_read_it(engine: Engine, session: Session) -> None:
    small_fleet(session)
    with session_scope(engine) as s:
        with pytest.raises(Forbidden):
            coverage.set_start(s, OPS, "default", date(2026, 4, 1))
        with pytest.raises(NotFound, match="no feed source 'nightly'"):
            coverage.set_start(s, SYSTEM, "nightly", date(2026, 4, 1))
        coverage.set_start(s, SYSTEM, "default", date(2026, 4, 1))
        assert [c.starts_on for c in coverage.list_coverage(s, OPS)] == [date(2026, 4, 1)]


def test_each_feed_source_has_its_own_start_and_the_fleet_takes_the_earliest(
    engine: Engine, world: None
) -> None:
    with session_scope(engine) as s:
        created = sources.create_source(
            s, SYSTEM, FeedSourceCreate(name="nightly", url="http://127.0.0.1:9/feed")
        )
        coverage.set_start(s, SYSTEM, "default", date(2000, 1, 1))
    items = good_items(12, start=timedelta(days=5))
    with FeedServer(items, tail=True).running() as server:
        with session_scope(engine) as s:
            sources.update_source(s, SYSTEM, created.id, sources.FeedSourceUpdate(url=server.url))
        sources.pull_source(engine, SYSTEM, created.id, backoff=0.01)
    key = coverage.source_key(created.id)
    pulled = row(engine, key)
    assert pulled is not None and pulled.origin == CoverageOrigin.derived
    with Session(engine) as s:
        assert coverage.start(s) == date(2000, 1, 1)
        listed = coverage.list_coverage(s, SYSTEM)
    assert [(c.source, c.name) for c in listed] == [("default", "default"), (key, "nightly")]
    with session_scope(engine) as s:
        coverage.set_start(s, SYSTEM, "nightly", date(2026, 1, 1))
        coverage.clear(s, SYSTEM, "default")
        assert coverage.start(s) == date(2026, 1, 1)


def test_an_existing_database_gets_its_start_from_the_rollups_it_holds(engine: Engine) -> None:
    with session_scope(engine) as s:
        small_fleet(s)
        unit = s.execute(select(Terminal).where(Terminal.sn == "T1")).scalar_one()
        for day, count in (days(SPAN_START, 40, per_day=3) | {date(2026, 3, 2): 1}).items():
            s.add(TerminalDay(terminal_id=unit.id or 0, day=day, txn_count=count))
    engine.dispose()  # no connection of ours holds a lock while the schema changes
    config = alembic_config(TEST_URL)
    command.downgrade(config, "data_coverage-1")
    command.upgrade(config, "head")
    derived = row(engine)
    assert derived is not None
    assert (derived.starts_on, derived.origin, derived.oldest_day) == (
        SPAN_START,
        CoverageOrigin.derived,
        date(2026, 3, 2),
    )
