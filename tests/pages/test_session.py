"""Browser sign-in at the protocol level: the cookie, CSRF, the action kept across an expired
session, no open redirects, the map pages by cookie; on both databases."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.auth.browser import COOKIE
from fleet.auth.models import User
from fleet.core.db import session_scope
from tests import factories
from tests.pages.forms import form_for


def language_of(engine: Engine, username: str) -> str:
    with session_scope(engine) as session:
        return session.exec(select(User).where(User.username == username)).one().language


def sign_in(client: TestClient, username: str, next_url: str = "/") -> None:
    answer = client.post(
        "/login",
        data={"username": username, "password": factories.PASSWORD, "next": next_url},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_pages_send_a_stranger_to_sign_in(client: TestClient) -> None:
    answer = client.get("/ops/recovery?state=raised", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fops%2Frecovery%3Fstate%3Draised"


def test_sign_in_sets_a_protected_cookie_and_goes_where_asked(
    client: TestClient, world: factories.TwoBranches
) -> None:
    answer = client.post(
        "/login",
        data={"username": "branch_ops_a", "password": factories.PASSWORD, "next": "/ops/search"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ops/search"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(
    client: TestClient, world: factories.TwoBranches, target: str
) -> None:
    answer = client.post(
        "/login",
        data={"username": "field_a", "password": factories.PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/field/today"


def test_wrong_password_is_refused_and_counted(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    answer = client.post("/login", data={"username": "field_a", "password": "nope-nope-nope"})
    assert answer.status_code == 401
    assert COOKIE not in answer.cookies
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == "field_a")).one()
        assert user.failed_logins == 1


def test_a_form_needs_its_csrf_token(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "field_a")
    forged = client.post("/settings/language", data={"language": "en", "next": "/"})
    # Signed in, but no token: the form is shown again to be confirmed, nothing changes yet.
    assert forged.status_code == 200
    assert language_of(engine, "field_a") == "zh"
    confirmed = client.post(
        "/settings/language",
        data=dict(form_for(forged.text, "/settings/language")),
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    assert language_of(engine, "field_a") == "en"


def test_another_sites_form_is_refused(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    sign_in(client, "field_a")
    answer = client.post(
        "/settings/language",
        data={"language": "en"},
        headers={"Origin": "http://evil.example"},
    )
    assert answer.status_code == 403
    assert language_of(engine, "field_a") == "zh"


def test_an_action_survives_an_expired_session(
    client: TestClient, world: factories.TwoBranches, engine: Engine
) -> None:
    """The user posts after the session ended: they sign in and the action goes through."""
    answer = client.post("/settings/language", data={"language": "en", "next": "/"})
    assert answer.status_code == 401
    login_fields = dict(form_for(answer.text, "/login"))
    assert login_fields["pending"]
    login_fields.update(username="field_a", password=factories.PASSWORD)
    resumed = client.post("/login", data=login_fields)
    assert resumed.status_code == 200
    assert language_of(engine, "field_a") == "zh"  # not yet: the page sends it
    sent = client.post(
        "/settings/language",
        data=dict(form_for(resumed.text, "/settings/language")),
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert language_of(engine, "field_a") == "en"


def test_a_forged_pending_action_is_dropped(
    client: TestClient, world: factories.TwoBranches
) -> None:
    answer = client.post(
        "/login",
        data={
            "username": "field_a",
            "password": factories.PASSWORD,
            "pending": "eyJhbGciOiJIUzI1NiJ9.eyJwYXRoIjoiL2FkbWluIn0.forged",
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/field/today"


def test_maps_open_by_cookie_and_send_a_browser_to_sign_in(
    client: TestClient, world: factories.TwoBranches
) -> None:
    as_browser = {"Accept": "text/html,application/xhtml+xml"}
    stranger = client.get("/maps/coverage", headers=as_browser, follow_redirects=False)
    assert stranger.status_code == 303
    assert stranger.headers["location"] == "/login?next=%2Fmaps%2Fcoverage"
    assert client.get("/maps/coverage").status_code == 401  # a script: JSON error
    sign_in(client, "branch_ops_a")
    page = client.get("/maps/coverage", headers=as_browser)
    assert page.status_code == 200
    assert "FleetMap" in page.text


def test_sign_out_ends_the_browser_session(
    client: TestClient, world: factories.TwoBranches
) -> None:
    sign_in(client, "field_a")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/field/today"
    out = client.post("/logout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"].startswith("/login")


def _csrf(client: TestClient) -> str:
    from fleet.auth.browser import csrf_token

    return csrf_token(client.cookies[COOKIE])


def test_sign_in_page_shares_the_per_address_limit(
    client: TestClient, world: factories.TwoBranches, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEET_LOGIN_RATE_PER_IP", "2")
    from fleet.core.config import get_settings

    get_settings.cache_clear()
    try:
        for _ in range(2):
            client.post("/login", data={"username": "field_a", "password": "wrong-wrong"})
        answer = client.post("/login", data={"username": "field_a", "password": factories.PASSWORD})
        assert answer.status_code == 429
        assert COOKIE not in answer.cookies
    finally:
        monkeypatch.delenv("FLEET_LOGIN_RATE_PER_IP")
        get_settings.cache_clear()
