"""A quarter's activation window, before and after (issue 19): the self-join of the rollups
commit 5a1ecf1 used (kept here as the reference) against `fleet.pay.figures.best_windows`'
running sum, on one database built by bench_scorecard's builder, and the quarter's whole
scorecard by staff with the running sum. Both must give every unit the same best window.

    .venv/bin/python -m tests.benchmarks.bench_quarter_window [--terminals 20000]
        [--staff 400] [--days 150] [--period 2026-Q3] [--pg-url URL]

SQLite always; PostgreSQL too when --pg-url is given (the database is made anew, dropped
after).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from fleet.core.access import system_actor
from fleet.core.config import Settings, get_settings
from fleet.core.db import make_engine, session_scope
from fleet.feeds.models import TerminalDay
from fleet.migrations import upgrade
from fleet.pay import periods
from fleet.pay.figures import ACTIVATION_DAYS, best_windows
from fleet.pay.scorecard import scorecard
from fleet.scoring.sql import day_number
from tests.benchmarks.bench_ingest import drop_databases, postgres_ready
from tests.benchmarks.bench_scorecard import build


def self_join(session: Session, start: date, end: date, settings: Settings) -> dict[int, int]:
    """5a1ecf1's best_windows: each day of use joined to the 30 days from it."""
    first, days, before = aliased(TerminalDay), aliased(TerminalDay), aliased(TerminalDay)
    used_before = exists().where(
        col(before.terminal_id) == col(first.terminal_id),
        col(before.day) >= start - timedelta(days=settings.active_days),
        col(before.day) < start,
        col(before.txn_count) > 0,
    )
    per_start = (
        select(
            col(first.terminal_id).label("terminal_id"),
            func.sum(col(days.txn_count)).label("n"),
        )
        .join(
            days,
            and_(
                col(days.terminal_id) == col(first.terminal_id),
                col(days.day) >= col(first.day),
                day_number(col(days.day)) < day_number(col(first.day)) + ACTIVATION_DAYS,
                col(days.day) < end,
            ),
        )
        .where(col(first.day) >= start, col(first.day) < end, col(first.txn_count) > 0)
        .where(~used_before)
        .group_by(col(first.terminal_id), col(first.day))
        .subquery()
    )
    query = select(per_start.c.terminal_id, func.max(per_start.c.n)).group_by(
        per_start.c.terminal_id
    )
    return {tid: int(n or 0) for tid, n in session.execute(query)}


def run(url: str, args: argparse.Namespace, today: date) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    rollups = build(engine, args.terminals, args.staff, args.days, today, args.seed)
    print(
        f"  built {args.terminals} units, {args.staff} staff, {rollups} rollup rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
    period = periods.parse(args.period)
    settings = get_settings()
    found: dict[str, float] = {}
    answers = []
    for name, how in (("self-join", self_join), ("running sum", best_windows)):
        started = time.perf_counter()
        with session_scope(engine) as session:
            answers.append(how(session, period.start, period.end, settings))
        found[name] = time.perf_counter() - started
        print(
            f"  {period.text} best windows by {name}: {found[name]:.2f} s, {len(answers[-1])} units"
        )
    assert answers[0] == answers[1], "the running sum differs from the self-join"
    print("  the same best window for every unit")
    started = time.perf_counter()
    with session_scope(engine) as session:
        card = scorecard(session, system_actor("bench"), period=period, by="staff")
    found["scorecard"] = time.perf_counter() - started
    print(
        f"  {period.text} scorecard by staff (running sum): {found['scorecard']:.2f} s, "
        f"{len(card.rows)} rows, cohort {sum(r.cohort for r in card.rows):.0f}, "
        f"activated {sum(r.activated for r in card.rows):.0f}"
    )
    engine.dispose()
    return found


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=20_000)
    parser.add_argument("--staff", type=int, default=400)
    parser.add_argument("--days", type=int, default=150, help="days of rollups before today")
    parser.add_argument("--period", default="2026-Q3")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pg-url", default=None)
    args = parser.parse_args(argv)
    today = datetime.now(UTC).date()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        print("sqlite")
        results["sqlite"] = run(f"sqlite:///{Path(folder) / 'bench.db'}", args, today)
    if args.pg_url and postgres_ready(args.pg_url):
        print("postgresql")
        try:
            results["postgresql"] = run(args.pg_url, args, today)
        finally:
            drop_databases(args.pg_url)
    return results


if __name__ == "__main__":
    main()
