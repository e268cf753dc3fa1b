"""Pages with the database down (issue 14): a proper HTML error page that needs no database,
and no answer shows a filesystem path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fleet.auth.browser import COOKIE
from fleet.core.config import get_settings
from tests import factories
from tests.web.conftest import sign_in


@pytest.fixture
def database_down(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """The app's database becomes unreachable (a SQLite file in a folder that is not there)."""
    monkeypatch.setenv("FLEET_DATABASE_URL", f"sqlite:///{tmp_path}/gone/fleet.db")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_page_with_the_database_down_is_an_html_503(
    app: FastAPI, world: factories.TwoBranches, request: pytest.FixtureRequest
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        token = sign_in(client, "branch_ops_a")["Authorization"].removeprefix("Bearer ")
        request.getfixturevalue("database_down")
        for path in ("/ops", "/ops/plans", "/login"):
            client.cookies.set(COOKIE, token)
            answer = client.get(path, follow_redirects=False)
            if path == "/login" and answer.status_code == 200:
                continue  # the sign-in page itself needs no database
            assert answer.status_code == 503, (path, answer.status_code, answer.text[:200])
            assert answer.headers["content-type"].startswith("text/html"), path
            assert "<html" in answer.text and "gone" not in answer.text


@pytest.mark.parametrize("missing", ["FLEET_MAP_ASSETS_DIR", "FLEET_MAP_PRESETS"])
def test_missing_map_files_answer_503_without_a_path(
    app: FastAPI,
    world: factories.TwoBranches,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    missing: str,
) -> None:
    monkeypatch.setenv(missing, str(tmp_path / "nowhere"))
    get_settings.cache_clear()
    try:
        with TestClient(app) as client:
            answer = client.get("/maps/coverage", headers=sign_in(client, "admin"))
        assert answer.status_code == 503, answer.text
        assert "nowhere" not in answer.text and str(tmp_path) not in answer.text
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
