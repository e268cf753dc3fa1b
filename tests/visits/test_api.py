"""The visits API as its users see it: operations plan and download, field staff read their
day and record what happened, and everyone sees only what their role and branch allow."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from fleet.auth.security import create_access_token
from tests.visits.conftest import Region


@pytest.fixture
def headers(region: Region):  # type: ignore[no-untyped-def]
    """headers("ops_a") → a signed bearer token of that user of the region."""

    def get(username: str) -> dict[str, str]:
        token, _ = create_access_token(region.users[username])
        return {"Authorization": f"Bearer {token}"}

    return get


def plan(client: TestClient, headers, region: Region, who: str = "ops_a", code: str = "A"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/revisits/plan",
        headers=headers(who),
        json={"branch_code": code, "date": str(region.today), "seconds": 0.3},
    )


def test_operations_plan_a_day_and_read_it_back(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    made = plan(client, headers, region)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["branch_code"], body["date"], body["planned"]) == ("A", str(region.today), 4)
    assert [r["username"] for r in body["routes"]] == ["field_a1", "field_a2", "field_a3"]
    stop = next(s for r in body["routes"] for s in r["stops"])
    assert stop["nav_geo"].startswith(f"geo:{stop['lat']:.6f},{stop['lng']:.6f}")
    again = client.get(
        "/api/v1/revisits",
        headers=headers("ops_a"),
        params={"branch_code": "A", "date": str(region.today)},
    )
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    limited = client.post(
        "/api/v1/revisits/plan",
        headers=headers("admin"),
        json={"branch_code": "A", "date": str(region.today), "staff": 1, "seconds": 0.3},
    )
    assert [r["username"] for r in limited.json()["routes"]] == ["field_a1"]


def test_who_may_plan_and_read(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    assert plan(client, headers, region, who="field_a1", code="A1").status_code == 403
    assert plan(client, headers, region, who="marketing_a").status_code == 403
    refused = plan(client, headers, region, who="ops_b")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    assert plan(client, headers, region, code="A1").status_code == 201
    mine = client.get(
        "/api/v1/revisits",
        headers=headers("field_a1"),
        params={"branch_code": "A1", "date": str(region.today)},
    ).json()
    # A field user reads their own route of the plan, and nothing of what was left out.
    assert [r["username"] for r in mine["routes"]] == ["field_a1"]
    assert mine["unplanned"] == []
    missing = client.get(
        "/api/v1/revisits",
        headers=headers("ops_a"),
        params={"branch_code": "A", "date": str(region.today + timedelta(days=3))},
    )
    assert missing.status_code == 404


def test_a_field_day_my_visits_an_outcome_and_a_repair_ticket(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    routes = plan(client, headers, region).json()["routes"]
    me = next(r["username"] for r in routes if r["stops"])
    other = next(u for u in ("field_a1", "field_a2", "field_a3") if u != me)
    mine = client.get("/api/v1/visits/mine", headers=headers(me))
    assert mine.status_code == 200
    visits = mine.json()
    assert visits and all(v["staff_username"] == me for v in visits)
    assert [v["seq"] for v in visits] == list(range(1, len(visits) + 1))
    first = visits[0]
    assert first["nav_amap"].startswith("https://uri.amap.com/navigation?to=")
    assert "&coordinate=gaode" in first["nav_amap"]

    # Someone else's visit does not exist for a field user.
    url = f"/api/v1/visits/{first['visit_id']}"
    assert client.get(url, headers=headers(other)).status_code == 404
    foreign = client.post(
        f"{url}/outcome", headers=headers(other), json={"outcome": "reached_promised"}
    )
    assert foreign.status_code == 404

    done = client.post(
        f"{url}/outcome", headers=headers(me), json={"outcome": "device_faulty", "note": "屏幕不亮"}
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    assert done.json()["next_steps"][0]["kind"] == "repair_ticket"
    twice = client.post(f"{url}/outcome", headers=headers(me), json={"outcome": "no_need"})
    assert twice.status_code == 409
    bad = client.post(f"{url}/outcome", headers=headers(me), json={"outcome": "bored"})
    assert bad.status_code == 422

    # The fault is an after-sales ticket (fleet.aftersales) on the SLA clock; the reporter
    # sees it, another field officer does not.
    tickets = client.get("/api/v1/tickets", headers=headers("ops_a")).json()
    assert [(t["sn"], t["description"], t["state"], t["source"]) for t in tickets] == [
        (first["sn"], "屏幕不亮", "open", "field_visit")
    ]
    assert client.get("/api/v1/tickets", headers=headers("ops_b")).json() == []
    assert len(client.get("/api/v1/tickets", headers=headers(me)).json()) == 1
    assert client.get("/api/v1/tickets", headers=headers(other)).json() == []

    rates = client.get(
        "/api/v1/visits/attribution",
        headers=headers("ops_a"),
        params={
            "date_from": str(region.today - timedelta(days=30)),
            "date_to": str(region.today),
            "branch_code": "A",
        },
    )
    assert rates.status_code == 200, rates.text
    assert rates.json()["total"]["visits"] == 1
    assert rates.json()["by_staff"][0]["key"] == me


def test_downloads(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    plan(client, headers, region)
    params = {"branch_code": "A", "date": str(region.today)}
    xlsx = client.get(
        "/api/v1/revisits/export", headers=headers("ops_a"), params=params | {"format": "xlsx"}
    )
    assert xlsx.status_code == 200
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"revisits-A-{region.today}.xlsx" in xlsx.headers["content-disposition"]
    path = tmp_path / "plan.xlsx"
    path.write_bytes(xlsx.content)
    assert load_workbook(path).sheetnames[0] == "汇总"
    csv = client.get(
        "/api/v1/revisits/export", headers=headers("ops_a"), params=params | {"format": "csv"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").startswith("客户经理,工号,顺序")


def test_operations_move_a_stop_to_another_officer_over_the_api(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    """The ops plans page's move, over the API: the same service (visits.move), the same
    refusals; the other county's operations are told no such visit (404)."""
    routes = plan(client, headers, region).json()["routes"]
    giver = next(r for r in routes if r["stops"])
    taker = next(r for r in routes if r["staff_id"] != giver["staff_id"])
    stop = giver["stops"][0]["visit_id"]
    url = f"/api/v1/visits/{stop}/move"
    body = {"to_staff_id": taker["staff_id"]}
    assert client.post(url, headers=headers("ops_b"), json=body).status_code == 404
    assert client.post(url, headers=headers("field_a1"), json=body).status_code == 403
    same = client.post(url, headers=headers("ops_a"), json={"to_staff_id": giver["staff_id"]})
    assert same.status_code == 422, same.text
    moved = client.post(url, headers=headers("ops_a"), json=body)
    assert moved.status_code == 200, moved.text
    assert moved.json()["visit_id"] == stop
    assert moved.json()["staff_id"] == taker["staff_id"]
    day = client.get(
        "/api/v1/revisits",
        headers=headers("ops_a"),
        params={"branch_code": "A", "date": str(region.today)},
    ).json()
    theirs = next(r for r in day["routes"] if r["staff_id"] == taker["staff_id"])
    assert stop in [s["visit_id"] for s in theirs["stops"]]
