"""How long `fleet score` takes on a bank-sized fleet: a perf check to run by hand, not a test.

    .venv/bin/python -m tests.benchmarks.bench_score [--terminals 100000] [--days 365]

Builds a temporary SQLite database (the real migrations), inserts seeded synthetic terminals,
placements and about 100 per terminal-day rollup rows per terminal straight into the tables,
then times `scoring.score()` for one as-of date, twice (the second run replaces the first).
The database is deleted afterwards unless `--db` names where to keep it (`--reuse` scores it
again without rebuilding).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from fleet.core.db import make_engine, session_scope
from fleet.migrations import upgrade
from fleet.scoring import service as scoring
from fleet.scoring.models import ScoreSummary

CATEGORIES = ["grocery", "hardware", "pharmacy", "restaurant", "building", "farm", "auto", "phone"]
MARKET_TRADES = ["hardware", "stone", "building_materials", "furniture", "farm_supplies"]
# Share of terminals, probability of use on a day, and the day (before as-of) use stops.
PROFILES = [
    ("busy", 0.30, 0.75, 0),
    ("normal", 0.25, 0.35, 0),
    ("quiet", 0.10, 0.08, 0),
    ("declining", 0.05, 0.60, 45),
    ("idle", 0.10, 0.30, 50),
    ("dormant", 0.10, 0.30, 150),
    ("never", 0.10, 0.0, 0),
]


def build(url: str, terminals: int, days: int, as_of: date, seed: int) -> int:
    """Inserts the fleet and its rollups with the DB-API directly; returns the rollup rows."""
    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    raw = engine.raw_connection()
    cur = raw.cursor()
    cur.execute(
        "INSERT INTO branch (id, code, name, level, created_at, updated_at) "
        "VALUES (1, 'B1', 'bench', 'outlet', ?, ?)",
        (now, now),
    )
    cur.executemany(
        "INSERT INTO market (id, code, name, category, approximate, branch_id, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 0, 1, ?, ?)",
        [(i + 1, f"MK{i}", f"m{i}", MARKET_TRADES[i % 5], now, now) for i in range(40)],
    )
    in_market = rng.random(terminals) < 0.3
    market_ids = rng.integers(1, 41, terminals)
    categories = rng.integers(0, len(CATEGORIES), terminals)
    cur.executemany(
        "INSERT INTO merchant (id, code, name, category, opening_hours, status, branch_id, "
        "market_id, created_at, updated_at) VALUES (?, ?, 'x', ?, '08:00-18:00', 'open', 1, ?, "
        "?, ?)",
        [
            (
                i + 1,
                f"M{i}",
                CATEGORIES[categories[i]],
                int(market_ids[i]) if in_market[i] else None,
                now,
                now,
            )
            for i in range(terminals)
        ],
    )
    cur.executemany(
        "INSERT INTO terminal (id, sn, model, branch_id, state, merchant_id, state_since, "
        "created_at, updated_at) VALUES (?, ?, 'T', 1, 'deployed', ?, ?, ?, ?)",
        [(i + 1, f"SN{i}", i + 1, now, now, now) for i in range(terminals)],
    )
    # Most units deployed long ago, some recently: placements start 1 .. days+60 days back.
    placed_ago = np.where(
        rng.random(terminals) < 0.85,
        rng.integers(days, days + 60, terminals),
        rng.integers(1, days, terminals),
    )
    cur.executemany(
        "INSERT INTO placement (terminal_id, merchant_id, started_at) VALUES (?, ?, ?)",
        [
            (i + 1, i + 1, f"{as_of - timedelta(days=int(placed_ago[i]))} 02:00:00.000000")
            for i in range(terminals)
        ],
    )
    shares = np.array([p[1] for p in PROFILES])
    profile = rng.choice(len(PROFILES), terminals, p=shares / shares.sum())
    rows = 0
    day_ago = np.arange(1, days + 1)
    for start in range(0, terminals, 5000):
        batch: list[tuple[int, str, int, int, int]] = []
        for i in range(start, min(start + 5000, terminals)):
            _, _, p_use, stops = PROFILES[profile[i]]
            if p_use == 0:
                continue
            ago = day_ago[(day_ago >= stops) & (day_ago < placed_ago[i])]
            if PROFILES[profile[i]][0] == "declining":
                ago = ago[(ago > 30) | (rng.random(ago.size) < 0.1)]
            used = ago[rng.random(ago.size) < p_use]
            counts = rng.poisson(4, used.size) + 1
            for a, n in zip(used.tolist(), counts.tolist(), strict=True):
                batch.append((i + 1, str(as_of - timedelta(days=a)), n, n * 31_400, 0))
        cur.executemany(
            "INSERT INTO terminal_day (terminal_id, day, txn_count, amount_fen, other_count) "
            "VALUES (?, ?, ?, ?, ?)",
            batch,
        )
        rows += len(batch)
    raw.commit()
    cur.execute("ANALYZE")
    raw.close()
    engine.dispose()
    return rows


def main(argv: list[str] | None = None) -> list[ScoreSummary]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=365, help="days of rollups before as-of")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="SQLite file to keep (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="score the --db built before")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="fleet-score-bench-") as folder:
        path = args.db or Path(folder) / "bench.db"
        url = f"sqlite:///{path}"
        as_of = scoring.today_local()
        if not (args.reuse and args.db):
            started = time.perf_counter()
            upgrade(url)
            rows = build(url, args.terminals, args.days, as_of, args.seed)
            built = time.perf_counter() - started
            print(f"built {args.terminals} terminals, {rows} rollup rows in {built:.1f} s")
        engine = make_engine(url)
        summaries = []
        for attempt in ("first run", "re-run"):
            started = time.perf_counter()
            with session_scope(engine) as session:
                summary = scoring.score(session, as_of=as_of)
            total = time.perf_counter() - started
            print(
                f"{attempt}: score() {summary.seconds:.2f} s, with commit {total:.2f} s: "
                f"{summary.terminals} terminals {summary.by_status}"
            )
            summaries.append(summary)
        engine.dispose()
    return summaries


if __name__ == "__main__":
    main()
