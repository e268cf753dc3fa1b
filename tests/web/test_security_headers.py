"""Security headers on every answer (issue 14): a CSP that runs only fleet's own scripts and
styles (map pages: a per-answer nonce for folium's inline scripts, and the tile servers on
offer), no framing, no sniffing, no referrer off the site, no-store on everything that is not
a static file; and the API docs behind sign-in when asked (on by default in production)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fleet.core.config import get_settings
from tests import factories
from tests.web.conftest import sign_in

TEMPLATES = Path(__file__).parents[2] / "fleet/pages/templates"


def _directives(policy: str) -> dict[str, list[str]]:
    parts = (p.split() for p in policy.split(";") if p.strip())
    return {p[0]: p[1:] for p in parts}


def _page_session(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login",
        data={"username": username, "password": factories.PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _common(answer: object) -> None:
    headers = answer.headers  # type: ignore[attr-defined]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_every_kind_of_answer_carries_the_headers(
    client: TestClient, world: factories.TwoBranches
) -> None:
    api = client.get("/api/v1/auth/me", headers=sign_in(client, "branch_ops_a"))
    login = client.get("/login")
    _page_session(client, "branch_ops_a")
    page = client.get("/ops")
    static = client.get("/pages/static/pages.js")
    missing = client.get("/api/v1/terminals/999999", headers=sign_in(client, "admin"))
    for answer in (api, login, page, static, missing):
        _common(answer)
    for answer in (api, login, page, missing):
        assert answer.headers["cache-control"] == "no-store", answer.url
    assert "no-store" not in static.headers.get("cache-control", "")
    for answer in (login, page):
        policy = _directives(answer.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
        assert "<script>" not in answer.text  # no inline script: the CSP would refuse it
    assert _directives(api.headers["content-security-policy"])["default-src"] == ["'none'"]


def test_page_templates_have_no_inline_script() -> None:
    """The pages' CSP runs no inline script, nor event-handler attributes."""
    found = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"\son\w+=", text):
            found.append(template.name)
    assert found == []


@pytest.fixture
def bank_tiles(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("FLEET_MAP_TILES_URL", "https://tiles.bank.example:8443/{z}/{x}/{y}.png")
    get_settings.cache_clear()
    yield "https://tiles.bank.example:8443"
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_map_page_allows_its_own_inline_scripts_by_nonce_and_its_tile_servers(
    client: TestClient, world: factories.TwoBranches, bank_tiles: str
) -> None:
    headers = sign_in(client, "admin")
    first, second = (client.get("/maps/coverage?base=osm", headers=headers) for _ in "12")
    assert first.status_code == 200, first.text
    _common(first)
    assert first.headers["cache-control"] == "no-store"
    policy = _directives(first.headers["content-security-policy"])
    nonce = next(s for s in policy["script-src"] if s.startswith("'nonce-"))[7:-1]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert {"https://tile.openstreetmap.org", bank_tiles} <= set(policy["img-src"])
    inline = r"<(?:script|style)\b(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>"
    tags = re.findall(inline, first.text)
    assert len(tags) > 2 and all(f'nonce="{nonce}"' in tag for tag in tags)
    assert "fleet-nonce-" not in first.text
    # A fresh nonce for every answer, even when the map itself is kept (memo).
    assert nonce not in second.headers["content-security-policy"]


@pytest.fixture
def docs_need_sign_in(monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    from fleet.web.app import create_app

    monkeypatch.setenv("FLEET_DOCS_SIGN_IN", "true")
    get_settings.cache_clear()
    yield create_app()
    monkeypatch.undo()
    get_settings.cache_clear()


def test_the_api_docs_can_be_kept_for_signed_in_users(
    engine: object, world: factories.TwoBranches, docs_need_sign_in: FastAPI
) -> None:
    with TestClient(docs_need_sign_in) as client:
        assert client.get("/openapi.json").status_code == 401
        assert client.get("/redoc").status_code == 401
        stranger = client.get("/docs", headers={"accept": "text/html"}, follow_redirects=False)
        assert stranger.status_code == 303 and stranger.headers["location"].startswith("/login")
        token = sign_in(client, "field_a")
        assert client.get("/openapi.json", headers=token).json()["info"]["title"] == "fleet"
        _page_session(client, "field_a")
        docs = client.get("/docs")
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        # Every file from fleet itself: the policy names no other host (issue 17).
        policy = docs.headers["content-security-policy"]
        scripts = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
        assert "http" not in policy and scripts.strip() == "script-src 'self'"
        assert client.get("/redoc").status_code == 200
        assert client.get("/openapi.json").status_code == 200  # the docs page's own fetch


def test_production_keeps_the_docs_for_signed_in_users_by_default() -> None:
    from fleet.core.config import Settings

    production = Settings(environment="production", secret_key="k" * 32, _env_file=None)  # type: ignore[call-arg]
    assert production.docs_need_sign_in
    assert not Settings(_env_file=None).docs_need_sign_in  # type: ignore[call-arg]


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_api_docs_without_their_files_say_how_to_install_them(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: str
) -> None:
    monkeypatch.setenv("FLEET_MAP_ASSETS_DIR", str(tmp_path / "nowhere"))
    get_settings.cache_clear()
    try:
        answer = client.get(path)
        assert answer.status_code == 503, answer.text
        assert "npm ci --prefix maps/assets" in answer.text and "nowhere" not in answer.text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
