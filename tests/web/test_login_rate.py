"""Sign-in rate limit per client address: counted in the database, shared by app workers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from fleet.auth.models import LoginAttempt
from fleet.core.access import Role
from fleet.core.config import get_settings
from fleet.core.db import session_scope, utcnow
from fleet.web.app import create_app
from tests import factories

HERE = ("127.0.0.7", 50000)
ELSEWHERE = ("127.0.0.8", 50000)


@pytest.fixture
def limit_three(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FLEET_LOGIN_RATE_PER_IP", "3")
    monkeypatch.setenv("FLEET_LOGIN_RATE_WINDOW_SECONDS", "60")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("FLEET_LOGIN_RATE_PER_IP")
    monkeypatch.delenv("FLEET_LOGIN_RATE_WINDOW_SECONDS")
    get_settings.cache_clear()


@pytest.fixture
def users(engine: Engine) -> None:
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.user(session, "ops", Role.branch_ops, "LY")
        factories.user(session, "other", Role.field, "LY")


def sign_in(client: TestClient, username: str, password: str = factories.PASSWORD) -> int:
    form = {"username": username, "password": password}
    return client.post("/api/v1/auth/token", data=form).status_code


def test_an_address_is_limited_whichever_accounts_it_tries(
    engine: Engine, limit_three: None, users: None
) -> None:
    with TestClient(create_app(), client=HERE) as here:
        # Three tries at different accounts (a spray): the per-account lock never triggers.
        assert sign_in(here, "ops", "guess-1") == 401
        assert sign_in(here, "other", "guess-2") == 401
        assert sign_in(here, "ops") == 200
        answer = here.post("/api/v1/auth/token", data={"username": "ops", "password": "x"})
        assert answer.status_code == 429
        assert answer.json()["error"]["code"] == "too_many_requests"
        assert 1 <= int(answer.headers["Retry-After"]) <= 60
        # Even the right password waits: the limit is on the address, before any check.
        assert sign_in(here, "other") == 429
    # Another address is not affected.
    with TestClient(create_app(), client=ELSEWHERE) as elsewhere:
        assert sign_in(elsewhere, "ops") == 200


def test_app_workers_share_the_count(engine: Engine, limit_three: None, users: None) -> None:
    """Two app instances (as two uvicorn workers) see one count: it lives in the database."""
    with (
        TestClient(create_app(), client=HERE) as one,
        TestClient(create_app(), client=HERE) as two,
    ):
        assert sign_in(one, "ops") == 200
        assert sign_in(two, "ops") == 200
        assert sign_in(one, "ops") == 200
        assert sign_in(two, "ops") == 429


def test_attempts_age_out_of_the_window(engine: Engine, limit_three: None, users: None) -> None:
    with TestClient(create_app(), client=HERE) as here:
        for _ in range(3):
            assert sign_in(here, "ops") == 200
        assert sign_in(here, "ops") == 429
        with session_scope(engine) as session:  # a minute passes
            session.execute(update(LoginAttempt).values(at=utcnow() - timedelta(seconds=61)))
        assert sign_in(here, "ops") == 200
        with session_scope(engine) as session:  # the aged attempts were cleared away
            assert session.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == 1


def test_zero_switches_the_limit_off(
    engine: Engine, users: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_LOGIN_RATE_PER_IP", "0")
    get_settings.cache_clear()
    try:
        with TestClient(create_app(), client=HERE) as here:
            assert all(sign_in(here, "ops") == 200 for _ in range(25))
        with session_scope(engine) as session:
            assert session.execute(select(func.count()).select_from(LoginAttempt)).scalar_one() == 0
    finally:
        monkeypatch.delenv("FLEET_LOGIN_RATE_PER_IP")
        get_settings.cache_clear()
