"""Benchmark: `fleet ingest` + `fleet score` of a 10M-row feed over 100k terminals, against
the bare yardstick of polars reading the same file and grouping it by terminal and day.

    .venv/bin/python tests/benchmarks/bench_ingest.py            # full: 100k terminals, ~10M rows
    .venv/bin/python tests/benchmarks/bench_ingest.py --smoke    # seconds; CI runs this
    .venv/bin/python tests/benchmarks/bench_ingest.py --revenue-overhead --terminals 10000 \
        --days 40 [--rounds 5]    # what pricing revenue adds to ingest, side by side

Each phase runs in its own process, one after the other, so that its peak memory (max RSS)
is its own. Printed: seconds, rows per second, the ratio to the yardstick, and peak memory,
on SQLite and (when reachable) PostgreSQL, all in one run because these machines are noisy.

`--revenue-overhead` measures instead what revenue adds to ingest: the same feed ingested
into fresh copies of one fleet (the example fee schedule set, some merchants in the
preferential and non-profit classes) alternately with revenue and without it (the rollup
writer's `with_revenue=False`, which exists for this comparison only), several rounds on
SQLite and PostgreSQL, each ingest in its own process; printed: every time, the medians and
their ratio, and the median of the rounds' own ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fleet.feeds.formats import BLOCK_BYTES

AS_OF = date(2026, 11, 28)
PG_URL = os.environ.get(
    "FLEET_BENCH_PG_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/fleet_bench"
)


def build_fleet(url: str, terminals: int) -> None:
    """Schema by migration; branches, merchants, terminals and placements by bulk insert
    (the benchmark measures the feed, not the inventory import)."""
    from sqlalchemy import text

    from fleet.core.db import make_engine
    from fleet.feeds.synth import bench_terminals
    from fleet.migrations import upgrade

    upgrade(url)
    units = bench_terminals(terminals, as_of=AS_OF, seed=1)
    now = datetime.now(UTC)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO branch (id, code, name, level, created_at, updated_at) "
                "VALUES (1, 'B', 'bench', 'city', :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO merchant (id, code, name, category, opening_hours, status, branch_id, "
                "created_at, updated_at) VALUES (:id, :code, :code, :trade, '08:00-18:00', 'open', "
                "1, :now, :now)"
            ),
            [
                {"id": i + 1, "code": u.merchant_code, "trade": u.trade, "now": now}
                for i, u in enumerate(units)
            ],
        )
        starts = [
            datetime(u.deployed_on.year, u.deployed_on.month, u.deployed_on.day, tzinfo=UTC)
            - timedelta(hours=8)
            for u in units
        ]
        conn.execute(
            text(
                "INSERT INTO terminal (id, sn, model, branch_id, state, merchant_id, state_since, "
                "created_at, updated_at) VALUES (:id, :sn, 'T300', 1, 'deployed', :id, :start, "
                ":start, :start)"
            ),
            [
                {"id": i + 1, "sn": u.sn, "start": s}
                for i, (u, s) in enumerate(zip(units, starts, strict=True))
            ],
        )
        conn.execute(
            text(
                "INSERT INTO placement (terminal_id, merchant_id, started_at) VALUES (:id, :id, :s)"
            ),
            [{"id": i + 1, "s": s} for i, s in enumerate(starts)],
        )
    engine.dispose()


def set_fees(url: str, terminals: int) -> None:
    """The example fee schedule (`fleet fees example --apply`), and every tenth merchant
    preferential, every fiftieth non-profit, so that pricing joins on the class too."""
    from sqlmodel import select

    from fleet.core.access import system_actor
    from fleet.core.db import make_engine, session_scope
    from fleet.pay import fees
    from fleet.pay.models import MerchantClass, MerchantFeeClass

    engine = make_engine(url)
    with session_scope(engine) as session:
        fees.set_schedule(session, system_actor("bench"), fees.example_schedule(date(2021, 9, 30)))
        session.add_all(
            MerchantFeeClass(
                merchant_id=m,
                merchant_class=MerchantClass.non_profit
                if m % 50 == 0
                else MerchantClass.preferential,
            )
            for m in range(10, terminals + 1, 10)
        )
        assert session.execute(select(MerchantFeeClass)).first() is not None
    if engine.dialect.name == "sqlite":  # all in the file itself, so that a copy has it all
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def make_feed(path: Path, terminals: int, days: int) -> int:
    from fleet.feeds.synth import bench_terminals, generate_feed

    units = bench_terminals(terminals, as_of=AS_OF, seed=1)
    return generate_feed(path, units, as_of=AS_OF, days=days, seed=1).rows


# --- phases, each run in a child process ---------------------------------------------------


def phase_yardstick(feed: str) -> dict[str, object]:
    import polars as pl

    started = time.perf_counter()
    grouped = (
        pl.scan_csv(feed, schema_overrides={"txn_ref": pl.String, "amount": pl.Float64})
        .with_columns(day=pl.col("occurred_at").str.to_datetime().dt.date())
        .group_by("terminal_sn", "day")
        .agg(pl.len(), pl.col("amount").sum())
        .collect()
    )
    return {"seconds": time.perf_counter() - started, "groups": grouped.height}


def phase_ingest(feed: str, url: str) -> dict[str, object]:
    os.environ["FLEET_DATABASE_URL"] = url
    from fleet import wiring
    from fleet.core.access import system_actor
    from fleet.feeds import service

    wiring.plug_in()
    report = service.ingest_file(Path(feed), actor=system_actor("bench"))
    return {"seconds": report.seconds} | report.counts()


def phase_revenue(feed: str, url: str, with_revenue: str) -> dict[str, object]:
    """One ingest with revenue ("yes") or without it ("no"): its seconds, the CPU seconds of
    this process meanwhile (all of SQLite's work; PostgreSQL's server is not in them), and
    the fees it rolled up."""
    os.environ["FLEET_DATABASE_URL"] = url
    import resource

    from sqlalchemy import text

    from fleet import wiring
    from fleet.core.access import system_actor
    from fleet.core.db import make_engine
    from fleet.feeds import service

    wiring.plug_in()

    def cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_SELF)
        return used.ru_utime + used.ru_stime

    before = cpu()
    report = service.ingest_file(
        Path(feed), actor=system_actor("bench"), with_revenue=with_revenue == "yes"
    )
    spent = cpu() - before
    engine = make_engine(url)
    with engine.connect() as conn:
        fee = conn.execute(
            text(
                "SELECT coalesce(sum(transfer_fee_fen + card_payment_fee_fen "
                "+ bill_payment_fee_fen), 0) FROM terminal_day"
            )
        ).scalar_one()
    engine.dispose()
    return {"seconds": report.seconds, "cpu": spent, "fee_fen": int(fee)} | report.counts()


def phase_floor(source: str, url: str, block_rows: str) -> dict[str, object]:
    """SQLite's own cost of storing what ingest stored, with no reading, checking or Python
    per row: the accepted rows go block by block (ingest's block size and order) from a
    temporary table into an empty `txn` of the same schema, each block's terminal-day rollup
    is upserted, then one commit. The best any loader could do with this schema."""
    from fleet.core.config import get_settings
    from fleet.core.db import make_engine
    from fleet.feeds import store

    os.environ["FLEET_DATABASE_URL"] = url
    columns = ", ".join(store.TXN_COLUMNS)
    # The floor stores no prices: its rollup counts, and earns nothing.
    rollup = store.rollup_sql(get_settings().financial_types, "stage WHERE true", priced=False)
    raw = make_engine(url).raw_connection()  # fleet's own connection settings (WAL, sync)
    db = raw.driver_connection
    db.isolation_level = None
    db.execute(f"PRAGMA cache_size = -{store.SqliteStore.INGEST_CACHE_KIB}")
    db.execute("ATTACH DATABASE ? AS src", (source,))
    last = db.execute("SELECT coalesce(max(id), 0) FROM src.txn").fetchone()[0]
    step, spent = int(block_rows), 0.0
    db.execute("BEGIN")
    for start in range(0, last, step):
        db.execute("DROP TABLE IF EXISTS temp.stage")
        db.execute(
            f"CREATE TEMP TABLE stage AS SELECT {columns} FROM src.txn "
            "WHERE id > ? AND id <= ? ORDER BY id",
            (start, start + step),
        )
        started = time.perf_counter()
        db.execute(
            f"INSERT INTO txn ({columns}) SELECT {columns} FROM stage WHERE true"
            + store.TXN_CONFLICT
        )
        db.execute(rollup)
        spent += time.perf_counter() - started
    started = time.perf_counter()
    db.execute("COMMIT")
    spent += time.perf_counter() - started
    stored = db.execute("SELECT count(*) FROM txn").fetchone()[0]
    raw.close()
    return {"seconds": spent, "stored": stored}


def phase_pg_floor(source: str, url: str, block_rows: str) -> dict[str, object]:
    """PostgreSQL's own cost of storing what ingest stored, with no reading, checking or
    Python per row: the accepted rows of `source` and each block's terminal-day rollup are
    read out first (untimed; ingest's block size and order; COPY binary), then each block is
    copied straight into the empty `txn` of `url` (same schema, same indexes) and its rollup
    upserted into `terminal_day` in key order, then one commit."""
    import psycopg
    from sqlalchemy.engine import make_url

    from fleet.core.access import system_actor
    from fleet.core.config import get_settings
    from fleet.core.db import make_engine
    from fleet.feeds import revenue, service, store
    from fleet.migrations import load_models

    os.environ["FLEET_DATABASE_URL"] = url
    load_models()
    run_id = service._start_run(
        make_engine(url), system_actor("bench"), kind="file", source="floor"
    )
    kept = ", ".join(store.TXN_COLUMNS[:-1])
    columns = ", ".join(store.TXN_COLUMNS)
    # The rollup's counts and sums only: the floor stores rows unpriced (revenue columns keep
    # their defaults), as the SQLite floor does.
    days = ", ".join(c for c in store.DAY_COLUMNS if c not in revenue.REVENUE_COLUMNS)
    step = int(block_rows)
    fin = ", ".join(f"'{t}'" for t in get_settings().financial_types)
    financial = f"(txn_type IN ({fin}) AND status = 'success')"
    # terminal_day's own types, which COPY binary needs: integer counts, a bigint sum.
    sums = (
        f"SELECT terminal_id, day, sum(CASE WHEN {financial} THEN 1 ELSE 0 END)::int, "
        f"sum(CASE WHEN {financial} THEN amount_fen ELSE 0 END)::bigint, "
        f"sum(CASE WHEN {financial} THEN 0 ELSE 1 END)::int, "
        "sum(CASE WHEN status = 'failed' THEN 1 ELSE 0 END)::int FROM txn "
        "WHERE id > %(start)s AND id <= %(end)s GROUP BY 1, 2 ORDER BY 1, 2"
    )

    def conninfo(value: str) -> str:
        return make_url(value).set(drivername="postgresql").render_as_string(hide_password=False)

    def read(cursor: psycopg.Cursor[Any], query: str) -> bytes:
        with cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            return b"".join(bytes(chunk) for chunk in copy)

    blocks: list[tuple[bytes, bytes]] = []
    with psycopg.connect(conninfo(source)) as src, src.cursor() as cursor:
        last = cursor.execute("SELECT coalesce(max(id), 0) FROM txn").fetchone()[0]  # type: ignore[index]
        for start in range(0, last, step):
            bounds = {"start": start, "end": start + step}
            rows = read(
                cursor,
                f"SELECT {kept}, {run_id} FROM txn "
                f"WHERE id > {start} AND id <= {start + step} ORDER BY id",
            )
            blocks.append((rows, read(cursor, sums % bounds)))
    with psycopg.connect(conninfo(url)) as db, db.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE day_stage AS SELECT {days} FROM terminal_day WITH NO DATA"
        )
        started = time.perf_counter()
        for rows, sums in blocks:
            with cursor.copy(f"COPY txn ({columns}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(rows)
            cursor.execute("TRUNCATE day_stage")
            with cursor.copy(f"COPY day_stage ({days}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(sums)
            cursor.execute(
                f"INSERT INTO terminal_day ({days}) SELECT {days} FROM day_stage "
                "ORDER BY terminal_id, day" + store.UPSERT_DAY_TAIL
            )
        db.commit()
        spent = time.perf_counter() - started
        stored = cursor.execute("SELECT count(*) FROM txn").fetchone()[0]  # type: ignore[index]
    return {"seconds": spent, "stored": stored}


def phase_score(url: str) -> dict[str, object]:
    os.environ["FLEET_DATABASE_URL"] = url
    from fleet import wiring
    from fleet.core.db import session_scope
    from fleet.scoring import service as scoring

    wiring.plug_in()
    started = time.perf_counter()
    with session_scope() as session:
        summary = scoring.score(session, as_of=AS_OF)
    return {"seconds": time.perf_counter() - started, "terminals": summary.terminals}


def run_phase(*args: str) -> dict[str, object]:
    """Runs one phase in a child process, which reports its own peak memory."""
    child = subprocess.run(
        [sys.executable, __file__, "--phase", *args], stdout=subprocess.PIPE, text=True, check=False
    )
    if child.returncode:
        raise SystemExit(f"phase {args[0]} failed")
    result: dict[str, object] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def _child_main(args: list[str]) -> None:
    import resource

    name, *rest = args
    phases = {
        "yardstick": phase_yardstick,
        "ingest": phase_ingest,
        "revenue": phase_revenue,
        "floor": phase_floor,
        "pg_floor": phase_pg_floor,
        "score": phase_score,
    }
    result = phases[name](*rest)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _on_server(url: str, *statements: str) -> bool:
    """Runs statements naming the url's database (`{db}`) on its server's `postgres`
    database; False when the server does not answer or refuses."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    try:
        with psycopg.connect(
            admin.render_as_string(hide_password=False), autocommit=True, connect_timeout=3
        ) as conn:
            for statement in statements:
                conn.execute(statement.format(db=parsed.database))
    except psycopg.Error:
        return False
    return True


def postgres_ready(url: str) -> bool:
    """Makes the url's database anew; False when PostgreSQL is not there."""
    return _on_server(url, 'DROP DATABASE IF EXISTS "{db}"', 'CREATE DATABASE "{db}"')


def drop_databases(*urls: str) -> None:
    """Drops the run's PostgreSQL databases, if they exist and the server answers."""
    for url in urls:
        _on_server(url, 'DROP DATABASE IF EXISTS "{db}"')


def revenue_overhead(
    feed: Path, folder: Path, terminals: int, rounds: int, pg_url: str | None
) -> dict[str, dict[str, object]]:
    """Ingests `feed` into fresh copies of one fleet, with revenue and without it in turn
    (who goes first alternates by round, so that a drift of the machine's load favours
    neither), on SQLite and, given `pg_url`, PostgreSQL (copies by CREATE DATABASE ...
    TEMPLATE). Returns per database the times, their medians and ratios."""
    from sqlalchemy.engine import make_url

    targets: list[tuple[str, str]] = [("sqlite", f"sqlite:///{folder / 'template.db'}")]
    if pg_url is not None:
        targets.append(("postgresql", pg_url))
    results: dict[str, dict[str, object]] = {}
    for name, template in targets:
        build_fleet(template, terminals)
        set_fees(template, terminals)
        if name == "sqlite":
            copy = f"sqlite:///{folder / 'run.db'}"
        else:
            base = make_url(template)
            copy = base.set(database=f"{base.database}_run").render_as_string(hide_password=False)
        times: dict[str, list[float]] = {"yes": [], "no": []}
        cpus: dict[str, list[float]] = {"yes": [], "no": []}
        fees: dict[str, set[int]] = {"yes": set(), "no": set()}
        for n in range(rounds):
            for mode in ("yes", "no") if n % 2 == 0 else ("no", "yes"):
                if name == "sqlite":  # the template has no WAL left (set_fees checkpointed it)
                    for leftover in ("run.db", "run.db-wal", "run.db-shm"):
                        (folder / leftover).unlink(missing_ok=True)
                    shutil.copyfile(folder / "template.db", folder / "run.db")
                else:
                    _on_server(
                        copy,
                        'DROP DATABASE IF EXISTS "{db}"',
                        f'CREATE DATABASE "{{db}}" TEMPLATE "{make_url(template).database}"',
                    )
                result = run_phase("revenue", str(feed), copy, mode)
                times[mode].append(float(result["seconds"]))  # type: ignore[arg-type]
                cpus[mode].append(float(result["cpu"]))  # type: ignore[arg-type]
                fees[mode].add(int(result["fee_fen"]))  # type: ignore[call-overload]
                print(
                    f"  {name} round {n + 1} {'with' if mode == 'yes' else 'without'} revenue: "
                    f"{float(result['seconds']):.2f} s "  # type: ignore[arg-type]
                    f"({float(result['cpu']):.2f} s CPU here)",  # type: ignore[arg-type]
                    flush=True,
                )
        if name == "postgresql":
            drop_databases(copy)
        with_, without = statistics.median(times["yes"]), statistics.median(times["no"])
        paired = statistics.median(a / b for a, b in zip(times["yes"], times["no"], strict=True))
        cpu_with, cpu_without = statistics.median(cpus["yes"]), statistics.median(cpus["no"])
        results[name] = {
            "with": times["yes"],
            "without": times["no"],
            "ratio": with_ / without,
            "paired_ratio": paired,
            "cpu_with": cpus["yes"],
            "cpu_without": cpus["no"],
            "cpu_ratio": cpu_with / cpu_without,
            "fee_fen": sorted(fees["yes"]),
            "fee_fen_without": sorted(fees["no"]),
        }
        print(
            f"{name}: median {with_:.2f} s with revenue, {without:.2f} s without: "
            f"with / without = {with_ / without:.3f} (median of the rounds' ratios {paired:.3f}); "
            f"CPU of the ingesting process {cpu_with:.2f} s against {cpu_without:.2f} s: "
            f"with / without = {cpu_with / cpu_without:.3f}; "
            f"fees rolled up {sorted(fees['yes'])} fen with, {sorted(fees['no'])} without",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> dict[str, dict[str, object]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2,000 terminals, 10 days")
    parser.add_argument("--terminals", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=41, help="41 days of 100k terminals ≈ 10M")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL's phases only")
    parser.add_argument("--pg-url", default=PG_URL, help="a database the run may drop and make")
    parser.add_argument(
        "--revenue-overhead",
        action="store_true",
        help="ingest with and without revenue in turn, instead of the phases",
    )
    parser.add_argument("--rounds", type=int, default=5, help="of --revenue-overhead")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        _child_main(args.phase)
        return {}
    terminals, days = (2_000, 10) if args.smoke else (args.terminals, args.days)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as folder:
        feed = Path(folder) / "feed.csv"
        started = time.perf_counter()
        rows = make_feed(feed, terminals, days)
        print(
            f"feed: {rows:,} rows over {terminals:,} terminals, {days} days, "
            f"{feed.stat().st_size / 1e6:.0f} MB (made in {time.perf_counter() - started:.1f} s)"
        )
        if args.revenue_overhead:
            ready = not args.no_postgres and postgres_ready(args.pg_url)
            try:
                return revenue_overhead(
                    feed,
                    Path(folder),
                    terminals,
                    1 if args.smoke else args.rounds,
                    args.pg_url if ready else None,
                )
            finally:
                if ready:
                    drop_databases(args.pg_url)
        results["yardstick"] = run_phase("yardstick", str(feed))
        targets = [] if args.no_sqlite else [("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}")]
        pg_url = args.pg_url
        pg_floor_url = pg_url + "_floor"  # a second database: the floor's empty txn
        if not args.no_postgres and postgres_ready(pg_url):
            targets.append(("postgresql", pg_url))
        block_rows = round(BLOCK_BYTES / (feed.stat().st_size / rows))
        for name, url in targets:
            build_fleet(url, terminals)
            results[f"{name} ingest"] = run_phase("ingest", str(feed), url)
            results[f"{name} score"] = run_phase("score", url)
            results[f"{name} re-ingest"] = run_phase("ingest", str(feed), url)
            if name == "sqlite":
                floor_url = f"sqlite:///{Path(folder) / 'floor.db'}"
                build_fleet(floor_url, terminals)
                results["sqlite floor"] = run_phase(
                    "floor", str(Path(folder) / "bench.db"), floor_url, str(block_rows)
                )
            elif postgres_ready(pg_floor_url):
                build_fleet(pg_floor_url, terminals)
                results["postgresql floor"] = run_phase(
                    "pg_floor", pg_url, pg_floor_url, str(block_rows)
                )
    report(results, rows)
    return results


def report(results: dict[str, dict[str, object]], rows: int) -> None:
    base = float(results["yardstick"]["seconds"])  # type: ignore[arg-type]
    print(f"\n{'phase':<22}{'seconds':>9}{'rows/s':>13}{'× yardstick':>13}{'peak MB':>9}")
    for phase, result in results.items():
        seconds = float(result["seconds"])  # type: ignore[arg-type]
        print(
            f"{phase:<22}{seconds:>9.2f}{rows / seconds:>13,.0f}{seconds / base:>13.1f}"
            f"{float(result['peak_mb']):>9.0f}"
        )  # type: ignore[arg-type]
    for db in ("sqlite", "postgresql"):
        if f"{db} ingest" in results:
            total = sum(
                float(results[f"{db} {p}"]["seconds"])  # type: ignore[arg-type]
                for p in ("ingest", "score")
            )
            print(f"{db}: ingest + score = {total:.1f} s = {total / base:.1f}× the yardstick")
    if "sqlite floor" in results:
        floor = sum(
            float(results[f"sqlite {p}"]["seconds"])  # type: ignore[arg-type]
            for p in ("floor", "score")
        )
        print(
            f"sqlite floor: storing the rows alone (no Python per row) + score = {floor:.1f} s "
            f"= {floor / base:.1f}× the yardstick"
        )
    for db in ("sqlite", "postgresql"):
        if f"{db} floor" in results:
            ingest = float(results[f"{db} ingest"]["seconds"])  # type: ignore[arg-type]
            floor = float(results[f"{db} floor"]["seconds"])  # type: ignore[arg-type]
            print(f"{db}: ingest / floor = {ingest / floor:.2f}")


if __name__ == "__main__":
    main()
