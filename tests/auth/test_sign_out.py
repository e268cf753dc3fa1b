"""Signing out refuses the token itself, server-side: a copy of it (a stolen cookie or bearer
token) stops working at once, while the user's other sessions go on; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.browser import COOKIE, csrf_token
from fleet.auth.models import RevokedToken, User
from fleet.auth.security import create_access_token
from fleet.core.audit import AuditEntry
from fleet.core.config import get_settings
from fleet.core.db import session_scope, utcnow
from fleet.jobs import runner
from fleet.migrations import alembic_config
from tests import factories
from tests.conftest import TEST_URL
from tests.web.conftest import sign_in, world

__all__ = ["world"]  # fixtures
EXPIRED = {
    "error": {"code": "unauthorized", "message": "invalid or expired token", "details": None}
}
AS_BROWSER = {"Accept": "text/html,application/xhtml+xml"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def revoked_rows(engine: Engine) -> list[RevokedToken]:
    with Session(engine) as session:
        return list(session.execute(select(RevokedToken).order_by(col(RevokedToken.jti))).scalars())


def audit_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def test_a_signed_out_token_is_refused_like_an_expired_one(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    laptop, phone = sign_in(client, "branch_ops_a"), sign_in(client, "branch_ops_a")
    assert client.get("/api/v1/auth/me", headers=laptop).status_code == 200
    audited = audit_count(engine)
    out = client.post("/api/v1/auth/logout", headers=laptop)
    assert out.status_code == 204 and out.content == b""
    for path in ("/api/v1/auth/me", "/api/v1/terminals"):
        again = client.get(path, headers=laptop)
        assert again.status_code == 401 and again.json() == EXPIRED
    assert client.post("/api/v1/auth/logout", headers=laptop).status_code == 401
    # The same user's other sign-in goes on; the signed-out one is kept until it would expire.
    assert client.get("/api/v1/auth/me", headers=phone).json()["username"] == "branch_ops_a"
    token = laptop["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    [row] = revoked_rows(engine)
    assert row.jti == claims["jti"] and row.user_id == world.users["branch_ops_a"].id
    assert row.expires_at == datetime.fromtimestamp(claims["exp"], UTC)
    # Sign-in leaves no audit entry, nor does sign-out (the lockout and logout-all do).
    assert audit_count(engine) == audited


def test_every_token_has_its_own_id(world: factories.TwoBranches) -> None:
    user_id = world.users["field_a"].id or 0
    tokens = [create_access_token(user_id)[0] for _ in range(50)]
    ids = {jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}
    assert len(ids) == 50


def test_an_api_token_is_not_signed_out_but_revoked(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    headers = sign_in(client, "field_a")
    script = client.post("/api/v1/auth/api-tokens", json={"name": "nightly"}, headers=headers)
    script_headers = bearer(script.json()["token"])
    answer = client.post("/api/v1/auth/logout", headers=script_headers)
    assert answer.status_code == 422
    assert "DELETE /api/v1/auth/api-tokens/" in answer.json()["error"]["message"]
    assert client.get("/api/v1/auth/me", headers=script_headers).status_code == 200
    assert revoked_rows(engine) == []


def test_a_token_from_before_ids_works_until_it_expires(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    old = jwt.encode(
        {
            "sub": str(world.users["field_a"].id),
            "ver": 0,
            "exp": utcnow() + timedelta(hours=1),
        },
        get_settings().secret_key,
        algorithm="HS256",
    )
    assert client.get("/api/v1/auth/me", headers=bearer(old)).status_code == 200
    # Nothing to name it by: signing it out is accepted, records nothing, and it runs out alone.
    assert client.post("/api/v1/auth/logout", headers=bearer(old)).status_code == 204
    assert revoked_rows(engine) == []
    assert client.get("/api/v1/auth/me", headers=bearer(old)).status_code == 200


def page_sign_in(client: TestClient, username: str) -> str:
    answer = client.post(
        "/login",
        data={"username": username, "password": factories.PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client.cookies[COOKIE]


def test_a_copied_cookie_stops_working_when_its_browser_signs_out(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    cookie = page_sign_in(client, "branch_ops_a")
    with TestClient(client.app) as thief:
        thief.cookies.set(COOKIE, cookie)
        assert thief.get("/ops", follow_redirects=False).status_code == 200
        assert thief.get("/maps/coverage", headers=AS_BROWSER).status_code == 200
        out = client.post("/logout", data={"csrf": csrf_token(cookie)}, follow_redirects=False)
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        assert COOKIE not in client.cookies
        # The copy, replayed: pages send it to sign in, a form post is not carried out.
        page = thief.get("/ops", follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fops")
        maps = thief.get("/maps/coverage", headers=AS_BROWSER, follow_redirects=False)
        assert maps.headers["location"] == "/login?next=%2Fmaps%2Fcoverage"
        language = thief.post(
            "/settings/language",
            data={"csrf": csrf_token(cookie), "language": "en"},
            follow_redirects=False,
        )
        assert language.status_code == 401 and 'name="pending"' in language.text
    with Session(engine) as session:
        user = session.get(User, world.users["branch_ops_a"].id)
        assert user is not None and user.language == "zh"  # the replayed form did nothing
    # The same token as a bearer is refused by the API too.
    answer = client.get("/api/v1/auth/me", headers=bearer(cookie))
    assert answer.status_code == 401 and answer.json() == EXPIRED
    # Signing in again gives a new session.
    page_sign_in(client, "branch_ops_a")
    assert client.get("/ops", follow_redirects=False).status_code == 200


def revoked(jti: str, user_id: int, expires_at: datetime) -> RevokedToken:
    return RevokedToken(jti=jti, user_id=user_id, expires_at=expires_at)


def _some_revoked(engine: Engine, user_id: int) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(revoked("expired-long-ago", user_id, now - timedelta(hours=3)))
        session.add(revoked("expired-10-min-ago", user_id, now - timedelta(minutes=10)))
        # Another worker's clock may be a little behind: kept a few minutes past the expiry.
        session.add(revoked("expired-1-min-ago", user_id, now - timedelta(minutes=1)))
        session.add(revoked("still-valid", user_id, now + timedelta(hours=7)))


def test_sign_out_purges_rows_of_expired_tokens_only(
    engine: Engine, world: factories.TwoBranches
) -> None:
    user_id = world.users["field_a"].id or 0
    _some_revoked(engine, user_id)
    token, _ = create_access_token(user_id)
    with session_scope(engine) as session:
        assert auth.sign_out(session, token) is True
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert sorted(r.jti for r in revoked_rows(engine)) == sorted(
        ["expired-1-min-ago", "still-valid", jti]
    )


def test_the_cleanup_job_purges_them_too(engine: Engine, world: factories.TwoBranches) -> None:
    """Without any sign-out for a while, the weekly clean-up still empties the table."""
    _some_revoked(engine, world.users["field_a"].id or 0)
    done = runner.run_job(engine, runner.get_job(engine, "cleanup"))
    assert done is not None and done.counts["revoked_tokens"] == 2
    assert sorted(r.jti for r in revoked_rows(engine)) == ["expired-1-min-ago", "still-valid"]


def test_a_token_signed_out_twice_is_recorded_once(
    engine: Engine, world: factories.TwoBranches
) -> None:
    """Two sign-outs of one token in flight at once (a double click) both get past the check
    of the token; the second must not fail on the key the first has written."""
    token, _ = create_access_token(world.users["field_a"].id or 0)
    for _ in range(2):
        with session_scope(engine) as session:
            assert auth.sign_out(session, token) is True
    assert len(revoked_rows(engine)) == 1


def test_the_migration_goes_down_and_up(engine: Engine) -> None:
    config = alembic_config(TEST_URL)
    try:
        command.downgrade(config, "terminal_day_clustered")
        assert "revoked_token" not in inspect(engine).get_table_names()
    finally:
        command.upgrade(config, "head")
    inspector = inspect(engine)
    assert "revoked_token" in inspector.get_table_names()
    assert inspector.get_pk_constraint("revoked_token")["constrained_columns"] == ["jti"]
    assert [i["column_names"] for i in inspector.get_indexes("revoked_token")] == [["expires_at"]]
