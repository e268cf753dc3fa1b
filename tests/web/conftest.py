"""An API client, and the two-branch world signed in as each of its users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from tests import factories


@pytest.fixture
def world(engine: Engine) -> factories.TwoBranches:
    with session_scope(engine) as session:
        return factories.two_branches(session)


def sign_in(
    client: TestClient, username: str, password: str = factories.PASSWORD
) -> dict[str, str]:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def as_user(client: TestClient, world: factories.TwoBranches):  # type: ignore[no-untyped-def]
    """as_user("field_a") → headers signed in as that user of the world."""
    cache: dict[str, dict[str, str]] = {}

    def headers(username: str) -> dict[str, str]:
        if username not in cache:
            cache[username] = sign_in(client, username)
        return cache[username]

    return headers
