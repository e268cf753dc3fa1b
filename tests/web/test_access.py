"""Sign-in, tokens, roles and branch scope, through the HTTP API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fleet.web.app import create_app
from tests.factories import TwoBranches

# Open by design: liveness and readiness are probed by load balancers and orchestrators that
# hold no token; sign-in is how a token is got. (/metrics is left out of the schema and
# needs an admin's or the scraper's token: tests/ops/test_observability.py.)
OPEN_PATHS = {"/healthz", "/readyz", "/api/v1/auth/token"}


def test_health_needs_no_sign_in(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_every_other_route_refuses_an_anonymous_caller(client: TestClient) -> None:
    paths = create_app().openapi()["paths"]
    checked = 0
    for template, operations in paths.items():
        if template in OPEN_PATHS:
            continue
        path = template.replace("{kind}", "merchants")
        for name in ("branch_id", "market_id", "merchant_id", "terminal_id", "user_id", "token_id"):
            path = path.replace("{" + name + "}", "1")
        for method in operations:
            answer = client.request(method.upper(), path)
            assert answer.status_code == 401, f"{method} {path}: {answer.status_code}"
            assert answer.headers["www-authenticate"] == "Bearer"
            assert answer.json()["error"]["code"] == "unauthorized"
            checked += 1
    assert checked >= 25


def test_wrong_password_and_garbage_tokens_are_refused(
    client: TestClient, world: TwoBranches
) -> None:
    answer = client.post("/api/v1/auth/token", data={"username": "field_a", "password": "nope"})
    assert answer.status_code == 401
    assert answer.json()["error"]["message"] == "wrong username or password"
    unknown = client.post("/api/v1/auth/token", data={"username": "ghost", "password": "nope"})
    assert unknown.json() == answer.json()
    for token in ("garbage", "flt_garbage"):
        got = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 401


def test_api_tokens_work_until_revoked(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    created = client.post(
        "/api/v1/auth/api-tokens", json={"name": "nightly script"}, headers=as_user("branch_ops_a")
    )
    assert created.status_code == 201
    token = created.json()["token"]
    script = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/auth/me", headers=script).json()["username"] == "branch_ops_a"
    listed = client.get("/api/v1/auth/api-tokens", headers=as_user("branch_ops_a")).json()
    assert [t["name"] for t in listed] == ["nightly script"]
    assert "token" not in listed[0]
    revoked = client.delete(
        f"/api/v1/auth/api-tokens/{created.json()['id']}", headers=as_user("branch_ops_a")
    )
    assert revoked.json()["revoked_at"] is not None
    assert client.get("/api/v1/auth/me", headers=script).status_code == 401


def test_a_disabled_user_is_locked_out(client: TestClient, world: TwoBranches, as_user) -> None:  # type: ignore[no-untyped-def]
    field = as_user("field_a")
    user_id = world.users["field_a"].id
    assert (
        client.patch(
            f"/api/v1/users/{user_id}", json={"is_active": False}, headers=as_user("branch_ops_a")
        ).status_code
        == 200
    )
    assert client.get("/api/v1/auth/me", headers=field).status_code == 401


# Every object of outlet B1 (outside county A's subtree), by list path and id.
def foreign_objects(world: TwoBranches) -> dict[str, int]:
    return {
        "branches": world.branches["B1"].id or 0,
        "markets": world.markets["B1"].id or 0,
        "merchants": world.merchants["B1"].id or 0,
        "terminals": world.terminals["B1"].id or 0,
        "users": world.users["branch_ops_b"].id or 0,
    }


@pytest.mark.parametrize("kind", ["branches", "markets", "merchants", "terminals", "users"])
def test_another_branchs_objects_are_not_found(
    client: TestClient, world: TwoBranches, as_user, kind: str
) -> None:  # type: ignore[no-untyped-def]
    object_id = foreign_objects(world)[kind]
    ops_a = as_user("branch_ops_a")
    got = client.get(f"/api/v1/{kind}/{object_id}", headers=ops_a)
    assert got.status_code == 404
    assert got.json()["error"]["code"] == "not_found"
    assert client.patch(f"/api/v1/{kind}/{object_id}", json={}, headers=ops_a).status_code == 404
    listed = client.get(f"/api/v1/{kind}", params={"limit": 1000}, headers=ops_a).json()
    assert object_id not in {item["id"] for item in listed["items"]}
    # The admin at the city branch sees it.
    assert client.get(f"/api/v1/{kind}/{object_id}", headers=as_user("admin")).status_code == 200


@pytest.mark.parametrize("path", ["placements", "events"])
def test_another_branchs_terminal_history_is_not_found(
    client: TestClient, world: TwoBranches, as_user, path: str
) -> None:  # type: ignore[no-untyped-def]
    terminal_id = world.terminals["B1"].id
    assert (
        client.get(
            f"/api/v1/terminals/{terminal_id}/{path}", headers=as_user("field_a")
        ).status_code
        == 404
    )


def test_lists_hold_exactly_the_callers_subtree(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    codes = {
        item["code"]
        for item in client.get("/api/v1/branches", headers=as_user("field_a")).json()["items"]
    }
    assert codes == {"A", "A1"}
    admin_codes = {
        item["code"]
        for item in client.get("/api/v1/branches", headers=as_user("admin")).json()["items"]
    }
    assert admin_codes == {"LY", "A", "A1", "B", "B1"}
    terminals = client.get("/api/v1/terminals", headers=as_user("branch_ops_b")).json()
    assert [t["sn"] for t in terminals["items"]] == ["SNB1"]
    assert terminals["total"] == 1


def test_a_foreign_terminal_cannot_be_moved_or_deployed_to(
    client: TestClient, world: TwoBranches, as_user
) -> None:  # type: ignore[no-untyped-def]
    ops_a = as_user("branch_ops_a")
    answer = client.post(
        f"/api/v1/terminals/{world.terminals['B1'].id}/transitions",
        json={"to_state": "recovery_requested"},
        headers=ops_a,
    )
    assert answer.status_code == 404
    # A unit of A cannot be placed on a merchant of B either.
    created = client.post(
        "/api/v1/terminals", json={"sn": "NEW1", "branch_code": "A1"}, headers=ops_a
    ).json()
    answer = client.post(
        f"/api/v1/terminals/{created['id']}/transitions",
        json={"to_state": "deployed", "merchant_code": "CB1"},
        headers=ops_a,
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "merchant CB1 not found"


@pytest.mark.parametrize("username", ["field_a", "marketing_a"])
def test_only_operations_change_lifecycle_state(
    client: TestClient, world: TwoBranches, as_user, username: str
) -> None:  # type: ignore[no-untyped-def]
    answer = client.post(
        f"/api/v1/terminals/{world.terminals['A1'].id}/transitions",
        json={"to_state": "recovery_requested", "reason": "idle"},
        headers=as_user(username),
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"


def test_field_staff_read_what_visits_need_and_nothing_more(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    field = as_user("field_a")
    for kind in ("branches", "markets", "merchants", "terminals"):
        assert client.get(f"/api/v1/{kind}", headers=field).status_code == 200
    assert client.get("/api/v1/users", headers=field).status_code == 403
    assert client.get("/api/v1/audit", headers=field).status_code == 403
    assert (
        client.post(
            "/api/v1/merchants", headers=field, json={"code": "X", "name": "X", "branch_code": "A1"}
        ).status_code
        == 403
    )


def test_branch_ops_cannot_make_admins_or_top_level_branches(client: TestClient, as_user) -> None:  # type: ignore[no-untyped-def]
    ops_a = as_user("branch_ops_a")
    answer = client.post(
        "/api/v1/users",
        headers=ops_a,
        json={
            "username": "boss",
            "role": "admin",
            "branch_code": "A1",
            "password": "long-enough-1",
        },
    )
    assert answer.status_code == 403
    answer = client.post(
        "/api/v1/users",
        headers=ops_a,
        json={
            "username": "newfield",
            "role": "field",
            "branch_code": "B1",
            "password": "long-enough-1",
        },
    )
    assert answer.status_code == 404
    assert (
        client.post(
            "/api/v1/branches", headers=ops_a, json={"code": "Z", "name": "Z", "parent_code": "A"}
        ).status_code
        == 403
    )


def test_audit_shows_writes_of_the_subtree_only(
    client: TestClient, world: TwoBranches, as_user
) -> None:  # type: ignore[no-untyped-def]
    client.patch(
        f"/api/v1/merchants/{world.merchants['A1'].id}",
        json={"phone": "13800000000"},
        headers=as_user("branch_ops_a"),
    )
    entries = client.get(
        "/api/v1/audit", params={"entity": "merchant"}, headers=as_user("branch_ops_a")
    ).json()["items"]
    assert entries[0]["entity_id"] == "CA1"
    assert entries[0]["actor_name"] == "branch_ops_a"
    assert entries[0]["changes"] == {"phone": [None, "13800000000"]}
    assert "CB1" not in {e["entity_id"] for e in entries}
