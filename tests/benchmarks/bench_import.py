"""How many rows a second the page import (/ops/imports) previews and confirms, per kind, on
SQLite and on PostgreSQL side by side: what one page request holds the database for.

    .venv/bin/python -m tests.benchmarks.bench_import [--rows 2000] [--smoke] [--pg-url URL]
        [--against REV] [--rounds N]

Builds each database by the real migrations with 20 branches, writes a seeded CSV of `--rows`
new merchants (with coordinates, so no geocoder is asked) and one of as many terminals (half in
stock, half deployed at those merchants), and times each through the functions the page calls:
fleet.imports.staged's stage, preview (the import in a savepoint, undone) and confirm (the
import, committed), merchants first. PostgreSQL is skipped when it does not answer. `--smoke`
(run by the test suite) imports 50 rows of each.

`--against REV` compares the code with a git revision's: each round runs both (who goes first
alternates, so that a drift of the machine's load favours neither), each in a fresh Python
process importing its own `fleet` (REV's extracted by `git archive`) on a database of its own;
it prints the medians and the ratios (this checkout's rows a second over REV's).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.engine import make_url
from starlette.datastructures import UploadFile

from fleet.core.access import system_actor
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope, utcnow
from fleet.imports import staged
from fleet.inventory.models import Branch
from fleet.migrations import upgrade
from tests.benchmarks.bench_ingest import PG_URL, drop_databases, postgres_ready
from tests.benchmarks.revisions import checkouts

BRANCHES = 20
STEPS = ("merchants preview", "merchants confirm", "terminals preview", "terminals confirm")


def files_for(rows: int, seed: int) -> dict[str, bytes]:
    """The CSV files (Chinese headers, as users' are) of `rows` merchants and terminals."""
    rng = random.Random(seed)
    merchants = io.StringIO()
    out = csv.writer(merchants)
    out.writerow(["商户编号", "商户名称", "所属网点编号", "状态", "纬度", "经度", "联系电话"])
    for i in range(rows):
        lat, lng = 35.0 + rng.random() * 0.2, 118.3 + rng.random() * 0.2
        branch = f"B{i % BRANCHES:02d}"
        out.writerow([f"M{i:06d}", f"商户{i}", branch, "营业中", f"{lat:.6f}", f"{lng:.6f}", ""])
    terminals = io.StringIO()
    out = csv.writer(terminals)
    out.writerow(["终端号", "型号", "所属网点编号", "状态", "商户编号"])
    for i in range(rows):
        deployed = i % 2 == 1
        out.writerow(
            [
                f"SN{i:08d}",
                "T1",
                f"B{i % BRANCHES:02d}",
                "已布放" if deployed else "在库",
                f"M{i:06d}" if deployed else "",
            ]
        )
    return {"merchants": merchants.getvalue().encode(), "terminals": terminals.getvalue().encode()}


def build(url: str) -> None:
    """The schema by migration, and the branches the files refer to."""
    upgrade(url)
    engine = make_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            insert(Branch.__table__),  # type: ignore[attr-defined]
            [
                {
                    "code": f"B{b:02d}",
                    "name": f"网点{b}",
                    "level": "outlet",
                    "created_at": now,
                    "updated_at": now,
                }
                for b in range(BRANCHES)
            ],
        )
    engine.dispose()


def time_import(url: str, rows: int, seed: int) -> dict[str, float]:
    """Seconds of each step (STEPS) on `url`, built anew; checks each imported every row.
    The pages' row limit (FLEET_PAGE_IMPORT_MAX_ROWS, where the code has one) is lifted for
    the run: the benchmark measures what choosing it needs."""
    settings = get_settings()
    has_limit = hasattr(settings, "page_import_max_rows")
    limit = getattr(settings, "page_import_max_rows", None)
    if has_limit:
        settings.page_import_max_rows = max(limit or 0, rows)
    try:
        return _timed(url, rows, seed)
    finally:
        if has_limit:
            settings.page_import_max_rows = limit


def _timed(url: str, rows: int, seed: int) -> dict[str, float]:
    build(url)
    engine = make_engine(url)
    actor = system_actor("bench")
    found: dict[str, float] = {}
    for kind, data in files_for(rows, seed).items():
        upload = UploadFile(file=io.BytesIO(data), filename=f"{kind}.csv")
        token = staged.stage(actor, kind, upload)
        started, cpu = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            report = staged.preview(session, actor, token, str)
        found[f"{kind} preview"] = time.perf_counter() - started
        found[f"{kind} preview cpu"] = time.process_time() - cpu
        if report.created != rows or report.errors:
            raise SystemExit(f"{kind} preview: {report.to_dict()}")
        started, cpu = time.perf_counter(), time.process_time()
        with session_scope(engine) as session:
            counts, _ = staged.confirm(session, actor, token, str)
        found[f"{kind} confirm"] = time.perf_counter() - started
        found[f"{kind} confirm cpu"] = time.process_time() - cpu
        if counts["created"] != rows:
            raise SystemExit(f"{kind} confirm: {counts}")
    engine.dispose()
    return found


# Run in a fresh process whose `fleet` is the one first on sys.path (argv: code folder, url,
# rows, seed): prints each step's seconds as JSON.
TIMED = """
import json, sys
sys.path.insert(0, sys.argv[1])
assert __import__("fleet").__file__.startswith(sys.argv[1]), "fleet from elsewhere"
from tests.benchmarks.bench_import import time_import
print(json.dumps(time_import(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
"""


def _fresh(url: str) -> bool:
    """A new empty database at `url` (SQLite: its file removed); False when there is none."""
    if url.startswith("sqlite"):
        Path(make_url(url).database or "").unlink(missing_ok=True)
        return True
    return postgres_ready(url)


def _print(db: str, name: str, rows: int, seconds: list[list[float]]) -> dict[str, float]:
    """Rows a second of each step by its median wall time (CPU: this process's, which on
    SQLite includes the database's work, and is steadier on a loaded machine)."""
    found: dict[str, float] = {}
    for i, step in enumerate(STEPS):
        wall = statistics.median(s[i] for s in seconds)
        cpu = statistics.median(s[len(STEPS) + i] for s in seconds)
        found[step], found[f"{step} cpu"] = rows / wall, rows / cpu
        print(
            f"  {db:<11}{name:<5}{step:<19}{rows / wall:>8.0f} rows/s  ({wall:.2f} s; "
            f"CPU {cpu:.2f} s: {rows / cpu:.0f} rows/s)"
        )
    return found


def run(db: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    """Rows a second of each step on `url` (with --against: both codes', and their ratios)."""
    if not args.against:
        times: list[list[float]] = []
        for _ in range(args.rounds):
            if not _fresh(url):
                return {}
            found = time_import(url, args.rows, args.seed)
            times.append([found[step] for step in STEPS] + [found[f"{s} cpu"] for s in STEPS])
        return {k: v for k, v in _print(db, "", args.rows, times).items() if k in STEPS}
    names = list(args.against)
    per: dict[str, list[list[float]]] = {name: [] for name in names}
    numbers = [str(args.rows), str(args.seed)]
    for turn in range(args.rounds):
        for name in names if turn % 2 == 0 else names[::-1]:
            if not _fresh(url):
                return {}
            child = subprocess.run(
                [sys.executable, "-c", TIMED, str(args.against[name]), url, *numbers],
                capture_output=True,
                text=True,
                cwd=Path(__file__).resolve().parents[2],
            )
            if child.returncode:
                raise SystemExit(f"{name}'s import failed:\n{child.stderr}")
            found = json.loads(child.stdout.strip().splitlines()[-1])
            per[name].append([found[step] for step in STEPS] + [found[f"{s} cpu"] for s in STEPS])
    result: dict[str, float] = {}
    for name in names:
        for step, rate in _print(db, name, args.rows, per[name]).items():
            result[f"{name} {step}"] = rate
    for step in STEPS:
        ratio = result[f"new {step}"] / result[f"old {step}"]
        cpu = result[f"new {step} cpu"] / result[f"old {step} cpu"]
        result[f"{step} ratio"], result[f"{step} cpu ratio"] = ratio, cpu
        print(f"  {db:<11}new / old {step:<19}{ratio:>6.2f}x rows/s (CPU {cpu:.2f}x)")
    return result


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--pg-url", default=PG_URL + "_import")
    parser.add_argument("--against", metavar="REV", help="a git revision to compare with")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows = 50
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        if args.against:
            args.against = checkouts(args.against, Path(folder))
        print(f"page import of {args.rows} rows per kind, median of {args.rounds} round(s)")
        results["sqlite"] = run("sqlite", f"sqlite:///{folder}/bench.db", args)
        try:
            found = run("postgresql", args.pg_url, args)
        finally:
            drop_databases(args.pg_url)
        if found:
            results["postgresql"] = found
        else:
            print("  postgresql not reachable: skipped")
    return results


if __name__ == "__main__":
    main()
