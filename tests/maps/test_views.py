"""Map pages over HTTP: sign-in, branch scope, language, base maps, the static files."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.auth import service as auth
from fleet.auth.models import UserUpdate
from fleet.core.db import session_scope
from tests.factories import SYSTEM
from tests.maps.conftest import MapWorld, payload_of


def test_a_map_needs_a_signed_in_user(client: TestClient, map_world: MapWorld) -> None:
    for path in (
        "/maps/coverage",
        "/maps/routes?branch_code=A&date=2026-11-20",
        "/maps/campaign/1",
    ):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert answer.json()["error"]["code"] == "unauthorized"
    bad = client.get("/maps/coverage", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_a_user_sees_their_branch_subtree(client: TestClient, as_user, map_world: MapWorld) -> None:  # type: ignore[no-untyped-def]
    answer = client.get("/maps/coverage", headers=as_user("field_a"))
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    data = payload_of(answer.text)
    assert sorted(data["terminals"]["sn"]) == ["SNA1", "SNA2", "SNA3", "SNA4"]
    assert "SNB1" not in answer.text and "MKB1" not in answer.text
    assert data["api"] == "/api/v1"  # popups link to the terminal's API page on this server

    outside = client.get("/maps/coverage?branch=B1", headers=as_user("field_a"))
    assert outside.status_code == 404
    inside = client.get("/maps/coverage?branch=B1", headers=as_user("admin"))
    assert payload_of(inside.text)["terminals"]["sn"] == ["SNB1"]


def test_language_follows_the_user_unless_asked(
    client: TestClient,
    as_user,  # type: ignore[no-untyped-def]
    map_world: MapWorld,
    engine: Engine,
) -> None:
    headers = as_user("branch_ops_a")
    assert payload_of(client.get("/maps/coverage", headers=headers).text)["lang"] == "zh"
    with session_scope(engine) as session:
        user = auth.user_by_username(session, SYSTEM, "branch_ops_a")
        auth.update_user(session, SYSTEM, user, UserUpdate(language="en"))
    page = client.get("/maps/coverage", headers=headers).text
    assert payload_of(page)["title"] == "Terminal coverage · 网点A"
    assert "<title>Terminal coverage" in page
    asked = client.get("/maps/coverage?lang=zh", headers=headers)
    assert payload_of(asked.text)["lang"] == "zh"


def test_base_maps_and_their_links(client: TestClient, as_user, map_world: MapWorld) -> None:  # type: ignore[no-untyped-def]
    headers = as_user("admin")
    amap = payload_of(client.get("/maps/coverage?base=amap&branch=A", headers=headers).text)
    assert amap["datum"] == "gcj02"
    links = {b["key"]: b for b in amap["bases"]}
    assert links["amap"]["current"] and links["osm"]["href"] == "?base=osm&branch=A"
    unknown = client.get("/maps/coverage?base=bing", headers=headers)
    assert unknown.status_code == 422
    assert "unknown base map" in unknown.json()["error"]["message"]


def test_leaflet_is_served_by_fleet(client: TestClient) -> None:
    for path in (
        "/static/vendor/leaflet/dist/leaflet.js",
        "/static/vendor/leaflet/dist/leaflet.css",
        "/static/vendor/leaflet/dist/images/layers.png",
        "/static/vendor/supercluster/dist/supercluster.min.js",
        "/static/maps/fleet-layers.js",
        "/static/maps/fleet-map.css",
    ):
        assert client.get(path).status_code == 200, path
