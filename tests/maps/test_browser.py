"""Maps in headless Chromium with the network cut: served by fleet, and as files written by
`fleet map`. No script errors, everything on the map, nothing fetched from outside but the
base map's tiles (and those blocked). Run once, in the SQLite pass: the browser reads what the
other map tests check on both databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.conftest import TEST_URL
from tests.factories import PASSWORD
from tests.live import serve_fleet
from tests.maps import browser
from tests.maps.conftest import MapWorld, PlannedDay, RunCampaign, token_for

_missing = browser.available()
pytestmark = [
    pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"),
    # CI installs Chromium (scripts/ensure-chromium.sh): there a missing browser is a failure.
    pytest.mark.skipif(bool(_missing) and not os.environ.get("CI"), reason=_missing or ""),
]


@pytest.fixture(scope="module")
def server(engine: Engine) -> Iterator[str]:
    """fleet served on a free 127.0.0.1 port for the module's tests."""
    with serve_fleet() as base:
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.chromium() as instance:
        yield instance


def bearer(server: str, username: str) -> dict[str, str]:
    answer = httpx.post(
        f"{server}/api/v1/auth/token", data={"username": username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def assert_clean(report: browser.PageReport, tile_hosts: tuple[str, ...]) -> None:
    assert report.errors == []
    # The only outside requests a map makes are its base map's tiles; every one was cut off.
    outside = [url for url in report.blocked if not url.startswith(tile_hosts)]
    assert outside == []


OPEN_ALL_LAYERS = """() => {
  document.querySelectorAll(".leaflet-control-layers-overlays input").forEach((box) => {
    if (!box.checked) box.click();
  });
  return FleetMap.state.layers.density.getLayers().length;
}"""

POPUP_OF = """(sn) => {
  const d = FleetMap.data().terminals, i = d.sn.indexOf(sn), map = FleetMap.map;
  map.setView([d.lat[i], d.lng[i]], map.getMaxZoom(), { animate: false });
  const layer = FleetMap.state.layers.terminals._group.getLayers()
    .find((l) => l.getLatLng && l.getLatLng().lat === d.lat[i] && l.getPopup && !l.options.icon);
  layer.openPopup();
  return document.querySelector(".leaflet-popup-content").innerText;
}"""


def test_served_coverage_map(
    server: str, chromium: Any, map_world: MapWorld, tmp_path: Path
) -> None:
    shot = tmp_path / "coverage-served.png"
    report = browser.open_map(
        chromium,
        f"{server}/maps/coverage",
        headers=bearer(server, "field_a"),
        screenshot=shot,
        after_ready=[OPEN_ALL_LAYERS, (POPUP_OF, "SNA2")],
    )
    assert_clean(report, ("https://tile.openstreetmap.org/",))
    counts = report.state["counts"]
    assert counts == {
        "hexes": 2,  # CA1 and CA2 share one; CA3 has two units
        "terminals": 4,
        "markets": 2,
        "branches": 2,
        "white_spots": 1,
        "white_markets": 1,
        "tickets": 0,  # a field officer sees the faults they reported: none here
    }
    assert report.state["byStatus"] == {"active": 1, "idle": 1, "dormant": 1, "declining": 1}
    assert report.state["drawnTerminals"] == 4  # bubbles and circles stand for every unit
    assert report.state["overlays"] == 6
    assert report.state["dataset"]["fleetReady"] == "1"
    hexes, popup = report.results
    assert hexes == 2
    for text in ("商户CA2", "SNA2", "闲置", "40 天前", "终端详情（API）"):
        assert text in popup
    assert shot.stat().st_size > 10_000


def test_coverage_file_opens_offline(chromium: Any, map_world: MapWorld, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from fleet.cli.main import app

    out = tmp_path / "coverage-en.html"
    result = CliRunner().invoke(
        app, ["map", "coverage", "--lang", "en", "--base", "amap", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    report = browser.open_map(
        chromium,
        out.as_uri(),
        screenshot=tmp_path / "coverage-file.png",
        after_ready=[(POPUP_OF, "SNB1")],
    )
    assert_clean(report, ("https://webrd0",))
    assert report.state["counts"]["terminals"] == 5
    assert report.state["drawnTerminals"] == 5
    assert "Active" in report.results[0] and "Transactions, last 30 days" in report.results[0]


STOP_TITLES = """() => Object.keys(FleetMap.state.layers).filter((k) => k.startsWith("route:")).map(
  (k) => FleetMap.state.layers[k].stops.map((m) => m.options.title))"""

FIRST_STOP_POPUP = """() => {
  const layer = FleetMap.state.layers["route:0"], marker = layer.stops[0];
  FleetMap.map.setView(marker.getLatLng(), 15, { animate: false });
  marker.openPopup();
  return document.querySelector(".leaflet-popup-content").innerText;
}"""


def test_served_route_map(
    server: str, chromium: Any, planned_day: PlannedDay, tmp_path: Path
) -> None:
    shot = tmp_path / "routes-served.png"
    report = browser.open_map(
        chromium,
        f"{server}/maps/routes?branch_code=A&date={planned_day.day}",
        headers=token_for(planned_day.region.users["ops_a"]),
        screenshot=shot,
        after_ready=[STOP_TITLES, FIRST_STOP_POPUP],
    )
    assert_clean(report, ("https://tile.openstreetmap.org/",))
    assert report.state["counts"] == {"routes": 3, "stops": 4}
    assert report.state["overlays"] == 3  # a switchable layer per staff member
    assert report.state["dataset"]["fleetReady"] == "1"
    titles, popup = report.results
    for route in titles:  # numbered in route order
        assert [int(t.split(".")[0]) for t in route] == list(range(1, len(route) + 1))
    assert sum(len(route) for route in titles) == 4
    for text in ("第 1 站", "计划到达", "计划离开", "0539-1234567", "回访原因", "高德导航"):
        assert text in popup
    assert shot.stat().st_size > 10_000


def test_campaign_file_opens_offline(
    chromium: Any, run_campaign: RunCampaign, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from fleet.cli.main import app

    out = tmp_path / "campaign.html"
    cid = str(run_campaign.campaign_id)
    result = CliRunner().invoke(
        app, ["map", "campaign", cid, "--lang", "en", "--base", "amap", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    shot = tmp_path / "campaign-file.png"
    report = browser.open_map(chromium, out.as_uri(), screenshot=shot)
    assert_clean(report, ("https://webrd0",))
    assert report.state["counts"] == {"prospects": 3, "placed": 1, "set_aside_branches": 1}
    assert report.state["overlays"] == 4
    assert shot.stat().st_size > 10_000


ON_A_PHONE = """() => ({
  note: (document.querySelector(".fm-tiles-note") || {}).innerText || "",
  back: (document.querySelector("a.fm-back") || {}).href || "",
  backText: (document.querySelector("a.fm-back") || {}).innerText || "",
  near: FleetMap.distance(0.45),
  far: FleetMap.distance(3.24),
  width: document.documentElement.scrollWidth,
  overlaps: (() => {
    // Every box on the map (zoom, layers, title, legend, tiles note, scale, attribution):
    // which two cover each other, so that one cannot be read.
    const boxes = [...document.querySelectorAll(".leaflet-control")].filter(
      (e) => e.offsetParent !== null).map((e) => [e.className, e.getBoundingClientRect()]);
    const found = [];
    boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, q]) => {
      const apart = r.right <= q.left + 1 || q.right <= r.left + 1 ||
        r.bottom <= q.top + 1 || q.bottom <= r.top + 1;
      if (!apart) found.push(a + " / " + b);
    }));
    return found;
  })(),
  offscreen: [...document.querySelectorAll(".leaflet-control")].filter((e) => {
    const r = e.getBoundingClientRect();
    return e.offsetParent !== null &&
      (r.left < 0 || r.top < 0 || r.right > innerWidth || r.bottom > innerHeight);
  }).map((e) => e.className),
})"""


TAPS_ON_A_PHONE = """async () => {
  const control = document.querySelector(".leaflet-control-layers");
  const expanded = () => control.classList.contains("leaflet-control-layers-expanded");
  const folded = !expanded();
  document.querySelector(".leaflet-control-layers-toggle").click();
  const opened = expanded();
  FleetMap.map.fire("click");
  const closed = !expanded();
  FleetMap.state.layers["route:0"].stops[0].openPopup();
  await new Promise((done) => setTimeout(done, 800));
  const pop = document.querySelector(".leaflet-popup").getBoundingClientRect();
  const corner = document.querySelector(".leaflet-top.leaflet-right").getBoundingClientRect();
  return { folded, opened, closed, inside: pop.left >= 0 && pop.right <= innerWidth,
           clear: pop.top >= corner.bottom };
}"""


@pytest.mark.parametrize(("user", "back"), [("field_a1", "/field/today"), ("ops_a", "/ops/plans")])
def test_route_map_on_a_phone_says_tiles_need_the_internet_and_leads_back(
    server: str, chromium: Any, planned_day: PlannedDay, user: str, back: str
) -> None:
    """Issue 17: on the bank's intranet OpenStreetMap's tiles stay grey: the map says so and
    names FLEET_MAP_TILES_URL; distances under 1 km read in metres; a link leads back to the
    page the map was opened from."""
    report = browser.open_map(
        chromium,
        f"{server}/maps/routes?branch_code=A&date={planned_day.day}",
        headers=token_for(planned_day.region.users[user]),
        viewport=(360, 740),
        after_ready=[ON_A_PHONE, TAPS_ON_A_PHONE],
        screenshot=Path("/tmp/fleet-page-shots") / f"route-map-phone-{user}.png",
    )
    assert_clean(report, ("https://tile.openstreetmap.org/",))
    seen = report.results[0]
    assert "来自互联网" in seen["note"] and "FLEET_MAP_TILES_URL" in seen["note"]
    assert seen["back"].startswith(f"{server}{back}") and seen["backText"].startswith("← 返回")
    assert (seen["near"], seen["far"]) == ("450 米", "3.2 公里")
    assert seen["width"] <= 360
    # On a phone's width no box covers another (the tiles note sat under the legend, the
    # layer list under the title: failed before), and each is on the screen.
    assert seen["overlaps"] == [] and seen["offscreen"] == [], seen
    # The layer list is a button that opens on a tap and closes on the map; a stop's popup
    # fits the screen and opens clear of the title and the note.
    taps = report.results[1]
    assert taps == {"folded": True, "opened": True, "closed": True, "inside": True, "clear": True}


def test_the_banks_own_tiles_need_no_note() -> None:
    from fleet.core.config import Settings
    from fleet.maps import page, presets

    own = Settings(map_tiles_url="http://127.0.0.1:9/{z}/{x}/{y}.png", _env_file=None)  # type: ignore[call-arg]
    chosen = presets.choose_base(presets.load(own), None, own)
    assert chosen.key == presets.CUSTOM and page.tiles_note(chosen, "zh") is None
    osm = presets.choose_base(presets.load(own), "osm", own)
    assert "FLEET_MAP_TILES_URL" in (page.tiles_note(osm, "en") or "")


TICKET_MARKERS = """() => FleetMap.state.layers.tickets.getLayers().map((l) => {
  l.openPopup();
  return [l.options.fillColor, document.querySelector(".leaflet-popup-content").innerText];
})"""


def test_fault_tickets_on_the_coverage_map(
    server: str, chromium: Any, engine: Engine, map_world: MapWorld, tmp_path: Path
) -> None:
    """Operations see their live tickets at the shops, coloured by the SLA clock, the popup
    saying the time left in words."""
    from fleet.aftersales import service
    from fleet.aftersales.models import Symptom, TicketSource
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from fleet.maps.tickets import SLA_COLORS
    from tests.factories import SYSTEM

    with session_scope(engine) as session:
        unit = inventory.terminal_by_sn(session, SYSTEM, "SNA1")
        service.open_ticket(session, SYSTEM, unit, Symptom.printer, source=TicketSource.phone)
    report = browser.open_map(
        chromium,
        f"{server}/maps/coverage",
        headers=bearer(server, "branch_ops_a"),
        screenshot=tmp_path / "tickets.png",
        after_ready=[OPEN_ALL_LAYERS, TICKET_MARKERS],
    )
    assert_clean(report, ("https://tile.openstreetmap.org/",))
    assert report.state["counts"]["tickets"] == 1
    [(color, popup)] = report.results[1]
    assert color in (SLA_COLORS["ok"], SLA_COLORS["soon"])
    assert "打印机故障" in popup and "个工作小时" in popup and "SNA1" in popup
