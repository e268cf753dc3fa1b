"""The markets and campaigns API as marketing and branch operations see it."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.markets.conftest import MK1, World, near

API = "/api/v1"


def test_ranking_and_coverage(client: TestClient, headers, world: World) -> None:  # type: ignore[no-untyped-def]
    marketing = headers("marketing_a")
    ranked = client.get(f"{API}/markets/ranking", headers=marketing, params={"category": "五金"})
    assert ranked.status_code == 200, ranked.text
    assert [(r["rank"], r["code"]) for r in ranked.json()] == [(1, "MK1")]
    # The reason as its phrase, and in English words.
    assert ranked.json()[0]["reason"].startswith(
        "about 17 unserved (5 merchants known, 3 with a unit, 20 stalls)"
    )
    assert ranked.json()[0]["why"]["values"]["parts"][0]["code"] == "market_unserved_stalls"
    bad = client.get(f"{API}/markets/ranking", headers=marketing, params={"category": "面包"})
    assert bad.status_code == 422 and "unknown market category" in bad.json()["error"]["message"]

    mk1 = world.markets["MK1"]
    one = client.get(f"{API}/markets/{mk1}/coverage", headers=headers("ops_a"))
    assert one.status_code == 200
    body = one.json()
    assert (body["merchants"], body["merchants_with_terminal"], body["active_rate"]) == (5, 3, 0.5)
    assert len(body["trend"]) == 2
    assert client.get(f"{API}/markets/{mk1}/coverage", headers=headers("ops_b")).status_code == 404
    listed = client.get(f"{API}/markets/coverage", headers=headers("ops_b")).json()
    assert [c["code"] for c in listed] == ["MK2"]
    # The inventory routes still answer beside these.
    assert client.get(f"{API}/markets/{mk1}", headers=marketing).json()["code"] == "MK1"


def test_a_campaign_through_the_api(client: TestClient, headers, world: World) -> None:  # type: ignore[no-untyped-def]
    marketing, ops_a, ops_b = headers("marketing_a"), headers("ops_a"), headers("ops_b")
    d = world.today
    p1 = near(MK1, -100)
    upload = client.post(
        f"{API}/prospects/import",
        headers=marketing,
        files={
            "file": (
                "records.csv",
                "商户编号,商户名称,纬度,经度,所属网点编号,月均柜面现金次数,平均现金金额\n"
                f"P1,鑫源五金,{p1['lat']},{p1['lng']},A1,20,50000\n".encode(),
                "text/csv",
            )
        },
    )
    assert upload.status_code == 200, upload.text
    assert (upload.json()["merchants_created"], upload.json()["records_created"]) == (1, 1)

    plan = {
        "name": "五金城营销",
        "market_code": "MK1",
        "starts_on": str(d - timedelta(days=40)),
        "ends_on": str(d + timedelta(days=5)),
        "target_placements": 2,
        "staff_usernames": ["field_a1"],
        "unit_sns": ["S1", "S2"],
    }
    assert client.post(f"{API}/campaigns", headers=ops_a, json=plan).status_code == 403
    created = client.post(f"{API}/campaigns", headers=marketing, json=plan)
    assert created.status_code == 201, created.text
    campaign = created.json()
    cid = campaign["id"]
    assert (campaign["phase"], campaign["branch_code"], campaign["prospects"]) == (
        "running",
        "A1",
        3,
    )
    assert (campaign["staff"], campaign["units_set_aside"]) == (["field_a1"], 2)
    assert client.get(f"{API}/campaigns/{cid}", headers=ops_a).status_code == 200
    assert client.get(f"{API}/campaigns/{cid}", headers=ops_b).status_code == 404
    assert [c["id"] for c in client.get(f"{API}/campaigns", headers=ops_a).json()] == [cid]

    due = client.get(f"{API}/campaigns/candidates", headers=marketing, params={"day": str(d)})
    assert [(c["merchant_code"], c["terminal_sn"]) for c in due.json()] == [
        ("P1", "S1"),
        ("M4", "S2"),  # M4 and M5 have no branch records: equal, by code
        ("M5", None),
    ]

    placed = client.post(
        f"{API}/campaigns/{cid}/placements",
        headers=marketing,
        json={"sn": "S1", "merchant_code": "P1", "at": f"{d - timedelta(days=35)}T10:00:00+08:00"},
    )
    assert placed.status_code == 201, placed.text
    assert (placed.json()["placed_on"], placed.json()["staff_username"]) == (
        str(d - timedelta(days=35)),
        "field_a1",
    )
    m4 = world.merchants["M4"]
    outcome = client.patch(
        f"{API}/campaigns/{cid}/prospects/{m4}", headers=marketing, json={"status": "declined"}
    )
    assert outcome.json()[0]["status"] == "declined"
    assert client.delete(f"{API}/campaigns/{cid}", headers=marketing).status_code == 409

    result = client.get(f"{API}/campaigns/{cid}/report", headers=ops_a).json()
    assert (result["placed"], result["target"], result["judged"], result["visits_made"]) == (
        1,
        2,
        1,
        2,
    )
    exported = client.get(f"{API}/campaigns/{cid}/export", headers=ops_a)
    assert exported.status_code == 200
    sheet = load_workbook(BytesIO(exported.content))["汇总"]
    assert sheet["A1"].value == "指标" and sheet["A2"].value == "活动名称"
    assert sheet["B2"].value == "五金城营销"

    staff = client.put(
        f"{API}/campaigns/{cid}/staff", headers=marketing, json={"usernames": ["field_a2"]}
    )
    assert staff.json()["staff"] == ["field_a2"]
    released = client.delete(f"{API}/campaigns/{cid}/units/S2", headers=marketing)
    assert released.json()["units_set_aside"] == 1
    again = client.post(f"{API}/campaigns/{cid}/units", headers=marketing, json={"sns": ["T1"]})
    assert again.status_code == 409
    listed = client.get(f"{API}/campaigns/{cid}/prospects", headers=ops_a).json()
    assert [(p["merchant_code"], p["status"]) for p in listed] == [
        ("P1", "placed"),
        ("M4", "declined"),
        ("M5", "pending"),
    ]
    renamed = client.patch(f"{API}/campaigns/{cid}", headers=marketing, json={"name": "改名"})
    assert renamed.json()["name"] == "改名"
    wrong = client.patch(
        f"{API}/campaigns/{cid}", headers=marketing, json={"ends_on": str(d - timedelta(days=90))}
    )
    assert wrong.status_code == 422
