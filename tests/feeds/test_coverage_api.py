"""Data coverage through the API and the command line, as an admin and an operator use them."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from tests import factories
from tests.terminal import EN
from tests.web.conftest import as_user, world

__all__ = ["as_user", "world"]  # fixtures
runner = CliRunner()


def test_the_api_sets_reads_and_clears_a_start(
    client: TestClient,
    world: factories.TwoBranches,
    as_user: Callable[[str], dict[str, str]],
) -> None:
    admin, ops = as_user("admin"), as_user("branch_ops_a")
    assert client.get("/api/v1/data-coverage", headers=ops).json() == {"start": None, "sources": []}
    put = client.put(
        "/api/v1/data-coverage/default", json={"starts_on": "2026-04-01"}, headers=admin
    )
    assert put.status_code == 200, put.text
    assert (put.json()["origin"], put.json()["updated_by_name"]) == ("admin", "admin")
    assert (
        client.put(
            "/api/v1/data-coverage/default", json={"starts_on": "2026-04-01"}, headers=ops
        ).status_code
        == 403
    )
    missing = client.put(
        "/api/v1/data-coverage/nightly", json={"starts_on": "2026-04-01"}, headers=admin
    )
    assert missing.status_code == 404 and "nightly" in missing.text
    future = client.put(
        "/api/v1/data-coverage/default", json={"starts_on": "2999-01-01"}, headers=admin
    )
    assert future.status_code == 422
    read = client.get("/api/v1/data-coverage", headers=ops).json()
    assert read["start"] == "2026-04-01"
    assert [(s["source"], s["starts_on"]) for s in read["sources"]] == [("default", "2026-04-01")]
    assert client.delete("/api/v1/data-coverage/default", headers=admin).status_code == 204
    assert client.get("/api/v1/data-coverage", headers=ops).json()["start"] is None


def test_the_command_line_sets_shows_and_clears_a_start(engine: Engine) -> None:
    shown = runner.invoke(app, ["coverage", "show"])
    assert shown.exit_code == 0
    assert "尚无数据覆盖" in shown.stdout  # the default language, Chinese
    done = runner.invoke(app, ["coverage", "set", "default", "2026-04-01"])
    assert (done.exit_code, done.stdout.strip()) == (
        0,
        "文件导入及其他来源 (default)：自 2026-04-01 起数据完整；重新评分后生效（fleet score）",
    )
    shown = runner.invoke(app, ["coverage", "show"])
    assert "文件导入及其他来源 (default)：自 2026-04-01 起数据完整（由 cli:" in shown.stdout
    assert "状态从布放日与 2026-04-01 中较晚者起计" in shown.stdout
    bad = runner.invoke(app, ["coverage", "set", "default", "April"], env=EN)
    assert bad.exit_code == 1 and "April is not a date" in bad.stderr
    unknown = runner.invoke(app, ["coverage", "set", "nightly", "2026-04-01"], env=EN)
    assert unknown.exit_code != 0 and "no feed source 'nightly'" in unknown.stderr
    cleared = runner.invoke(app, ["coverage", "clear", "default"])
    assert cleared.stdout.strip() == "文件导入及其他来源 (default)：已清除"
    assert '"start": null' in runner.invoke(app, ["coverage", "show", "--json"]).stdout
