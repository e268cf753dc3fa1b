"""A bad body is the caller's mistake: 422 (or another 4xx), never a 500. Each field of each
body the API takes is sent as null, on the world of the route security test (issue 14)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.web import world as twin
from tests.web.test_route_security import ROUTES, SIGNED_IN, request_path
from tests.web.world import World

# Signing out would end the admin's token for the cases after it.
SKIPPED = {("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout-all")}


@pytest.fixture
def w(engine: Engine) -> World:
    return twin.build(engine)


def _body_fields(client: TestClient, method: str, path: str) -> list[str]:
    operation = client.app.openapi()["paths"][path][method.lower()]  # type: ignore[attr-defined]
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if not schema:
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = client.app.openapi()["components"]["schemas"][name]  # type: ignore[attr-defined]
    return sorted(schema.get("properties", {}))


def test_null_for_any_field_of_any_body_is_never_a_server_error(
    client: TestClient, w: World
) -> None:
    admin = w.token("admin")
    wrong: list[tuple[Any, ...]] = []
    checked = 0
    for key, rule in ROUTES.items():
        method, path = key
        if rule.access != SIGNED_IN or method not in ("POST", "PATCH", "PUT") or key in SKIPPED:
            continue
        base = rule.body(w, "A") if rule.body else {}
        if not isinstance(base, dict):
            continue
        for name in _body_fields(client, method, path):
            answer = client.request(
                method, request_path(w, key, "A"), headers=admin, json={**base, name: None}
            )
            checked += 1
            if answer.status_code >= 500:
                wrong.append((method, path, name, answer.status_code, answer.text[:120]))
    assert wrong == []
    assert checked > 60


def test_changing_a_campaign_date_is_audited(client: TestClient, w: World) -> None:
    path = f"/api/v1/campaigns/{w.ids['A']['campaign_id']}"
    ends_on = w.today + timedelta(days=40)
    answer = client.patch(path, headers=w.token("admin"), json={"ends_on": ends_on.isoformat()})
    assert answer.status_code == 200, answer.text
    assert answer.json()["ends_on"] == ends_on.isoformat()
    history = client.get(
        "/api/v1/audit",
        headers=w.token("admin"),
        params={"entity": "campaign", "entity_id": w.ids["A"]["campaign_id"]},
    )
    assert history.status_code == 200, history.text
    changes = [e["changes"] for e in history.json()["items"] if e["action"] == "update"]
    assert changes and changes[0]["ends_on"][1] == ends_on.isoformat()
