"""The fee schedule through the API: an admin sets it, a refusal names the rows in the
client's language and changes nothing, roles without pay see no fees."""

from __future__ import annotations

from fastapi.testclient import TestClient

ROW = {"txn_type": "transfer", "merchant_class": "standard", "fixed_fen": 200}


def test_an_admin_sets_the_schedule_and_a_bad_one_is_refused(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin")
    rows = [
        {**ROW, "effective_from": "2026-01-01", "effective_to": "2026-06-01"},
        {**ROW, "effective_from": "2026-06-01", "fixed_fen": 300},
    ]
    answer = client.put("/api/v1/fees/schedule", headers=admin, json=rows)
    assert answer.status_code == 200, answer.text
    assert [(r["effective_from"], r["fixed_fen"]) for r in answer.json()] == [
        ("2026-01-01", 200),
        ("2026-06-01", 300),
    ]
    gap = [
        {**ROW, "effective_from": "2026-01-01", "effective_to": "2026-05-01"},
        {**ROW, "effective_from": "2026-06-01", "effective_to": "2027-01-01", "fixed_fen": -1},
        {**ROW, "effective_from": "2027-01-01"},
    ]
    refused = client.put(
        "/api/v1/fees/schedule", headers=admin | {"Accept-Language": "zh-CN"}, json=gap
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == (
        "费用不能为负数：第 2 行（转账，标准类商户，2026-06-01 起）"
    )
    gap[1]["fixed_fen"] = 0
    refused = client.put("/api/v1/fees/schedule", headers=admin, json=gap)
    assert refused.json()["error"]["message"] == (
        "fee dates leave a gap: rows 1 (transfer/standard 2026-01-01)"
        " / 2 (transfer/standard 2026-06-01)"
    )
    kept = client.get("/api/v1/fees/schedule", headers=as_user("branch_ops_a")).json()
    assert [r["fixed_fen"] for r in kept] == [200, 300]


def test_staff_without_pay_see_no_fees_and_ops_set_none(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/fees/schedule", headers=as_user("field_a")).status_code == 403
    ops = as_user("branch_ops_a")
    answer = client.put("/api/v1/fees/schedule", headers=ops, json=[])
    assert answer.status_code == 403


def test_staff_read_their_own_scorecard_line(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    answer = client.get(
        "/api/v1/scorecard", headers=as_user("field_a"), params={"period": "2026-11"}
    )
    assert answer.status_code == 200, answer.text
    assert [row["key"] for row in answer.json()["rows"]] == ["field_a"]
    bad = client.get(
        "/api/v1/scorecard",
        headers=as_user("field_a") | {"Accept-Language": "zh-CN"},
        params={"period": "11月"},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["message"].startswith("'11月' 不是有效期间")
