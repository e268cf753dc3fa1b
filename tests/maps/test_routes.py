"""The route map: a layer per staff member with the stored stops in order, planned times and
navigation in the payload, the visit API's access rules, GCJ-02 on AMap, and the CLI file."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.db import session_scope
from fleet.core.geo import Datum, from_wgs84
from fleet.core.i18n import texts_for
from fleet.visits import plan as planning
from fleet.visits import present
from fleet.visits.schemas import PlanPublic
from tests.factories import SYSTEM
from tests.maps.conftest import PlannedDay, payload_of, token_for
from tests.terminal import EN


def _stored(engine: Engine, day: PlannedDay) -> PlanPublic:
    with session_scope(engine) as session:
        plan = planning.get_plan(session, SYSTEM, branch_code="A", plan_date=day.day)
        return present.plan_public(session, plan)


def test_a_layer_per_person_with_the_stops_in_route_order(
    client: TestClient, engine: Engine, planned_day: PlannedDay
) -> None:
    users = planned_day.region.users
    answer = client.get(
        f"/maps/routes?branch_code=A&date={planned_day.day}", headers=token_for(users["ops_a"])
    )
    assert answer.status_code == 200, answer.text
    data = payload_of(answer.text)
    stored = _stored(engine, planned_day)
    assert data["kind"] == "routes" and data["datum"] == "wgs84"
    assert [r["username"] for r in data["routes"]] == ["field_a1", "field_a2", "field_a3"]
    assert len({r["color"] for r in data["routes"]}) == 3  # a colour each
    assert sum(len(r["stops"]) for r in data["routes"]) == 4
    for drawn, route in zip(data["routes"], stored.routes, strict=True):
        assert [s["seq"] for s in drawn["stops"]] == list(range(1, len(route.stops) + 1))
        assert [s["code"] for s in drawn["stops"]] == [s.merchant_code for s in route.stops]
        assert [s["sn"] for s in drawn["stops"]] == [s.sn for s in route.stops]
        for s, stop in zip(drawn["stops"], route.stops, strict=True):
            assert s["arrival"] == stop.arrival.strftime("%H:%M")
            assert s["departure"] == stop.departure.strftime("%H:%M")
            assert s["arrival"] <= s["departure"]
            assert s["phone"] == "0539-1234567" and s["reason"] == texts_for("zh").phrase(stop.why)
            # AMap navigation takes GCJ-02: the link carries the shifted point.
            glat, glng = from_wgs84(stop.lat or 0, stop.lng or 0, Datum.gcj02)
            assert s["nav"].startswith("https://uri.amap.com/navigation?to=")
            assert f"{glng:.6f},{glat:.6f}" in s["nav"]
        assert drawn["home"]["code"] == route.home_branch_code
    assert sorted(s["sn"] for r in data["routes"] for s in r["stops"]) == [
        "DECL",
        "DORM",
        "IDLE",
        "NEVER",
    ]
    assert data["title"] == f"回访路线图 · {stored.branch_name} · {planned_day.day}"
    assert "data-" not in data["title"]


def test_amap_shifts_every_point_and_english_labels(
    client: TestClient, planned_day: PlannedDay
) -> None:
    headers = token_for(planned_day.region.users["admin"])
    url = f"/maps/routes?branch_code=A&date={planned_day.day}"
    osm = payload_of(client.get(url, headers=headers).text)
    amap = payload_of(client.get(url + "&base=amap&lang=en", headers=headers).text)
    assert amap["datum"] == "gcj02" and amap["lang"] == "en"
    assert amap["title"].startswith("Visit routes · ")
    for a, o in zip(amap["routes"], osm["routes"], strict=True):
        for sa, so in zip(a["stops"], o["stops"], strict=True):
            assert (sa["lat"], sa["lng"]) == tuple(
                round(v, 6) for v in from_wgs84(so["lat"], so["lng"], Datum.gcj02)
            )
            assert sa["lat"] != so["lat"]
    links = {b["key"]: b for b in amap["bases"]}
    assert links["osm"]["href"] == f"?base=osm&branch_code=A&date={planned_day.day}&lang=en"


def test_scope_is_the_visit_apis(
    client: TestClient, engine: Engine, planned_day: PlannedDay
) -> None:
    users, day = planned_day.region.users, planned_day.day
    url = f"/maps/routes?branch_code=A&date={day}"

    def get(username: str, path: str = url) -> httpx.Response:
        return client.get(path, headers=token_for(users[username]))

    # Field staff read the plan that routes them, also county A's above their outlet, and see
    # their own route only; to those it does not route, county A's plan is outside.
    routed = {s.staff_username for r in _stored(engine, planned_day).routes for s in r.stops}
    assert routed
    for name in ("field_a1", "field_a2", "field_a3"):
        county = get(name)
        if name in routed:
            assert [r["username"] for r in payload_of(county.text)["routes"]] == [name]
        else:
            assert county.status_code == 404
    with session_scope(engine) as session:
        planning.plan_day(session, SYSTEM, branch_code="A1", plan_date=day, seconds=0.3)
    own = get("field_a1", f"/maps/routes?branch_code=A1&date={day}")
    assert own.status_code == 200
    whole = payload_of(get("ops_a", f"/maps/routes?branch_code=A1&date={day}").text)
    mine = [r for r in whole["routes"] if r["username"] == "field_a1"]
    assert payload_of(own.text)["routes"] == mine
    assert len(whole["routes"]) > len(mine)
    assert get("ops_b").status_code == 404
    assert get("field_b1").status_code == 404
    assert get("marketing_a").status_code == 403
    assert get("admin", f"/maps/routes?branch_code=B&date={day}").status_code == 404  # no plan
    assert get("ops_a", "/maps/routes?branch_code=A").status_code == 422
    assert client.get(url).status_code == 401


def test_cli_writes_the_route_map(planned_day: PlannedDay, tmp_path: Path) -> None:
    out = tmp_path / "routes.html"
    result = CliRunner().invoke(
        app, ["map", "routes", "--branch", "A", "--date", str(planned_day.day), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert "：3 条路线，4 站 -> " in result.stdout
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html
    data = payload_of(html)
    assert sum(len(r["stops"]) for r in data["routes"]) == 4

    bad = CliRunner().invoke(app, ["map", "routes", "--branch", "A", "--date", "28/11"], env=EN)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: --date must be YYYY-MM-DD")
    none = CliRunner().invoke(
        app, ["map", "routes", "--branch", "B", "--date", "2020-01-01"], env=EN
    )
    assert none.exit_code == 1 and none.stderr.startswith("error: no visit plan for branch B")
