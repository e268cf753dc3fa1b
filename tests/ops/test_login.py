"""Sign-in lockout after repeated failures, token expiry, and signing out everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core.audit import AuditEntry
from fleet.core.config import get_settings
from fleet.core.db import session_scope, utcnow
from tests import factories
from tests.web.conftest import sign_in, world

__all__ = ["world"]  # fixtures
WRONG = {
    "error": {"code": "unauthorized", "message": "wrong username or password", "details": None}
}


def attempt(client: TestClient, username: str, password: str) -> int:
    answer = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    if answer.status_code != 200:
        assert answer.json() == WRONG  # the same words for every refusal
    return answer.status_code


def user_row(engine: Engine, username: str) -> User:
    with Session(engine) as session:
        return session.execute(select(User).where(col(User.username) == username)).scalar_one()


def test_five_failures_lock_the_account_for_a_while(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    for _ in range(4):
        assert attempt(client, "field_a", "guess") == 401
    assert user_row(engine, "field_a").failed_logins == 4
    assert attempt(client, "field_a", "guess") == 401  # the fifth: locked
    locked = user_row(engine, "field_a")
    assert locked.locked_until is not None
    assert timedelta(minutes=14) < locked.locked_until - utcnow() <= timedelta(minutes=15)
    # Locked, the right password gets the same answer as a wrong one.
    assert attempt(client, "field_a", factories.PASSWORD) == 401
    # Others are not affected.
    assert attempt(client, "branch_ops_b", factories.PASSWORD) == 200
    with Session(engine) as session:
        locks = session.execute(
            select(AuditEntry.entity_id).where(col(AuditEntry.action) == "lock")
        ).scalars()
        assert list(locks) == ["field_a"]
    # When the lock ends, the right password works and the count starts again.
    with session_scope(engine) as session:
        row = session.execute(select(User).where(col(User.username) == "field_a")).scalar_one()
        row.locked_until = utcnow() - timedelta(seconds=1)
    assert attempt(client, "field_a", factories.PASSWORD) == 200
    fresh = user_row(engine, "field_a")
    assert (fresh.failed_logins, fresh.locked_until) == (0, None)


def test_failures_spread_wider_than_the_window_do_not_lock(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    for _ in range(4):
        attempt(client, "field_a", "guess")
    with session_scope(engine) as session:  # those four were 20 minutes ago
        row = session.execute(select(User).where(col(User.username) == "field_a")).scalar_one()
        row.first_failed_at = utcnow() - timedelta(minutes=20)
    attempt(client, "field_a", "guess")
    row = user_row(engine, "field_a")
    assert (row.failed_logins, row.locked_until) == (1, None)
    assert attempt(client, "field_a", factories.PASSWORD) == 200


@pytest.fixture
def short_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLEET_ACCESS_TOKEN_MINUTES", "0")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FLEET_ACCESS_TOKEN_MINUTES")
    get_settings.cache_clear()


def test_access_tokens_expire(
    client: TestClient, world: factories.TwoBranches, short_tokens: None
) -> None:
    answer = client.post(
        "/api/v1/auth/token", data={"username": "field_a", "password": factories.PASSWORD}
    )
    assert answer.json()["expires_in"] == 0
    token = answer.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    assert me.json()["error"]["message"] == "invalid or expired token"


def test_a_token_without_expiry_or_with_another_key_is_refused(
    client: TestClient, world: factories.TwoBranches
) -> None:
    user_id = world.users["field_a"].id
    key = get_settings().secret_key
    forever = jwt.encode({"sub": str(user_id), "ver": 0}, key, algorithm="HS256")
    forged = jwt.encode(
        {"sub": str(user_id), "exp": utcnow() + timedelta(hours=1)},
        "a-guessed-key-that-is-long-enough-0123456789",
        algorithm="HS256",
    )
    for token in (forever, forged):
        got = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert got.status_code == 401


def test_logout_all_ends_every_session_of_the_user(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    laptop, phone = sign_in(client, "branch_ops_a"), sign_in(client, "branch_ops_a")
    other = sign_in(client, "field_a")
    script = client.post(
        "/api/v1/auth/api-tokens", json={"name": "nightly"}, headers=laptop
    ).json()["token"]
    script_headers = {"Authorization": f"Bearer {script}"}
    answer = client.post("/api/v1/auth/logout-all", headers=phone)
    assert answer.status_code == 200 and answer.json() == {"api_tokens_revoked": 0}
    for headers in (laptop, phone):
        assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=other).status_code == 200  # another user
    assert client.get("/api/v1/auth/me", headers=script_headers).status_code == 200
    again = sign_in(client, "branch_ops_a")  # a new sign-in works
    assert client.get("/api/v1/auth/me", headers=again).status_code == 200
    # With api_tokens=true the scripts' tokens go too.
    revoked = client.post("/api/v1/auth/logout-all?api_tokens=true", headers=again)
    assert revoked.json() == {"api_tokens_revoked": 1}
    assert client.get("/api/v1/auth/me", headers=script_headers).status_code == 401
    assert client.get("/api/v1/auth/me", headers=again).status_code == 401
    with Session(engine) as session:
        entries = session.execute(
            select(AuditEntry.entity_id).where(col(AuditEntry.action) == "logout_all")
        ).scalars()
        assert list(entries) == ["branch_ops_a", "branch_ops_a"]
