"""The utilisation API as a client sees it: scores, one terminal's history, KPIs, re-scoring."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.scoring.conftest import Region


def test_scores_of_the_latest_date_in_my_subtree(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    mine = client.get("/api/v1/scores", headers=headers("ops_a"), params={"sort": "terminal_id"})
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert body["total"] == 5
    assert [s["sn"] for s in body["items"]] == ["T1", "T2", "T3", "T4", "T5"]
    first = body["items"][0]
    assert (first["as_of"], first["status"], first["count_30"], first["days_since_use"]) == (
        str(region.today),
        "active",
        5,
        1,
    )
    assert (first["branch_code"], first["merchant_code"], first["market_code"]) == (
        "A1",
        "MA1",
        "MK1",
    )
    assert first["peer_group"] == "market:hardware"

    everyone = client.get("/api/v1/scores", headers=headers("admin")).json()
    assert everyone["total"] == 8
    idle = client.get(
        "/api/v1/scores",
        headers=headers("admin"),
        params={"status": "idle", "as_of": str(region.before)},
    ).json()
    assert sorted(s["sn"] for s in idle["items"]) == ["T2", "T8"]
    in_b = client.get(
        "/api/v1/scores",
        headers=headers("admin"),
        params={"branch_id": region.branches["B"], "sort": "-count_30"},
    ).json()
    assert [s["sn"] for s in in_b["items"]] == ["T6", "T8", "T7"]
    by_market = client.get(
        "/api/v1/scores", headers=headers("admin"), params={"market_id": region.markets["MK2"]}
    ).json()
    assert by_market["total"] == 3
    bad = client.get("/api/v1/scores", headers=headers("admin"), params={"sort": "colour"})
    assert bad.status_code == 422


def test_a_terminal_history_and_its_scope(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    t4 = region.ids["t4"]
    history = client.get(f"/api/v1/terminals/{t4}/scores", headers=headers("field_a2"))
    assert history.status_code == 200
    assert [(h["as_of"], h["status"]) for h in history.json()] == [
        (str(region.before), "dormant"),
        (str(region.today), "active"),
    ]
    foreign = client.get(f"/api/v1/terminals/{region.ids['t6']}/scores", headers=headers("ops_a"))
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "not_found"


def test_kpis_differ_by_who_asks(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    admin = client.get("/api/v1/kpi", headers=headers("admin"), params={"group_by": "branch"})
    assert admin.status_code == 200, admin.text
    assert [r["code"] for r in admin.json()["rows"]] == ["A", "B"]
    assert admin.json()["total"]["deployed"] == 8

    ops_a = client.get(
        "/api/v1/kpi", headers=headers("ops_a"), params={"group_by": "branch", "weeks": 2}
    ).json()
    assert [r["code"] for r in ops_a["rows"]] == ["A1", "A2"]
    total = ops_a["total"]
    assert (total["deployed"], total["active_rate"], total["activations"]) == (5, 0.6, 2)
    assert [w["as_of"] for w in total["weeks"]] == [str(region.before), str(region.today)]

    ops_b = client.get("/api/v1/kpi", headers=headers("ops_b")).json()
    assert (ops_b["total"]["deployed"], ops_b["total"]["usage_rate"]) == (3, round(20 / 90, 4))
    hidden = client.get(
        "/api/v1/kpi", headers=headers("ops_b"), params={"branch_id": region.branches["A1"]}
    )
    assert hidden.status_code == 404
    unscored = client.get("/api/v1/kpi", headers=headers("admin"), params={"as_of": "2020-01-01"})
    assert unscored.status_code == 404
    assert "no scores as of 2020-01-01" in unscored.json()["error"]["message"]
    bad = client.get("/api/v1/kpi", headers=headers("admin"), params={"group_by": "colour"})
    assert bad.status_code == 422


def test_scoring_on_demand_is_for_operations(
    client: TestClient,
    region: Region,
    headers,  # type: ignore[no-untyped-def]
) -> None:
    refused = client.post("/api/v1/scores/run", headers=headers("field_a1"))
    assert refused.status_code == 403
    run = client.post(
        "/api/v1/scores/run", headers=headers("ops_a"), params={"as_of": str(region.before)}
    )
    assert run.status_code == 200, run.text
    summary = run.json()
    assert (summary["as_of"], summary["terminals"]) == (str(region.before), 8)
    assert summary["by_status"]["dormant"] == 2
    future = client.post(
        "/api/v1/scores/run", headers=headers("ops_a"), params={"as_of": "2999-01-01"}
    )
    assert future.status_code == 422
