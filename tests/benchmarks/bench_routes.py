"""Benchmark: a field day of 300 candidates within 30 km of a branch and 8 field staff.

    .venv/bin/python -m tests.benchmarks.bench_routes            # full: 300 candidates, 8 staff
    .venv/bin/python -m tests.benchmarks.bench_routes --smoke    # seconds; the suite runs this
    # a big outlet: its plan with the capacity cap and, as before the cap, with every candidate
    .venv/bin/python -m tests.benchmarks.bench_routes --candidates 5000 --uncapped --reference 0

Builds a temporary SQLite database (the real migrations) through the services: a county
branch, its field staff, merchants clustered in towns and markets and scattered between
them with mixed opening hours, their units with a year of rollups, scored. Then:

1. `fleet.visits.plan.plan_day` end to end with the default budget (candidates, travel
   times, PyVRP, schedule, validation, storing) in a process of its own: wall time, peak
   memory (the process's max RSS), visits, prize, distance, how deep in the priority order
   the routes reached; with `--uncapped`, first the same day with every candidate offered to
   the solver (FLEET_REVISIT_CAP_FACTOR=0, as before the cap), in another process;
2. a reference solve of the very same routing problem with a long budget (60 s; 0: none);
3. the independent validator on both: the stored plan re-read from the database, and the
   reference routes. Printed: the figures, and the objective gap to the reference.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import multiprocessing
import resource
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import insert, text

from fleet import wiring
from fleet.auth import service as auth
from fleet.auth.models import UserCreate
from fleet.core.access import Role, system_actor
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import BranchCreate, MerchantCreate, TerminalCreate
from fleet.migrations import upgrade
from fleet.scoring import service as scoring
from fleet.visits import plan as planning
from fleet.visits import present, routes, verify
from fleet.visits.day import Day
from fleet.visits.models import VisitPlan

ACTOR = system_actor("bench")
BRANCH = (35.05, 118.35)
HOURS = ["08:00-18:00", "08:00-12:00,13:30-18:00", "09:00-21:00", "14:00-22:00", "07:00-12:00"]
HOURS_P = [0.55, 0.2, 0.1, 0.1, 0.05]
# Usage profile of the candidates: (status wanted, share).
PROFILES = [("idle", 0.35), ("dormant", 0.3), ("never", 0.15), ("declining", 0.2)]


def _places(n: int, radius_km: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """60% in ten clusters (towns, markets), the rest scattered; all within `radius_km`."""
    cr = radius_km * 900 * np.sqrt(rng.random(10))
    ct = rng.random(10) * 2 * math.pi
    points = []
    for _ in range(n):
        if rng.random() < 0.6:
            k = rng.integers(10)
            x, y = cr[k] * math.cos(ct[k]), cr[k] * math.sin(ct[k])
            x, y = x + rng.normal(0, 500), y + rng.normal(0, 500)
        else:
            r, t = radius_km * 1000 * math.sqrt(rng.random()), rng.random() * 2 * math.pi
            x, y = r * math.cos(t), r * math.sin(t)
        scale = min(1.0, radius_km * 1000 * 0.99 / max(1.0, math.hypot(x, y)))
        x, y = x * scale, y * scale
        points.append((BRANCH[0] + y / 111_320, BRANCH[1] + x / 91_290))
    return points


def build(url: str, candidates: int, staff: int, today: date, seed: int = 7) -> None:
    """The county, its staff, and `candidates` units worth a visit plus a third as many in use."""
    rng = np.random.default_rng(seed)
    upgrade(url)
    wiring.plug_in()
    zone = ZoneInfo(get_settings().feed_timezone)
    with session_scope(make_engine(url)) as session:
        lat, lng = BRANCH
        for code, parent, level in (("LY", None, "city"), ("C1", "LY", "county")):
            inventory.create_branch(
                session,
                ACTOR,
                BranchCreate(
                    code=code, name=code, level=level, parent_code=parent, lat=lat, lng=lng
                ),  # type: ignore[arg-type]
            )
        for i in range(staff):
            auth.create_user(
                session,
                ACTOR,
                UserCreate(username=f"f{i + 1:02d}", role=Role.field, branch_code="C1"),
            )
        in_use = candidates // 3
        places = _places(candidates + in_use, 30, rng)
        kinds = (
            rng.choice([p for p, _ in PROFILES], candidates, p=[s for _, s in PROFILES]).tolist()
            + ["active"] * in_use
        )
        rows = []
        for i, ((mlat, mlng), kind) in enumerate(zip(places, kinds, strict=True)):
            code = f"M{i:04d}"
            inventory.create_merchant(
                session,
                ACTOR,
                MerchantCreate(
                    code=code,
                    name=f"商户{i}",
                    branch_code="C1",
                    lat=round(mlat, 6),
                    lng=round(mlng, 6),
                    category=["grocery", "hardware", "building", "farm"][i % 4],
                    opening_hours=rng.choice(HOURS, p=HOURS_P),
                ),
            )
            placed = datetime.combine(today - timedelta(days=400), datetime.min.time(), zone)
            unit = inventory.create_terminal(
                session,
                ACTOR,
                TerminalCreate(
                    sn=f"SN{i:05d}",
                    branch_code="C1",
                    merchant_code=code,
                    deployed_at=placed.replace(hour=12),
                ),
            )
            rate = float(rng.gamma(1.5, 0.4))  # transactions a day while in use
            last = {
                "idle": rng.integers(30, 90),
                "dormant": rng.integers(90, 300),
                "declining": 1,
                "active": 1,
            }.get(kind)
            if last is None:
                continue
            for back in range(int(last), 365):
                busy = rate * (0.2 if kind == "declining" and back < 30 else 1.0)
                if rng.random() < min(0.9, busy):
                    rows.append(
                        {
                            "terminal_id": unit.id or 0,
                            "day": today - timedelta(days=back),
                            "txn_count": int(rng.integers(1, 4)),
                            "amount_fen": 10_000,
                        }
                    )
        for start in range(0, len(rows), 10_000):  # a big outlet's year: ~800,000 rows
            session.execute(insert(TerminalDay), rows[start : start + 10_000])
        scoring.score(session, as_of=today)


def _memory_mb(field: str) -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM), from Linux's
    /proc: getrusage's max RSS would count the parent's memory, which survives the exec of
    a spawned process."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: an upper bound


def _reset_peak() -> None:
    """Starts VmHWM afresh (Linux 4.0+), so that the peak is the plan's, not the imports'."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def plan_once(url: str, today: date, budget: float, caps: dict[str, float]) -> dict[str, float]:
    """Plans the day with the cap settings `caps` (in a process of its own, see
    `planned_apart`) and measures it."""
    wiring.plug_in()  # a spawned process starts unwired, like any entry point
    settings = get_settings().model_copy(update=caps)
    engine = make_engine(url)
    with session_scope(engine) as session:  # connected before the baseline
        session.execute(text("select 1"))
    _reset_peak()
    before = _memory_mb("VmRSS")
    started = time.perf_counter()
    with session_scope(engine) as session:
        plan = planning.plan_day(
            session, ACTOR, branch_code="C1", plan_date=today, seconds=budget, settings=settings
        )
        seconds = time.perf_counter() - started
        peak = _memory_mb("VmHWM")
        shown = present.plan_public(session, plan)
    # Every candidate, best first as the planner ranks them (no campaigns here: serials are
    # unique), and how deep into that order the routes went.
    order = [(s.priority, s.sn or "", True) for r in shown.routes for s in r.stops]
    order += [(u.priority, u.sn or "", False) for u in shown.unplanned]
    order.sort(key=lambda row: (-row[0], row[1]))
    deepest = max((i + 1 for i, row in enumerate(order) if row[2]), default=0)
    return {
        "plan_id": float(plan.id or 0),
        "seconds": seconds,
        "solver_seconds": plan.solver_seconds,
        "rss_before_mb": before,
        "rss_peak_mb": peak,
        "candidates": float(plan.candidates),
        "over_capacity": float(sum(u.reason_code == "over_capacity" for u in shown.unplanned)),
        "planned": float(shown.planned),
        "prize": float(plan.prize_planned),
        "prize_total": float(plan.prize_total),
        "distance_km": plan.distance_m / 1000,
        "objective": float(plan.objective),
        "deepest": float(deepest),
    }


def planned_apart(url: str, today: date, budget: float, caps: dict[str, float]) -> dict[str, float]:
    """`plan_once` in a fresh process, so that its peak memory is the plan's alone."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(plan_once, (url, today, budget, caps))


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="40 candidates, 2 staff, 1 s")
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--staff", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=None, help="plan budget (settings)")
    parser.add_argument("--reference", type=float, default=60.0, help="its budget, s; 0: none")
    parser.add_argument("--seed", type=int, default=7, help="of the synthetic field day")
    parser.add_argument(
        "--uncapped", action="store_true", help="first plan with every candidate (no cap)"
    )
    parser.add_argument("--cap-factor", type=float, default=None, help="FLEET_REVISIT_CAP_FACTOR")
    parser.add_argument("--cap-min", type=int, default=None, help="FLEET_REVISIT_CAP_MIN")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.smoke:
        # Capped at a quarter of the 2 x 24 visits two people could make: 12 offered.
        args.candidates, args.staff, args.seconds, args.reference = 40, 2, 0.5, 1.0
        args.uncapped, args.cap_factor, args.cap_min = True, 0.25, 0
    budget = args.seconds if args.seconds is not None else settings.revisit_solver_seconds
    caps = {
        "revisit_cap_factor": settings.revisit_cap_factor
        if args.cap_factor is None
        else args.cap_factor,
        "revisit_cap_min": settings.revisit_cap_min if args.cap_min is None else args.cap_min,
    }
    capacity = args.staff * Day.from_settings(settings).most_visits()
    today = scoring.today_local()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'routes.db'}"
        started = time.perf_counter()
        build(url, args.candidates, args.staff, today, seed=args.seed)
        print(
            f"field day: {args.candidates} candidates within 30 km, {args.staff} staff, who "
            f"could make {capacity} visits at most "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        # Uncapped first: the capped plan replaces it, and is the one checked below.
        before = (
            planned_apart(url, today, budget, caps | {"revisit_cap_factor": 0})
            if args.uncapped
            else None
        )
        after = planned_apart(url, today, budget, caps)
        engine = make_engine(url)
        with session_scope(engine) as session:
            plan = session.get(VisitPlan, int(after["plan_id"]))
            assert plan is not None
            plan_problems = verify.stored_plan_problems(session, plan)
            ready = planning.prepare(
                session,
                ACTOR,
                branch_code="C1",
                plan_date=today,
                settings=settings.model_copy(update=caps),
            )
            hours = ready.hours
            session.rollback()  # the reference must not replace the stored plan
        reference = None
        if args.reference > 0:
            reference = routes.route(ready.problem, hours, seconds=args.reference)
    results = {
        "plan_seconds": after["seconds"],
        "solver_seconds": after["solver_seconds"],
        "peak_mb": after["rss_peak_mb"],
        "planned": after["planned"],
        "over_capacity": after["over_capacity"],
        "prize": after["prize"],
        "prize_total": after["prize_total"],
        "distance_km": after["distance_km"],
        "objective": after["objective"],
        "plan_problems": float(len(plan_problems)),
    }
    if before is not None:
        results |= {f"uncapped_{k}": v for k, v in before.items()}
    if reference is not None:
        ref_problems = [
            p for r in reference.routes for p in routes.problems_of(ready.problem, hours, r)
        ]
        prize = sum(ready.problem.stops[t.stop].prize for r in reference.routes for t in r.stops)
        metres = sum(r.distance_m for r in reference.routes)
        objective = reference.objective(ready.problem)
        # The gap on the net value (prize collected less metres driven) leaves out the prizes
        # no plan could collect, so it reads larger than the objective's.
        net, ref_net = after["prize"] - after["distance_km"] * 1000, prize - metres
        results |= {
            "reference_seconds": reference.seconds,
            "reference_planned": float(sum(len(r.stops) for r in reference.routes)),
            "reference_prize": float(prize),
            "reference_distance_km": metres / 1000,
            "reference_objective": float(objective),
            "gap": (after["objective"] - objective) / objective,
            "net_gap": (ref_net - net) / ref_net,
            "reference_problems": float(len(ref_problems)),
        }
        plan_problems += ref_problems
    report(results, budget, args.reference, caps, capacity, before, after)
    for line in plan_problems:
        print(f"  validator: {line}")
    return results


def report(
    r: dict[str, float],
    budget: float,
    reference: float,
    caps: dict[str, float],
    capacity: int,
    before: dict[str, float] | None,
    after: dict[str, float],
) -> None:
    factor, least = caps["revisit_cap_factor"], caps["revisit_cap_min"]
    print(
        f"\n{'':<30}{'seconds':>9}{'MB at first':>12}{'peak MB':>9}{'offered':>9}"
        f"{'visits':>8}{'deepest':>9}{'prize':>12}{'km':>9}{'net value':>12}"
    )
    rows = [("every candidate (as before)", before)] if before else []
    rows.append((f"capped ({factor:g}x, at least {least:g})", after))
    for name, p in rows:
        offered = p["candidates"] - p["over_capacity"]
        net = p["prize"] - p["distance_km"] * 1000
        print(
            f"{name:<30}{p['seconds']:>9.2f}{p['rss_before_mb']:>12,.0f}{p['rss_peak_mb']:>9,.0f}"
            f"{offered:>9,.0f}"
            f"{p['planned']:>8.0f}{p['deepest']:>9,.0f}{p['prize']:>12,.0f}"
            f"{p['distance_km']:>9.1f}{net:>12,.0f}"
        )
    if "reference_seconds" in r:
        net = r["reference_prize"] - r["reference_distance_km"] * 1000
        print(
            f"{f'reference ({reference:g} s)':<30}{r['reference_seconds']:>9.2f}{'':>30}"
            f"{r['reference_planned']:>8.0f}{'':>9}{r['reference_prize']:>12,.0f}"
            f"{r['reference_distance_km']:>9.1f}{net:>12,.0f}"
        )
    print(
        f"\n(budget {budget:g} s; MB: the planning process's resident memory before planning "
        "and its peak; offered: candidates given to the solver; deepest: the lowest-ranked "
        f"candidate routed, by priority; {capacity} visits at most for the staff; net value: "
        "prize - metres)"
    )
    print(
        f"plan end to end {r['plan_seconds']:.2f} s (solver {r['solver_seconds']:.2f} s), "
        f"{r['over_capacity']:.0f} candidates left for capacity; prize on offer to the solver "
        f"{r['prize_total']:,.0f}"
    )
    if "reference_seconds" in r:
        print(
            f"objective {r['gap']:+.2%} against the reference (target: within 2%, in 5 s); "
            f"net value {r['net_gap']:+.2%} below it"
        )
        print(
            f"independent validator: {r['plan_problems']:.0f} problems in the stored plan, "
            f"{r['reference_problems']:.0f} in the reference routes"
        )
    else:
        print(f"independent validator: {r['plan_problems']:.0f} problems in the stored plan")


if __name__ == "__main__":
    main()
