"""Benchmark: suspected-fault detection over 100,000 units and 10 million transactions.

    .venv/bin/python -m tests.benchmarks.bench_suspect            # full: 100,000 units, ~10M txns
    .venv/bin/python -m tests.benchmarks.bench_suspect --smoke    # seconds; the suite runs this

Builds a temporary SQLite database (the real migrations): the fleet and 60 days of per
terminal-day rollups as bench_score does, then the transactions behind the rollups (one row
per successful transaction, ~2% failed ones besides, and 1 unit in 97 whose last three days
fail more than half the time), about 10 million rows, and the rollups' failed counts from them
(as the ingest keeps them). Then, side by side, on the same database and as-of day:

1. `aftersales.watch.find` as it is: one set-based pass over the rollups' window
   (terminal_day, failed_count included), filtered in SQL to the units that could meet a
   threshold;
2. the previous design, reproduced here: the silent check over the rollups, the failed share
   grouped over the raw `txn` rows of the window (a scan of the bulk table, which has no index
   but its key).

Both must find the same suspicions. Printed: the times, their ratio, and the counts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from fleet.aftersales import watch
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope
from fleet.feeds.models import TerminalDay, Txn, TxnStatus
from fleet.migrations import upgrade
from tests.benchmarks import bench_score

DAYS = 60


def add_transactions(url: str, as_of: date) -> int:
    """The rows behind the rollups, some failed, and the rollups' failed counts."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    cur = raw.cursor()
    recent = str(as_of - timedelta(days=2))
    cur.execute(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 40) "
        "INSERT INTO txn (txn_ref, terminal_id, occurred_at, day, amount_fen, txn_type, status, "
        "ingest_id) "
        "SELECT 'R' || d.terminal_id || '-' || d.day || '-' || k.i, d.terminal_id, "
        "d.day || ' 02:00:00.000000', d.day, 31400, 'transfer', "
        "CASE WHEN k.i > d.txn_count THEN 'failed' "
        "WHEN d.terminal_id % 97 = 5 AND d.day >= ? AND k.i % 2 = 0 THEN 'failed' "
        "ELSE 'success' END, 1 "
        "FROM terminal_day d JOIN k ON k.i <= d.txn_count + "
        "(CASE WHEN (d.terminal_id * 7 + julianday(d.day)) % 20 < 9 THEN 1 ELSE 0 END)",
        (recent,),
    )
    # The rollups as the ingest keeps them: successes, everything else, the failed.
    cur.execute(
        "UPDATE terminal_day SET txn_count = f.ok, other_count = f.bad, failed_count = f.bad "
        "FROM (SELECT terminal_id, day, sum(status = 'success') AS ok, "
        "sum(status = 'failed') AS bad FROM txn GROUP BY terminal_id, day) AS f "
        "WHERE terminal_day.terminal_id = f.terminal_id AND terminal_day.day = f.day"
    )
    raw.commit()
    cur.execute("ANALYZE")
    count = cur.execute("SELECT count(*) FROM txn").fetchone()[0]
    raw.close()
    engine.dispose()
    return int(count)


def previous_find(session: Session, as_of: date) -> set[tuple[str, str]]:
    """The design before: silent from the rollups, the failed share from the raw rows."""
    settings = get_settings()
    silent_from = as_of - timedelta(days=settings.suspect_silent_days - 1)
    base_from = silent_from - timedelta(days=settings.suspect_baseline_days)
    live = watch._watched(
        session,
        [int(i) for i in session.execute(select(TerminalDay.terminal_id).distinct()).scalars()],
    )
    found: set[tuple[str, str]] = set()
    active = dict(
        session.execute(
            select(TerminalDay.terminal_id, func.count())
            .where(
                col(TerminalDay.day) >= base_from,
                col(TerminalDay.day) < silent_from,
                col(TerminalDay.txn_count) > 0,
            )
            .group_by(col(TerminalDay.terminal_id))
        ).all()
    )
    used_lately = set(
        session.execute(
            select(TerminalDay.terminal_id).where(
                col(TerminalDay.day) >= silent_from,
                col(TerminalDay.day) <= as_of,
                col(TerminalDay.txn_count) > 0,
            )
        ).scalars()
    )
    for tid, days in active.items():
        share = days / settings.suspect_baseline_days
        if tid in live and tid not in used_lately and share >= settings.suspect_daily_share:
            found.add((live[tid][0], "silent"))
    recent_from = as_of - timedelta(days=settings.suspect_recent_days - 1)
    fail_base_from = recent_from - timedelta(days=settings.suspect_baseline_days)
    recent = col(Txn.day) >= recent_from
    failed = col(Txn.status) == TxnStatus.failed.value
    rows: list[Any] = session.execute(
        select(  # type: ignore[call-overload]
            col(Txn.terminal_id),
            func.sum(case((recent, 1), else_=0)),
            func.sum(case((recent & failed, 1), else_=0)),
            func.count(),
            func.sum(case((failed, 1), else_=0)),
        )
        .where(col(Txn.day) >= fail_base_from, col(Txn.day) <= as_of)
        .group_by(col(Txn.terminal_id))
    ).all()
    flagged = {sn for sn, _ in found}
    for tid, n, bad, total, all_bad in rows:
        n, bad = int(n or 0), int(bad or 0)
        if tid not in live or live[tid][0] in flagged or n < settings.suspect_min_attempts:
            continue
        base_n, base_bad = int(total) - n, int(all_bad or 0) - bad
        base_share = base_bad / base_n if base_n else 0.0
        if bad / n - base_share >= settings.suspect_failed_jump:
            found.add((live[tid][0], "failed_share"))
    return found


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="2,000 units")
    parser.add_argument("--db", type=Path, help="SQLite file to keep (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="measure the --db built before")
    args = parser.parse_args(argv)
    if args.smoke:
        args.terminals = 2_000
    with tempfile.TemporaryDirectory(prefix="fleet-suspect-bench-") as folder:
        url = f"sqlite:///{args.db or Path(folder) / 'bench.db'}"
        as_of = date(2026, 12, 1)
        engine = make_engine(url)
        if args.reuse and args.db:
            with session_scope(engine) as session:
                txns = int(session.execute(select(func.count()).select_from(Txn)).scalar_one())
        else:
            started = time.perf_counter()
            upgrade(url)
            rollups = bench_score.build(url, args.terminals, DAYS, as_of, args.seed)
            txns = add_transactions(url, as_of)
            print(
                f"built {args.terminals} units, {rollups} rollup rows, {txns} transactions in "
                f"{time.perf_counter() - started:.1f} s"
            )
        timings: dict[str, float] = {}
        results: dict[str, set[tuple[str, str]]] = {}
        for name in ("rollups", "previous", "rollups again"):
            started = time.perf_counter()
            with session_scope(engine) as session:
                if name == "previous":
                    results[name] = previous_find(session, as_of)
                else:
                    results[name] = {(s.sn, s.code) for s in watch.find(session, as_of)}
            timings[name] = time.perf_counter() - started
        engine.dispose()
    now = min(timings["rollups"], timings["rollups again"])
    same = results["rollups"] == results["previous"]
    codes = [c for _, c in results["rollups"]]
    print(
        f"suspected-fault detection, {args.terminals} units, {txns} transactions: "
        f"from the rollups {now:.2f} s; the previous design (failed share from the raw rows) "
        f"{timings['previous']:.2f} s: {timings['previous'] / now:.1f}x; "
        f"{codes.count('silent')} silent, {codes.count('failed_share')} failed share; "
        f"the same suspicions: {same}"
    )
    return {
        "seconds": round(now, 2),
        "previous_seconds": round(timings["previous"], 2),
        "transactions": float(txns),
        "suspicions": float(len(results["rollups"])),
        "same": float(same),
    }


if __name__ == "__main__":
    main()
