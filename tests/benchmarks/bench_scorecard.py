"""How long a month's 五提升 scorecard takes for a bank-sized portfolio: 100,000 units and
2,000 staff (the issue's target: under 10 s), on SQLite and on PostgreSQL side by side.

    .venv/bin/python -m tests.benchmarks.bench_scorecard [--terminals 100000] [--staff 2000]
        [--days 150] [--smoke] [--pg-url URL] [--keep DIR] [--rounds N] [--against REV]
        [--period P]

Builds each database by the real migrations, then inserts seeded synthetic branches, staff,
merchants (with their holds: 5% handed over mid-month), units, placements and per
unit-day rollups straight into the tables, and times `scorecard()` for the last complete
month by staff member, and by branch: SQLite, then PostgreSQL (the same seeded world) in the
same run, both figures printed side by side. PostgreSQL is skipped when it does not answer.
`--smoke` (run by the test suite) builds 2,000 units and 40 staff.

`--keep DIR` keeps the built worlds for the next run with the same sizes, seed and day, so
that runs comparing two versions of the code time the same world without building it again
(minutes at full size): the SQLite file in DIR, and the PostgreSQL database named by
--pg-url's name and the world's parameters, marked with them in a table `bench_world` (one
without the mark is made anew; drop it when done). Without --keep both are dropped after the
run. `--rounds` times each scorecard that many times; the figures are the medians, with the
process's CPU time (PostgreSQL's own work is in its server process, not counted there).

`--against REV` compares the code with the code of a git revision on the same world: each
round times the scorecard by staff and by branch with one, then the other (who goes first
alternates, so that a drift of the machine's load favours neither), each in a fresh Python
process importing its own `fleet` (REV's extracted by `git archive`); it prints both medians
and their ratio, and checks that both made the same rows.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import Engine, make_url

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
from tests.benchmarks.revisions import checkouts

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


WORLD = "bench_world"


def _world(args: argparse.Namespace, today: date) -> str:
    return f"{args.terminals}-{args.staff}-{args.days}-{args.seed}-{today:%Y%m%d}"


def _built(engine: Engine, world: str) -> bool:
    """Whether the database holds the world `world` (marked by a previous --keep run)."""
    try:
        with engine.connect() as conn:
            found = conn.exec_driver_sql(f"SELECT world FROM {WORLD}").scalar()
    except Exception:  # no such table (or database): not built
        return False
    return found == world


def ready(url: str, args: argparse.Namespace, today: date) -> None:
    """Builds the world in `url`, unless it is there already (--keep)."""
    engine = make_engine(url)
    world = _world(args, today)
    if args.keep and _built(engine, world):
        print(f"  world {world} kept from a previous run")
    else:
        upgrade(url)
        started = time.perf_counter()
        rollups = build(engine, args.terminals, args.staff, args.days, today, args.seed)
        print(
            f"  built {args.terminals} units, {args.staff} staff, {rollups} rollup rows "
            f"in {time.perf_counter() - started:.1f} s"
        )
        if args.keep:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"CREATE TABLE {WORLD} (world VARCHAR(80))")
                conn.exec_driver_sql(f"INSERT INTO {WORLD} VALUES ('{world}')")
    engine.dispose()


def run(url: str, args: argparse.Namespace, today: date) -> dict[str, float]:
    """Builds the world in `url` unless it is there already (--keep); times the month's
    scorecard by staff and by branch; `<by>` the median seconds, `<by>_cpu` the process's
    (with --against: the comparison's figures, `against` says)."""
    ready(url, args, today)
    last_month = f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}"
    period = periods.parse(args.period or last_month)
    if args.against:
        return against(url, args.against, period.text, args.rounds)
    engine = make_engine(url)
    actor = system_actor("bench")
    found: dict[str, float] = {}
    for by in ("staff", "branch"):
        walls, cpus = [], []
        for _ in range(args.rounds):
            started, cpu = time.perf_counter(), time.process_time()
            with session_scope(engine) as session:
                card = scorecard(session, actor, period=period, by=by)
            walls.append(time.perf_counter() - started)
            cpus.append(time.process_time() - cpu)
        found[by], found[f"{by}_cpu"] = statistics.median(walls), statistics.median(cpus)
        cohort = sum(r.cohort for r in card.rows)
        print(
            f"  {period.text} by {by}: {found[by]:.2f} s (CPU {found[by + '_cpu']:.2f} s; "
            f"{', '.join(f'{w:.2f}' for w in walls)}), {len(card.rows)} rows, "
            f"cohort {cohort:.0f}"
        )
    engine.dispose()
    return found


# Run in a fresh process whose `fleet` is the one first on sys.path (argv: code folder, url,
# period): prints the rows and each scorecard's wall and CPU seconds as JSON.
TIMED = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from fleet.core.access import system_actor
from fleet.core.db import make_engine, session_scope
from fleet.pay import periods
from fleet.pay.scorecard import scorecard
assert __import__("fleet").__file__.startswith(sys.argv[1]), "fleet from elsewhere"
engine, period = make_engine(sys.argv[2]), periods.parse(sys.argv[3])
found = {}
for by in ("staff", "branch"):
    started, cpu = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        card = scorecard(session, system_actor("bench"), period=period, by=by)
    found[by] = [time.perf_counter() - started, time.process_time() - cpu]
    found[by + "_rows"] = card.model_dump(mode="json")["rows"]
print(json.dumps(found))
"""


def against(url: str, folders: dict[str, Path], period: str, rounds: int) -> dict[str, float]:
    """Times the scorecard by each code (name → folder holding its `fleet`) on `url`,
    alternately; prints and returns the medians (`<code> <by>`) and ratios (`<by> ratio`:
    the second code over the first)."""
    times: dict[str, list[list[float]]] = {}
    rows: dict[str, str] = {}
    names = list(folders)
    for turn in range(rounds):
        for name in names if turn % 2 == 0 else names[::-1]:
            child = subprocess.run(
                [sys.executable, "-c", TIMED, str(folders[name]), url, period],
                capture_output=True,
                text=True,
            )
            if child.returncode:
                raise SystemExit(f"{name}'s scorecard failed:\n{child.stderr}")
            found = json.loads(child.stdout.strip().splitlines()[-1])
            for by in ("staff", "branch"):
                times.setdefault(f"{name} {by}", []).append(found[by])
                made = json.dumps(found[f"{by}_rows"], sort_keys=True)
                if rows.setdefault(by, made) != made:
                    raise SystemExit(f"{name}'s rows by {by} differ from {names[0]}'s")
    result: dict[str, float] = {}
    for by in ("staff", "branch"):
        for name in names:
            walls = [w for w, _ in times[f"{name} {by}"]]
            cpus = [c for _, c in times[f"{name} {by}"]]
            result[f"{name} {by}"] = statistics.median(walls)
            result[f"{name} {by} cpu"] = statistics.median(cpus)
            print(
                f"  by {by:<7}{name:<8}{result[f'{name} {by}']:>7.2f} s  "
                f"(CPU {result[f'{name} {by} cpu']:.2f} s; {', '.join(f'{w:.2f}' for w in walls)})"
            )
        result[f"{by} ratio"] = result[f"{names[1]} {by}"] / result[f"{names[0]} {by}"]
        print(f"  by {by:<7}{names[1]} / {names[0]} = {result[f'{by} ratio']:.2f}")
    return result


def _postgres(url: str, args: argparse.Namespace, today: date) -> bool:
    """Whether PostgreSQL answers, with the database ready: kept (--keep, the same world)
    or made anew."""
    if args.keep:
        engine = make_engine(url)
        try:
            if _built(engine, _world(args, today)):
                return True
        finally:
            engine.dispose()
    return postgres_ready(url)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=150, help="days of rollups before today")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--smoke", action="store_true", help="a small run, for the tests")
    parser.add_argument("--pg-url", default=PG_URL + "_scorecard")
    parser.add_argument("--keep", type=Path, help="a folder keeping the built worlds")
    parser.add_argument("--rounds", type=int, default=1, help="times each scorecard is timed")
    parser.add_argument("--against", metavar="REV", help="a git revision to compare with")
    parser.add_argument("--period", help="the period timed (default: the last whole month)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.terminals, args.staff = 2_000, 40
    today = datetime.now(UTC).date()
    results: dict[str, dict[str, float]] = {}
    # REV's code, for the whole run (the SQLite file's folder goes after SQLite's turn).
    code = ExitStack()
    if args.against:
        folder = code.enter_context(tempfile.TemporaryDirectory(prefix="fleet-scorecard-code-"))
        args.against = checkouts(args.against, Path(folder))
    with code, tempfile.TemporaryDirectory(prefix="fleet-scorecard-bench-") as folder:
        if args.keep:  # a database per world, so that a smaller one does not replace it
            url = make_url(args.pg_url)
            world = _world(args, today).replace("-", "_")
            args.pg_url = url.set(database=f"{url.database}_{world}").render_as_string(False)
        print("sqlite:")
        kept = args.keep / f"scorecard-{_world(args, today)}.db" if args.keep else None
        if kept is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
        path = kept or Path(folder) / "bench.db"
        results["sqlite"] = run(f"sqlite:///{path}", args, today)
        if _postgres(args.pg_url, args, today):
            try:
                print("postgresql:")
                results["postgresql"] = run(args.pg_url, args, today)
            finally:
                if not args.keep:
                    drop_databases(args.pg_url)
    if args.against:
        return results
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
