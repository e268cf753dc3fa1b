"""Benchmark: a field day of 300 candidates within 30 km of a branch and 8 field staff.

    .venv/bin/python -m tests.benchmarks.bench_routes            # full: 300 candidates, 8 staff
    .venv/bin/python -m tests.benchmarks.bench_routes --smoke    # seconds; the suite runs this

Builds a temporary SQLite database (the real migrations) through the services: a county
branch, its field staff, merchants clustered in towns and markets and scattered between
them with mixed opening hours, their units with a year of rollups, scored. Then:

1. `fleet.visits.plan.plan_day` end to end with the default budget (candidates, travel
   times, PyVRP, schedule, validation, storing): wall time, visits, prize, distance;
2. a reference solve of the very same routing problem with a long budget (60 s);
3. the independent validator on both: the stored plan re-read from the database, and the
   reference routes. Printed: the figures, and the objective gap to the reference.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from fleet.auth import service as auth
from fleet.auth.models import UserCreate
from fleet.core.access import Role, system_actor
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import BranchCreate, MerchantCreate, TerminalCreate
from fleet.migrations import load_models, upgrade
from fleet.scoring import service as scoring
from fleet.visits import plan as planning
from fleet.visits import present, routes, verify

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
    load_models()
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
                        TerminalDay(
                            terminal_id=unit.id or 0,
                            day=today - timedelta(days=back),
                            txn_count=int(rng.integers(1, 4)),
                            amount_fen=10_000,
                        )
                    )
        session.add_all(rows)
        session.flush()
        scoring.score(session, as_of=today)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="40 candidates, 2 staff, 1 s")
    parser.add_argument("--candidates", type=int, default=300)
    parser.add_argument("--staff", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=None, help="plan budget (settings)")
    parser.add_argument("--reference", type=float, default=60.0, help="reference budget, s")
    parser.add_argument("--seed", type=int, default=7, help="of the synthetic field day")
    args = parser.parse_args(argv)
    if args.smoke:
        args.candidates, args.staff, args.seconds, args.reference = 40, 2, 0.5, 1.0
    budget = args.seconds if args.seconds is not None else get_settings().revisit_solver_seconds
    today = scoring.today_local()
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'routes.db'}"
        started = time.perf_counter()
        build(url, args.candidates, args.staff, today, seed=args.seed)
        print(
            f"field day: {args.candidates} candidates within 30 km, {args.staff} staff "
            f"(built in {time.perf_counter() - started:.1f} s)"
        )
        engine = make_engine(url)
        started = time.perf_counter()
        with session_scope(engine) as session:
            plan = planning.plan_day(
                session, ACTOR, branch_code="C1", plan_date=today, seconds=budget
            )
        plan_s = time.perf_counter() - started
        with session_scope(engine) as session:
            plan_problems = verify.stored_plan_problems(session, plan)
            planned = len(present.plan_visits(session, plan))
            ready = planning.prepare(session, ACTOR, branch_code="C1", plan_date=today)
            hours = ready.hours
            session.rollback()  # the reference must not replace the stored plan
        reference = routes.route(ready.problem, hours, seconds=args.reference)
        ref_problems = [
            p for r in reference.routes for p in routes.problems_of(ready.problem, hours, r)
        ]
    ref_objective = reference.objective(ready.problem)
    ref_prize = sum(ready.problem.stops[t.stop].prize for r in reference.routes for t in r.stops)
    ref_metres = sum(r.distance_m for r in reference.routes)
    gap = (plan.objective - ref_objective) / ref_objective
    # The same comparison on the net value (prize collected less metres driven): it leaves
    # out the prizes no plan could collect, so it reads larger.
    net, ref_net = plan.prize_planned - plan.distance_m, ref_prize - ref_metres
    net_gap = (ref_net - net) / ref_net
    results = {
        "plan_seconds": plan_s,
        "solver_seconds": plan.solver_seconds,
        "planned": float(planned),
        "prize": float(plan.prize_planned),
        "prize_total": float(plan.prize_total),
        "distance_km": plan.distance_m / 1000,
        "objective": float(plan.objective),
        "reference_seconds": reference.seconds,
        "reference_planned": float(sum(len(r.stops) for r in reference.routes)),
        "reference_prize": float(ref_prize),
        "reference_distance_km": ref_metres / 1000,
        "reference_objective": float(ref_objective),
        "gap": gap,
        "net_gap": net_gap,
        "plan_problems": float(len(plan_problems)),
        "reference_problems": float(len(ref_problems)),
    }
    report(results, budget, args.reference)
    for line in plan_problems + ref_problems:
        print(f"  validator: {line}")
    return results


def report(r: dict[str, float], budget: float, reference: float) -> None:
    print(f"\n{'':<26}{'seconds':>9}{'visits':>8}{'prize':>12}{'km':>9}{'objective':>12}")
    print(
        f"{f'plan (budget {budget:g} s)':<26}{r['plan_seconds']:>9.2f}{r['planned']:>8.0f}"
        f"{r['prize']:>12,.0f}{r['distance_km']:>9.1f}{r['objective']:>12,.0f}"
    )
    print(
        f"{f'reference ({reference:g} s)':<26}{r['reference_seconds']:>9.2f}"
        f"{r['reference_planned']:>8.0f}{r['reference_prize']:>12,.0f}"
        f"{r['reference_distance_km']:>9.1f}{r['reference_objective']:>12,.0f}"
    )
    print(
        f"\nplan end to end {r['plan_seconds']:.2f} s (solver {r['solver_seconds']:.2f} s); "
        f"objective {r['gap']:+.2%} against the reference (target: within 2%, in 5 s); "
        f"net value (prize - metres) {r['net_gap']:+.2%} below it; prize on offer "
        f"{r['prize_total']:,.0f}"
    )
    print(
        f"independent validator: {r['plan_problems']:.0f} problems in the stored plan, "
        f"{r['reference_problems']:.0f} in the reference routes"
    )


if __name__ == "__main__":
    main()
