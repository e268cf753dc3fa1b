"""How long a month's 五提升 scorecard takes for a bank-sized portfolio: 100,000 units and
2,000 staff (the issue's target: under 10 s), on SQLite and on PostgreSQL side by side.

    .venv/bin/python -m tests.benchmarks.bench_scorecard [--terminals 100000] [--staff 2000]
        [--days 150] [--smoke] [--pg-url URL]

Builds each database by the real migrations, then inserts seeded synthetic branches, staff,
merchants (with their holds: 5% handed over mid-month), units, placements and per
unit-day rollups straight into the tables, and times `scorecard()` for the last complete
month by staff member, and by branch: SQLite, then PostgreSQL (the same seeded world) in the
same run, both figures printed side by side. PostgreSQL is skipped when it does not answer.
`--smoke` (run by the test suite) builds 2,000 units and 40 staff.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from fleet.auth.models import User
from fleet.core.access import system_actor
from fleet.core.db import make_engine, session_scope
from fleet.feeds.models import TerminalDay
from fleet.inventory.holders import SINCE_EVER, MerchantHolder
from fleet.inventory.models import Branch, Merchant, Placement, Terminal
from fleet.migrations import upgrade
from fleet.pay import periods
from fleet.pay.scorecard import scorecard
from tests.benchmarks.bench_ingest import PG_URL, drop_databases, postgres_ready

BRANCHES = 50
# Probability of use on a day, by profile; the share of units idle from 60 days back.
P_USE = (0.7, 0.35, 0.08, 0.0)
P_PROFILE = (0.35, 0.3, 0.15, 0.2)


def _chunks(rows: list[dict[str, Any]], size: int = 20_000) -> Any:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def build(engine: Engine, terminals: int, staff: int, days: int, today: date, seed: int) -> int:
    """Inserts the world; returns the rollup rows."""
    rng = np.random.default_rng(seed)
    now = datetime.now(UTC)
    period = periods.parse(f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}")
    with engine.begin() as conn:
        conn.execute(
            insert(Branch.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": b + 1,
                    "code": f"B{b}",
                    "name": f"网点{b}",
                    "level": "outlet",
                    "created_at": now,
                    "updated_at": now,
                }
                for b in range(BRANCHES)
            ],
        )
        conn.execute(
            insert(User.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": u + 1,
                    "username": f"staff{u}",
                    "full_name": f"员工{u}",
                    "role": "field",
                    "language": "zh",
                    "is_active": True,
                    "branch_id": u % BRANCHES + 1,
                    "created_at": now,
                    "updated_at": now,
                    "failed_logins": 0,
                    "token_version": 0,
                }
                for u in range(staff)
            ],
        )
        holder = rng.integers(0, staff, terminals)
        merchants = [
            {
                "id": i + 1,
                "code": f"M{i}",
                "name": "x",
                "category": "other",
                "opening_hours": "08:00-18:00",
                "status": "open",
                "branch_id": int(holder[i]) % BRANCHES + 1,
                "staff_id": int(holder[i]) + 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(terminals)
        ]
        for chunk in _chunks(merchants):
            conn.execute(insert(Merchant.__table__), chunk)  # type: ignore[attr-defined]
        moved = rng.random(terminals) < 0.05
        handover = period.start + timedelta(days=10)
        holds = []
        for i in range(terminals):
            if moved[i]:
                holds.append((i + 1, int(rng.integers(0, staff)) + 1, SINCE_EVER, handover))
                holds.append((i + 1, int(holder[i]) + 1, handover, None))
            else:
                holds.append((i + 1, int(holder[i]) + 1, SINCE_EVER, None))
        keys = ("merchant_id", "staff_id", "held_from", "held_to")
        for chunk in _chunks([dict(zip(keys, h, strict=True)) for h in holds]):
            conn.execute(insert(MerchantHolder.__table__), chunk)  # type: ignore[attr-defined]
        units = [
            {
                "id": i + 1,
                "sn": f"SN{i}",
                "model": "T",
                "branch_id": int(holder[i]) % BRANCHES + 1,
                "state": "deployed",
                "merchant_id": i + 1,
                "state_since": now,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(terminals)
        ]
        for chunk in _chunks(units):
            conn.execute(insert(Terminal.__table__), chunk)  # type: ignore[attr-defined]
        placed_ago = np.where(
            rng.random(terminals) < 0.95,
            rng.integers(days, days + 400, terminals),
            rng.integers(1, days, terminals),
        )
        placements = [
            {
                "terminal_id": i + 1,
                "merchant_id": i + 1,
                "started_at": datetime.combine(
                    today - timedelta(days=int(placed_ago[i])), datetime.min.time(), UTC
                ),
            }
            for i in range(terminals)
        ]
        for chunk in _chunks(placements):
            conn.execute(insert(Placement.__table__), chunk)  # type: ignore[attr-defined]
    profile = rng.choice(len(P_USE), terminals, p=P_PROFILE)
    stops = np.where(rng.random(terminals) < 0.15, rng.integers(20, 120, terminals), 0)
    day_ago = np.arange(1, days + 1)
    rows: list[tuple[int, date, int, int]] = []
    for i in range(terminals):
        p = P_USE[profile[i]]
        if p == 0:
            continue
        ago = day_ago[(day_ago >= stops[i]) & (day_ago < placed_ago[i])]
        used = ago[rng.random(ago.size) < p]
        counts = rng.poisson(3, used.size) + 1
        for a, n in zip(used.tolist(), counts.tolist(), strict=True):
            rows.append((i + 1, today - timedelta(days=a), n, n * 31_400))
    _rollups(engine, rows)
    return len(rows)


def _rollups(engine: Engine, rows: list[tuple[int, date, int, int]]) -> None:
    """terminal_day rows with their revenue: a 2-yuan transfer fee each, net the same."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        with raw.cursor() as cur:  # type: ignore[attr-defined]
            buffer = io.StringIO()
            for tid, day, n, amount in rows:
                buffer.write(
                    f"{tid}\t{day}\t{n}\t{amount}\t0\t{n}\t{amount}\t{n * 200}\t{n * 200}\n"
                )
            buffer.seek(0)
            with cur.copy(
                "COPY terminal_day (terminal_id, day, txn_count, amount_fen, other_count, "
                "transfer_count, transfer_fen, transfer_fee_fen, net_fen) FROM STDIN"
            ) as copy:
                copy.write(buffer.getvalue())
        raw.commit()
        raw.close()
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        return
    table = TerminalDay.__table__  # type: ignore[attr-defined]
    with engine.begin() as conn:
        for start in range(0, len(rows), 50_000):
            conn.execute(
                insert(table),
                [
                    {
                        "terminal_id": tid,
                        "day": day,
                        "txn_count": n,
                        "amount_fen": amount,
                        "other_count": 0,
                        "transfer_count": n,
                        "transfer_fen": amount,
                        "transfer_fee_fen": n * 200,
                        "net_fen": n * 200,
                    }
                    for tid, day, n, amount in rows[start : start + 50_000]
                ],
            )
        conn.exec_driver_sql("ANALYZE")


def run(url: str, args: argparse.Namespace, today: date) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    rollups = build(engine, args.terminals, args.staff, args.days, today, args.seed)
    print(
        f"  built {args.terminals} units, {args.staff} staff, {rollups} rollup rows "
        f"in {time.perf_counter() - started:.1f} s"
    )
    period = periods.parse(f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}")
    actor = system_actor("bench")
    found: dict[str, float] = {}
    for by in ("staff", "branch"):
        started = time.perf_counter()
        with session_scope(engine) as session:
            card = scorecard(session, actor, period=period, by=by)
        found[by] = time.perf_counter() - started
        cohort = sum(r.cohort for r in card.rows)
        print(
            f"  {period.text} by {by}: {found[by]:.2f} s, {len(card.rows)} rows, "
            f"cohort {cohort:.0f}"
        )
    engine.dispose()
    return found


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=150, help="days of rollups before today")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="a small run, for the tests")
    parser.add_argument("--pg-url", default=PG_URL + "_scorecard")
    args = parser.parse_args(argv)
    if args.smoke:
        args.terminals, args.staff = 2_000, 40
    today = datetime.now(UTC).date()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="fleet-scorecard-bench-") as folder:
        print("sqlite:")
        results["sqlite"] = run(f"sqlite:///{Path(folder) / 'bench.db'}", args, today)
    if postgres_ready(args.pg_url):
        try:
            print("postgresql:")
            results["postgresql"] = run(args.pg_url, args, today)
        finally:
            drop_databases(args.pg_url)
    print(f"\n{'database':<12}{'by staff':>10}{'by branch':>11}   (target: under 10 s)")
    for name, found in results.items():
        print(f"{name:<12}{found['staff']:>9.2f}s{found['branch']:>10.2f}s")
    if "postgresql" in results:
        for by in ("staff", "branch"):
            ratio = results["postgresql"][by] / results["sqlite"][by]
            print(f"by {by}: postgresql / sqlite = {ratio:.2f}")
    return results


if __name__ == "__main__":
    main()
