"""No public secret (issue 14): without FLEET_SECRET_KEY, tokens are signed with a random key
the database keeps; a token forged with the old published development secret is refused."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.auth import keys
from fleet.auth.models import AppSecret
from fleet.auth.security import create_access_token, decode_access_token
from fleet.core.access import Role
from fleet.core.config import PUBLIC_SECRET, get_settings
from fleet.core.db import session_scope, utcnow
from fleet.core.errors import Unauthorized
from tests import factories
from tests.terminal import EN


@pytest.fixture
def no_configured_key(monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Iterator[None]:
    monkeypatch.delenv("FLEET_SECRET_KEY")
    get_settings.cache_clear()
    keys.forget()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    keys.forget()


def test_without_a_configured_key_the_database_keeps_a_random_one(
    no_configured_key: None, engine: Engine
) -> None:
    key = keys.signing_key()
    assert len(key) >= 64 and key != PUBLIC_SECRET
    token, _ = create_access_token(7)
    keys.forget()  # a restart: the key is read again from the database
    assert keys.signing_key() == key
    assert decode_access_token(token).user_id == 7


def test_workers_starting_together_agree_on_one_key(
    no_configured_key: None, engine: Engine
) -> None:
    with engine.begin() as conn:
        conn.execute(delete(AppSecret))
    with ThreadPoolExecutor(4) as pool:
        made = list(pool.map(lambda _: keys.stored_key(engine), range(8)))
    assert len(set(made)) == 1
    with session_scope(engine) as session:
        assert list(session.exec(select(AppSecret.value)).all()) == made[:1]


def test_a_token_forged_with_the_published_secret_is_refused(
    no_configured_key: None, engine: Engine, client: TestClient
) -> None:
    with session_scope(engine) as session:
        admin = factories.user(
            session, "admin", Role.admin, factories.branch(session, "LY", level="city").code
        )
        admin_id = admin.id
    forged = jwt.encode(
        {"sub": str(admin_id), "ver": 0, "exp": utcnow() + timedelta(days=3650)},
        PUBLIC_SECRET,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        decode_access_token(forged)
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    genuine, _ = create_access_token(admin_id or 0)
    answer = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {genuine}"})
    assert answer.status_code == 200, answer.text


def test_production_refuses_a_short_key_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from fleet.cli.main import app

    monkeypatch.setenv("FLEET_ENVIRONMENT", "production")
    monkeypatch.setenv("FLEET_SECRET_KEY", "s3cret-short")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"], env=EN)
        chinese = CliRunner().invoke(
            app, ["db", "upgrade"], env={"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
        )
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "FLEET_SECRET_KEY must be at least 32 bytes in production" in result.output
    assert "s3cret-short" not in result.output and "Traceback" not in result.output
    # On a Chinese terminal the same refusal in Chinese.
    assert (chinese.exit_code, chinese.stderr) == (
        2,
        "错误：配置有误：生产环境中 FLEET_SECRET_KEY 至少要 32 字节（例如 openssl rand -hex 32）\n",
    )
