"""The inventory API as a client sees it: create, read, update, list, lifecycle, errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import TwoBranches


def test_create_read_update_a_merchant(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    ops = as_user("branch_ops_a")
    created = client.post(
        "/api/v1/merchants",
        headers=ops,
        json={
            "code": "M100",
            "name": "鑫源五金商行",
            "category": "五金",
            "branch_code": "A1",
            "lat": 35.01,
            "lng": 118.36,
            "opening_hours": "8:00-12:00, 13:30-18:00",
            "staff_username": "field_a",
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["opening_hours"] == "08:00-12:00,13:30-18:00"
    assert (body["branch_code"], body["staff_username"]) == ("A1", "field_a")
    # Placed inside market MKA1 (centre 35.01, 118.36, radius 400 m), so it belongs to it.
    assert body["market_code"] == "MKA1"

    moved = client.patch(
        f"/api/v1/merchants/{body['id']}",
        headers=ops,
        json={"lat": 35.2, "lng": 118.6, "status": "moved"},
    )
    assert moved.status_code == 200
    assert (moved.json()["market_code"], moved.json()["status"]) == (None, "moved")
    again = client.get(f"/api/v1/merchants/{body['id']}", headers=as_user("field_a")).json()
    assert again == moved.json()


def test_duplicates_and_bad_fields_are_clear_errors(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    ops = as_user("branch_ops_a")
    dup = client.post(
        "/api/v1/merchants", headers=ops, json={"code": "CA1", "name": "again", "branch_code": "A1"}
    )
    assert dup.status_code == 409
    assert dup.json()["error"]["message"] == "merchant CA1 already exists"
    bad = client.post(
        "/api/v1/merchants",
        headers=ops,
        json={
            "code": "M2",
            "name": "x",
            "branch_code": "A1",
            "opening_hours": "all day",
            "lat": 95,
        },
    )
    assert bad.status_code == 422
    fields = {d["field"] for d in bad.json()["error"]["details"]}
    assert fields == {"opening_hours", "lat"}
    assert "08:00-18:00" in bad.json()["error"]["message"]


def test_lists_filter_sort_and_page(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    ops = as_user("branch_ops_a")
    for n in range(5):
        client.post(
            "/api/v1/terminals",
            headers=ops,
            json={"sn": f"P{n}", "branch_code": "A1", "model": "T500" if n % 2 else "T300"},
        )
    page = client.get(
        "/api/v1/terminals",
        headers=ops,
        params={"state": "in_stock", "sort": "-sn", "limit": 2, "offset": 1},
    ).json()
    assert page["total"] == 5
    assert [t["sn"] for t in page["items"]] == ["P3", "P2"]
    assert (
        client.get("/api/v1/terminals", headers=ops, params={"model": "T500"}).json()["total"] == 2
    )
    assert client.get("/api/v1/terminals", headers=ops, params={"q": "p4"}).json()["total"] == 1
    bad_sort = client.get("/api/v1/terminals", headers=ops, params={"sort": "password"})
    assert bad_sort.status_code == 422
    assert "cannot sort by 'password'" in bad_sort.json()["error"]["message"]


def test_lifecycle_over_http_with_history(client: TestClient, world: TwoBranches, as_user) -> None:  # type: ignore[no-untyped-def]
    ops = as_user("branch_ops_a")
    unit = world.terminals["A1"].id
    refused = client.post(
        f"/api/v1/terminals/{unit}/transitions", headers=ops, json={"to_state": "in_stock"}
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["message"].startswith("terminal SNA1 is deployed; it cannot become in_stock")
    assert error["details"]["current_state"] == "deployed"

    for step in ("recovery_requested", "recovery_approved", "recovered", "in_stock"):
        answer = client.post(
            f"/api/v1/terminals/{unit}/transitions",
            headers=ops,
            json={"to_state": step, "reason": "merchant has no need"},
        )
        assert answer.status_code == 200, answer.text
    assert answer.json()["merchant_code"] is None
    placed = client.post(
        f"/api/v1/terminals/{unit}/transitions",
        headers=ops,
        json={"to_state": "deployed", "merchant_code": "CA1"},
    )
    assert placed.json()["merchant_code"] == "CA1"

    placements = client.get(f"/api/v1/terminals/{unit}/placements", headers=ops).json()
    assert [(p["merchant_code"], p["ended_at"] is None) for p in placements] == [
        ("CA1", False),
        ("CA1", True),
    ]
    events = client.get(f"/api/v1/terminals/{unit}/events", headers=ops).json()
    assert [e["to_state"] for e in events] == [
        "in_stock",
        "deployed",
        "recovery_requested",
        "recovery_approved",
        "recovered",
        "in_stock",
        "deployed",
    ]
    assert events[2]["actor_name"] == "branch_ops_a"
    assert events[2]["reason"] == "merchant has no need"


def test_openapi_docs_describe_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/v1/terminals/{terminal_id}/transitions" in schema["paths"]
    transition = schema["paths"]["/api/v1/terminals/{terminal_id}/transitions"]["post"]
    assert "409" in transition["responses"]
    assert "recovery_requested" in transition["description"]
    assert client.get("/docs").status_code == 200


def test_upload_and_download_use_the_import_code(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    ops = as_user("branch_ops_a")
    csv_text = (
        "商户编号,商户名称,所属网点编号,纬度,经度,坐标系\nM9,王记农资店,A1,35.02,118.37,gcj02\n"
    )
    answer = client.post(
        "/api/v1/imports/merchants",
        headers=ops,
        files={"file": ("商户.csv", csv_text.encode("gbk"), "text/csv")},
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["created"], answer.json()["rows"]) == (1, 1)
    bad = client.post(
        "/api/v1/imports/merchants",
        headers=ops,
        files={"file": ("m.csv", b"code,name,branch_code\nM10,x,B1\n", "text/csv")},
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"]["errors"][0]["row"] == 2
    assert (
        client.post(
            "/api/v1/imports/merchants",
            headers=as_user("field_a"),
            files={"file": ("m.csv", csv_text.encode(), "text/csv")},
        ).status_code
        == 403
    )

    exported = client.get("/api/v1/exports/merchants", headers=ops, params={"format": "csv"})
    assert exported.status_code == 200
    text = exported.content.decode("utf-8-sig")
    assert "M9,王记农资店" in text
    assert "CB1" not in text  # only the caller's subtree


def test_a_refused_upload_gives_every_problem_when_asked(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    """A file of 150 bad rows answers 422 with the first 100 problems and errors_total 150;
    the other 50 could not be had. `problems=all` lists all of them, refused or skip_bad, and
    the OpenAPI schema says so."""
    ops = as_user("branch_ops_a")
    bad_rows = "sn,branch_code\n" + "".join(f"S{n},NOPE\n" for n in range(150))

    def upload(**params: str) -> dict:  # type: ignore[type-arg]
        answer = client.post(
            "/api/v1/imports/terminals",
            headers=ops,
            params=params,
            files={"file": ("t.csv", bad_rows.encode(), "text/csv")},
        )
        assert answer.status_code == (200 if params.get("skip_bad") else 422), answer.text
        body = answer.json()
        return body if params.get("skip_bad") else body["error"]["details"]

    first = upload()
    assert (len(first["errors"]), first["errors_total"]) == (100, 150)
    every = upload(problems="all")
    assert (len(every["errors"]), every["errors_total"]) == (150, 150)
    assert [e["row"] for e in every["errors"]] == list(range(2, 152))
    kept = upload(problems="all", skip_bad="true")
    assert (len(kept["errors"]), kept["skipped"]) == (150, 150)
    schema = client.get("/openapi.json").json()["paths"]["/api/v1/imports/{kind}"]["post"]
    asked = {p["name"]: p for p in schema["parameters"]}
    assert asked["problems"]["schema"]["enum"] == ["first", "all"]
    assert "problems=all" in schema["description"]
