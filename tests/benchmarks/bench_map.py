"""Benchmark: the coverage map of 100,000 terminals: HTML size, render time, and the time until
headless Chromium has drawn it (network cut off, the file opened as `fleet map` writes it).

    .venv/bin/python tests/benchmarks/bench_map.py             # 100k terminals (targets below)
    .venv/bin/python tests/benchmarks/bench_map.py --smoke     # 2,000 terminals, seconds
    .venv/bin/python tests/benchmarks/bench_map.py --keep out/  # also keep the HTML and a PNG

Targets: the file under 15 MB, drawn in under 3 s. The fleet is bulk-inserted into a fresh
SQLite file (the benchmark measures the map, not the import): branches of a city, markets,
1.2 merchants per terminal (the rest are white spots) and a score for every terminal.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `tests` and `fleet` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

AS_OF = date(2026, 11, 20)
CENTRE = (35.10, 118.35)
TARGET_MB, TARGET_DRAWN_S = 15.0, 3.0
STATUSES = (
    ("active", 0.55),
    ("declining", 0.08),
    ("idle", 0.12),
    ("dormant", 0.12),
    ("never_used", 0.1),
    ("new", 0.03),
)
# Days since last use that go with each status (rules of fleet.scoring).
DAYS = {
    "active": (1, 30),
    "declining": (1, 30),
    "idle": (30, 90),
    "dormant": (90, 200),
    "never_used": (0, 0),
    "new": (0, 0),
}
TRADES = ("appliances", "furniture", "building_materials", "stone", "hardware", "farm_supplies")
SHOP = ("五金商行", "建材店", "家电城", "石材经营部", "农资店", "便利超市", "汽配门市")


def _near(rng: random.Random, lat: float, lng: float, metres: float) -> tuple[float, float]:
    north, east = rng.gauss(0, metres), rng.gauss(0, metres)
    return (
        round(lat + north / 111_320, 6),
        round(lng + east / (111_320 * math.cos(math.radians(lat))), 6),
    )


def build(url: str, terminals: int, seed: int = 7) -> None:
    """A city-sized fleet by bulk insert: 1 city branch, 12 counties, 180 outlets, 60 markets."""
    from sqlalchemy import insert

    from fleet import wiring
    from fleet.core.db import make_engine
    from fleet.inventory.models import Branch, Market, Merchant, Terminal
    from fleet.migrations import upgrade
    from fleet.scoring.models import ScoreRun, TerminalScore

    wiring.plug_in()
    upgrade(url)
    rng = random.Random(seed)
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    branches: list[dict[str, Any]] = [
        {"id": 1, "code": "LY", "name": "临沂分行", "level": "city", "parent_id": None}
    ]
    branches[0].update(lat=CENTRE[0], lng=CENTRE[1])
    outlets = []
    for c in range(12):
        angle = 2 * math.pi * c / 12
        lat, lng = CENTRE[0] + 0.45 * math.sin(angle), CENTRE[1] + 0.55 * math.cos(angle)
        county = len(branches) + 1
        branches.append(
            {"id": county, "code": f"C{c:02}", "name": f"第{c + 1}支行", "level": "county"}
            | {"parent_id": 1, "lat": lat, "lng": lng}
        )
        for o in range(15):
            y, x = _near(rng, lat, lng, 9_000)
            outlets.append(len(branches) + 1)
            name = f"第{c + 1}支行{o + 1}号网点"
            branches.append(
                {"id": outlets[-1], "code": f"C{c:02}O{o:02}", "name": name, "level": "outlet"}
                | {"parent_id": county, "lat": y, "lng": x}
            )
    markets = []
    for m in range(60):
        y, x = _near(rng, CENTRE[0], CENTRE[1], 25_000)
        markets.append(
            {"id": m + 1, "code": f"MK{m:03}", "name": f"临沂第{m + 1}批发市场", "lat": y, "lng": x}
            | {"category": TRADES[m % len(TRADES)], "radius_m": 600.0, "approximate": True}
            | {"branch_id": outlets[m % len(outlets)], "polygon": None}
        )
    merchants, units, scores = [], [], []
    weights = [w for _, w in STATUSES]
    for i in range(int(terminals * 1.2)):
        if i % 2:
            market = markets[rng.randrange(len(markets))]
            lat, lng = _near(rng, market["lat"], market["lng"], 300)
            market_id, branch_id = market["id"], market["branch_id"]
        else:
            branch = branches[outlets[rng.randrange(len(outlets))] - 1]
            lat, lng = _near(rng, branch["lat"], branch["lng"], 2_500)
            market_id, branch_id = None, branch["id"]
        merchants.append(
            {"id": i + 1, "code": f"M{i:07}", "name": f"{SHOP[i % len(SHOP)]}{i}", "lat": lat}
            | {"lng": lng, "category": "retail", "opening_hours": "08:00-18:00", "status": "open"}
            | {"phone": f"139{rng.randrange(10**8):08}", "branch_id": branch_id}
            | {"market_id": market_id, **stamps}
        )
        if i < terminals:
            units.append(
                {"id": i + 1, "sn": f"LY{i:010}", "model": "T300", "branch_id": branch_id}
                | {"state": "deployed", "merchant_id": i + 1, "state_since": now, **stamps}
            )
            status = rng.choices(STATUSES, weights)[0][0]
            low, high = DAYS[status]
            days = rng.randrange(low, high) if high else None
            scores.append(
                {"as_of": AS_OF, "terminal_id": i + 1, "status": status, "deployed_on": AS_OF}
                | {"days_since_use": days, "count_30": rng.randrange(1, 60) if low < 30 else 0}
                | {"amount_30_fen": 0, "amount_90_fen": 0}
                | {"branch_id": branch_id, "merchant_id": i + 1, "market_id": market_id}
                | {"last_used_on": None if days is None else AS_OF - timedelta(days=days)}
            )
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Branch), [b | stamps for b in branches])
        conn.execute(insert(Market), [m | stamps for m in markets])
        for table, rows in ((Merchant, merchants), (Terminal, units), (TerminalScore, scores)):
            for start in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[start : start + 20_000])
        conn.execute(insert(ScoreRun), [{"as_of": AS_OF, "terminals": terminals}])
    engine.dispose()


def render(url: str, out: Path) -> dict[str, Any]:
    """Renders the coverage map as `fleet map coverage` does; seconds and size."""
    from sqlmodel import Session

    from fleet.core.access import system_actor
    from fleet.core.db import make_engine
    from fleet.maps import assets, coverage

    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        rendered = coverage.render(session, system_actor("bench"), mode=assets.Mode.inline)
    seconds = time.perf_counter() - started
    out.write_text(rendered.html, encoding="utf-8")
    engine.dispose()
    return {"render_s": seconds, "mb": out.stat().st_size / 1e6, "counts": rendered.counts}


def draw(html: Path, screenshot: Path | None) -> dict[str, Any]:
    """Opens the file in headless Chromium with the network cut; when it was drawn, and how
    long a zoom-in takes to re-cluster and redraw."""
    from tests.maps import browser

    with browser.chromium() as chromium:
        started = time.perf_counter()
        report = browser.open_map(
            chromium,
            html.as_uri(),
            screenshot=screenshot,
            after_ready=[
                """() => { const m = FleetMap.map, t0 = performance.now();
                  m.setView(m.getCenter(), m.getZoom() + 3, { animate: false });
                  return performance.now() - t0; }"""
            ],
        )
        wall = time.perf_counter() - started
    assert report.errors == [], report.errors
    return {
        "drawn_s": report.state["drawnMs"] / 1000,
        "wall_s": wall,
        "zoom_ms": report.results[0],
        "on_map": report.state["counts"]["terminals"],
        "drawn_terminals": report.state["drawnTerminals"],
        "blocked": len(report.blocked),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="2,000 terminals")
    parser.add_argument("--terminals", type=int, default=100_000)
    parser.add_argument("--no-browser", action="store_true", help="skip Chromium")
    parser.add_argument("--keep", type=Path, help="folder to keep coverage.html and .png in")
    args = parser.parse_args(argv)
    terminals = 2_000 if args.smoke else args.terminals
    results: dict[str, Any] = {"terminals": terminals}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-map-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        build(url, terminals)
        print(f"fleet of {terminals:,} terminals built in {time.perf_counter() - started:.1f} s")
        keep = args.keep or Path(folder)
        keep.mkdir(parents=True, exist_ok=True)
        html = keep / "coverage.html"
        results |= render(url, html)
        print(
            f"render: {results['render_s']:.2f} s, {results['mb']:.1f} MB "
            f"(target < {TARGET_MB:.0f} MB) -> {html}"
        )
        if not args.no_browser:
            results |= draw(html, keep / "coverage.png" if args.keep else None)
            print(
                f"chromium: drawn {results['drawn_s']:.2f} s after navigation "
                f"(target < {TARGET_DRAWN_S:.0f} s; {results['wall_s']:.1f} s with browser start), "
                f"zoom-in redraw {results['zoom_ms']:.0f} ms, {results['on_map']:,} terminals "
                f"on the map, {results['blocked']} outside requests blocked (tiles)"
            )
    return results


if __name__ == "__main__":
    main()
