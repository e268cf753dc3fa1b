"""Benchmark: `fleet serve` under 200 concurrent users (field staff, branch operations,
marketing, admins, map viewers) for 60 s on loopback, on PostgreSQL holding 100,000 terminals
and a 10-million-row transaction history. Target: no errors, p99 under 300 ms for list and
detail pages.

    .venv/bin/python tests/benchmarks/bench_load.py             # full; builds fleet_load once
    .venv/bin/python tests/benchmarks/bench_load.py --reset     # rebuild the database first
    .venv/bin/python tests/benchmarks/bench_load.py --smoke     # tiny world on SQLite, seconds

The world (tests/benchmarks/load_world.py) is built once and marked; a rerun with the same
sizes starts at once. Each run starts `fleet serve` as a real process (uvicorn, `--workers`),
signs in the benchmark's accounts, re-plans the field outlets' day through the API (so there
are pending visits to record outcomes on), then runs locust headless (FastHttpUser, in its own
process; see load_users.py) and prints per class of endpoint: requests, throughput,
p50/p95/p99, errors, and the CPU that the server, PostgreSQL and the load generator used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as a script: make `tests` and `fleet` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks import load_world as world

PG_URL = os.environ.get(
    "FLEET_BENCH_LOAD_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/fleet_load"
)
TARGET_P99_MS = 300.0
TARGET_CLASSES = ("list", "detail")
RAMP_SECONDS = 20  # 10 people a second sign on, as a morning does, not 200 in one instant
CLASSES = ("list", "detail", "report", "write", "map")
# Simulated people by role, out of --users (200): field staff are the many, maps the heavy.
MIX = {"field": 0.50, "ops": 0.25, "marketing": 0.10, "admin": 0.05, "map": 0.10}
HERE = Path(__file__).resolve().parent


# --- the database -------------------------------------------------------------------------------


def recreate_postgres(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def prepare(url: str, size: world.WorldSize, *, reset: bool) -> date:
    """Builds the world unless the database already holds this one (its marker says so);
    the field day to work on."""
    from fleet.core.db import make_engine

    marker = None
    if not reset:
        try:
            engine = make_engine(url)
            marker = world.read_marker(engine)
            engine.dispose()
        except Exception:  # no such database yet
            marker = None
    if marker == size.key():
        from fleet.migrations import upgrade

        upgrade(url)  # as `fleet db upgrade` on start: new migrations since it was built
        print(f"world: already built ({marker})")
    else:
        print(f"world: building {size.key()}")
        if url.startswith("postgresql"):
            recreate_postgres(url)
        else:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        world.build(url, size)
    engine = make_engine(url)
    # Outcomes use up a day's visits: the next day is planned when too few are left.
    day = world.ensure_plans(engine, size, min_pending=size.pending_per_run)
    engine.dispose()
    return day


# --- the server -------------------------------------------------------------------------------


def start_server(url: str, port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    fleet = Path(sys.executable).with_name("fleet")
    env = os.environ | {"FLEET_DATABASE_URL": url, "FLEET_ENVIRONMENT": "development"}
    # Every simulated person signs in from 127.0.0.1: lift the per-address sign-in limit.
    env["FLEET_LOGIN_RATE_PER_IP"] = "100000"
    server = subprocess.Popen(
        [str(fleet), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline, last = time.monotonic() + 60, ""
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log.read_text(errors="replace").splitlines()[-15:]
            raise SystemExit(f"fleet serve exited with {server.returncode}:\n" + "\n".join(tail))
        try:
            ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
            if ready.status_code == 200:
                return server
            last = ready.text[:300]
        except httpx.HTTPError as error:
            last = str(error)
        time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"fleet serve did not become ready in 60 s: {last}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


# --- what the simulated users need -------------------------------------------------------------


def sign_in(client: httpx.Client, username: str) -> str:
    answer = client.post(
        "/api/v1/auth/token", data={"username": username, "password": world.PASSWORD}
    )
    if answer.status_code != 200:
        raise SystemExit(f"sign-in of {username}: HTTP {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["access_token"])


def branch_facts(url: str, codes: set[str]) -> dict[str, tuple[int, list[int]]]:
    """Branch code -> (id, up to 400 sampled terminal ids of its subtree)."""
    from sqlalchemy import select
    from sqlmodel import Session

    from fleet.core.db import make_engine
    from fleet.inventory.models import Branch, Terminal
    from fleet.inventory.scope import subtree_ids

    engine = make_engine(url)
    facts = {}
    rng = random.Random(world.SEED)
    with Session(engine) as session:
        for code in codes:
            branch_id = session.execute(select(Branch.id).where(Branch.code == code)).scalar_one()
            ids = list(
                session.execute(
                    select(Terminal.id).where(
                        Terminal.branch_id.in_(subtree_ids(session, branch_id))
                    )
                ).scalars()
            )
            facts[code] = (branch_id, rng.sample(ids, min(400, len(ids))))
    engine.dispose()
    return facts


def market_ids(url: str) -> list[int]:
    from sqlalchemy import select

    from fleet.core.db import make_engine
    from fleet.inventory.models import Market

    engine = make_engine(url)
    with engine.connect() as conn:
        ids = list(conn.execute(select(Market.id)).scalars())
    engine.dispose()
    return ids


def accounts_config(
    client: httpx.Client, url: str, size: world.WorldSize, day: date
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Signs every account in and gathers each account's branch, terminals and the visits
    of the day still waiting for an outcome."""
    from fleet.core.db import make_engine
    from fleet.demo.org import CITY_CODE

    engine = make_engine(url)
    accounts = world.accounts_for(engine, size)
    engine.dispose()
    started = time.perf_counter()
    tokens = {
        u: sign_in(client, u)
        for u in [*accounts.field, *accounts.ops, *accounts.marketing, *accounts.admin]
    }
    signed_in = time.perf_counter() - started
    county_ops = {county: user for user, county in accounts.ops.items()}
    outlets = sorted(set(accounts.field.values()))
    facts = branch_facts(url, {*outlets, *accounts.ops.values(), CITY_CODE})
    markets = market_ids(url)

    def entry(user: str, code: str) -> dict[str, Any]:
        branch_id, terminals = facts[code]
        return {"username": user, "token": tokens[user], "branch_code": code} | {
            "branch_id": branch_id,
            "terminals": terminals,
            "markets": markets,
        }

    field = []
    for user, outlet in accounts.field.items():
        mine = client.get(
            "/api/v1/visits/mine",
            params={"date": str(day)},
            headers={"Authorization": f"Bearer {tokens[user]}"},
        )
        mine.raise_for_status()
        pending = [v["visit_id"] for v in mine.json() if v["status"] == "planned"]
        field.append(entry(user, outlet) | {"pending_visits": pending})
    config = {
        "field": field,
        "ops": [entry(u, c) for u, c in accounts.ops.items()],
        "marketing": [entry(u, CITY_CODE) for u in accounts.marketing],
        "admin": [entry(u, CITY_CODE) for u in accounts.admin],
        # Map viewers: branch operations looking at one of their outlets, or their county.
        "map": [entry(county_ops[c], o) for o, c in accounts.outlets.items()]
        + [entry(u, c) for u, c in accounts.ops.items()],
    }
    setup = {
        "accounts": len(tokens),
        "sign_in_s": signed_in,
        "pending_visits": sum(len(f["pending_visits"]) for f in field),
    }
    return config, setup


# --- the load -----------------------------------------------------------------------------------


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by a process and its children (uvicorn's workers)."""
    import psutil  # comes with locust

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _postgres_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving `database`, by pid."""
    import psutil

    found = {}
    for proc in psutil.process_iter(["cmdline", "cpu_times"]):
        command = " ".join(proc.info["cmdline"] or [])
        if command.startswith("postgres:") and f" {database} " in command:
            times = proc.info["cpu_times"]
            found[proc.pid] = times.user + times.system
    return found


def _machine_busy() -> tuple[float, float]:
    import psutil

    times = psutil.cpu_times()
    return times.user + times.system + times.nice + times.irq + times.softirq, sum(times)


def run_load(
    host: str,
    config: dict[str, Any],
    server_pid: int,
    *,
    database: str,
    users: int,
    seconds: int,
    ramp: int,
    folder: Path,
) -> dict[str, Any]:
    """Runs locust headless in its own process; its samples and everyone's CPU."""
    config_path, samples_path = folder / "load.json", folder / "samples.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    # People sign on over RAMP_SECONDS; then all of them work for `seconds`, which is what is
    # measured (the ramp's requests are reported on their own).
    spawn_rate = max(1, users // ramp) if ramp else users
    command = [
        sys.executable, "-m", "locust", "-f", str(HERE / "load_users.py"), "--headless",
        "--users", str(users), "--spawn-rate", str(spawn_rate),
        "--run-time", f"{seconds + ramp}s",
        "--host", host, "--only-summary", "--stop-timeout", "5", "--loglevel", "WARNING",
        "--exit-code-on-error", "0",
    ]  # fmt: skip
    env = os.environ | {"FLEET_LOAD_CONFIG": str(config_path)}
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the generator is counted in after
    before = (_tree_cpu(server_pid), _postgres_cpu(database), _machine_busy(), os.getloadavg())
    started = time.perf_counter()
    generator = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = generator.communicate(timeout=seconds + 120)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    generator_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    if generator.returncode:
        print(output.decode(errors="replace")[-3000:])
        raise SystemExit(f"locust exited with {generator.returncode}")
    busy, total = _machine_busy()
    cores = os.cpu_count() or 1
    return {
        "samples": json.loads(samples_path.read_text(encoding="utf-8")),
        "seconds": seconds,
        "wall_s": wall,
        "server_cpu_s": _tree_cpu(server_pid) - before[0],
        "postgres_cpu_s": sum(
            cpu - before[1].get(pid, 0.0) for pid, cpu in _postgres_cpu(database).items()
        ),
        "generator_cpu_s": generator_cpu,
        "machine_busy": (busy - before[2][0]) / max(total - before[2][1], 1e-9),
        "cores": cores,
        "load_before": before[3],
        "load_after": os.getloadavg(),
    }


def percentile(sorted_ms: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return 0.0
    rank = max(1, min(len(sorted_ms), round(q / 100 * len(sorted_ms) + 0.5)))
    return sorted_ms[rank - 1]


def after_ramp(samples: list[list[Any]], ramp: float) -> tuple[list[list[Any]], list[list[Any]]]:
    """(the samples once everyone is signed on, those of the ramp): by when each ended."""
    steady = [row for row in samples if len(row) < 5 or row[4] >= ramp]
    ramping = [row for row in samples if len(row) >= 5 and row[4] < ramp]
    return steady, ramping


def summarise(samples: list[list[Any]], seconds: float) -> dict[str, dict[str, Any]]:
    """Per class of endpoint and per endpoint: requests, per second, p50/p95/p99/max, errors."""
    groups: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for name, ms, _size, failed, *_when in samples:
        kind = name.split(":", 1)[0]
        for key in (f"class {kind}", name, "all"):
            groups[key].append((float(ms), int(failed)))
    table = {}
    for key, rows in groups.items():
        times = sorted(ms for ms, _ in rows)
        table[key] = {
            "requests": len(rows),
            "rps": len(rows) / seconds,
            "p50": percentile(times, 50),
            "p95": percentile(times, 95),
            "p99": percentile(times, 99),
            "max": times[-1],
            "errors": sum(f for _, f in rows),
        }
    return table


def tail_over_time(
    samples: list[list[Any]], seconds: float, *, start: float = 0.0, width: float = 10.0
) -> list[float]:
    """p99 of the list and detail requests in each `width`-second stretch of the run: shows
    whether the slow ones cluster (the start, when everyone signs on at once) or spread."""
    windows: dict[int, list[float]] = defaultdict(list)
    for name, ms, _size, _failed, *when in samples:
        if when and name.split(":", 1)[0] in TARGET_CLASSES:
            k = int((when[0] - start) // width)
            windows[max(0, min(k, int(seconds // width) - 1))].append(float(ms))
    return [percentile(sorted(windows[k]), 99) for k in sorted(windows)]


def report(result: dict[str, Any], setup: dict[str, Any], workers: int, users: int) -> bool:
    table = result["table"]
    print(
        f"\n{users} users for {result['seconds']} s against {workers} worker(s); "
        f"load average before {result['load_before'][0]:.2f}, after {result['load_after'][0]:.2f}"
    )
    print(f"{'':<36}{'requests':>9}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'err':>6}")
    classes = [f"class {c}" for c in CLASSES if f"class {c}" in table]
    endpoints = sorted(k for k in table if not k.startswith("class ") and k != "all")
    for key in [*classes, "all", *endpoints]:
        row = table[key]
        label = key if key.startswith("class ") or key == "all" else f"  {key}"
        print(
            f"{label[:36]:<36}{row['requests']:>9}{row['rps']:>8.1f}{row['p50']:>8.0f}"
            f"{row['p95']:>8.0f}{row['p99']:>8.0f}{row['max']:>8.0f}{row['errors']:>6}"
        )
    busy = result["seconds"] * result["cores"]
    print(
        f"CPU over the run (of {result['cores']} cores, {result['machine_busy']:.0%} busy in all): "
        f"server {result['server_cpu_s']:.1f} s, PostgreSQL {result['postgres_cpu_s']:.1f} s, "
        f"load generator {result['generator_cpu_s']:.1f} s "
        f"({result['generator_cpu_s'] / busy:.1%} of the machine)"
    )
    print(
        f"setup: {setup['accounts']} accounts signed in in {setup['sign_in_s']:.1f} s; "
        f"{setup['pending_visits']} visits of the day wait for an outcome"
    )
    if result.get("ramp"):
        ramp = result["ramp"]
        print(
            f"while {users} people signed on (not in the table): "
            f"{ramp['requests']} requests, p50 {ramp['p50']:.0f} ms, p99 {ramp['p99']:.0f} ms, "
            f"{ramp['errors']} errors"
        )
    windows = " / ".join(f"{ms:.0f}" for ms in result.get("tail", []))
    print(f"p99 of list and detail, each 10 s of the run in turn (ms): {windows}")
    errors = table["all"]["errors"]
    slow = [c for c in TARGET_CLASSES if table.get(f"class {c}", {}).get("p99", 0) >= TARGET_P99_MS]
    met = errors == 0 and not slow
    p99s = ", ".join(f"{c} {table[f'class {c}']['p99']:.0f} ms" for c in TARGET_CLASSES)
    print(
        f"verdict: {'MET' if met else 'NOT MET'} (target: 0 errors, p99 < {TARGET_P99_MS:.0f} ms "
        f"for list and detail): {errors} errors, p99 {p99s}"
    )
    return met


def server_errors(log: Path) -> list[str]:
    """The server's ERROR lines, each as its message and the last line of its traceback."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if '"level": "ERROR"' in line:
            entry = json.loads(line)
            last = (entry.get("exc") or "").strip().splitlines()[-1:] or [""]
            found.append(f"{entry.get('message', '').strip()} {last[0]}".strip())
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny world, 10 users for 5 s")
    parser.add_argument("--reset", action="store_true", help="rebuild the database first")
    parser.add_argument("--db", help="database URL (default: fleet_load; smoke: a temp SQLite)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers: one per core")
    parser.add_argument("--think", default="2,8", help="seconds between a person's clicks")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    size = world.SMOKE if args.smoke else world.FULL
    users, seconds = (10, 5) if args.smoke else (args.users, args.seconds)
    workers = 1 if args.smoke else args.workers
    ramp = 0 if args.smoke else RAMP_SECONDS
    think = [float(x) for x in args.think.split(",")]
    # A map is explored in the browser (clusters, layers, popups) before reloading.
    map_think = [30.0, 90.0]
    if args.smoke:  # brisk, so that every kind of request comes up within the 5 s
        think, map_think = [0.2, 1.0], [1.0, 3.0]
    with tempfile.TemporaryDirectory(prefix="fleet-bench-load-") as tmp:
        folder = Path(tmp)
        url = args.db or (f"sqlite:///{folder / 'load.db'}" if args.smoke else PG_URL)
        started = time.perf_counter()
        day = prepare(url, size, reset=args.reset)
        print(f"world ready in {time.perf_counter() - started:.1f} s")
        host = f"http://127.0.0.1:{args.port}"
        server = start_server(url, args.port, workers, folder / "server.log")
        try:
            with httpx.Client(base_url=host, timeout=60) as client:
                accounts, setup = accounts_config(client, url, size, day)
            config = {
                "accounts": accounts,
                "mix": {role: max(1, round(share * 100)) for role, share in MIX.items()},
                "think": think,
                "map_think": map_think,
                "plan_date": str(day),
                "samples": str(folder / "samples.json"),
            }
            print(f"uptime: load average {os.getloadavg()[0]:.2f}; running {users} users")
            database = url.rsplit("/", 1)[-1]  # PostgreSQL's database name (SQLite: none)
            result = run_load(
                host, config, server.pid, database=database, users=users, seconds=seconds,
                ramp=ramp, folder=folder,
            )  # fmt: skip
        finally:
            stop_server(server)
            errors = server_errors(folder / "server.log")
        steady, ramping = after_ramp(result.pop("samples"), ramp)
        result["table"] = summarise(steady, seconds)
        result["tail"] = tail_over_time(steady, seconds, start=ramp)
        result["ramp"] = summarise(ramping, ramp).get("all") if ramping else None
        result["server_errors"] = errors[:5]
        result["met"] = report(result, setup, workers, users)
        for line in errors[:5]:
            print(f"server error: {line[:300]}")
    return result


if __name__ == "__main__":
    main()
