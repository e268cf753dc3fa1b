"""`fleet map`: files that open offline, the default folder, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.config import get_settings
from tests.maps.conftest import MapWorld, payload_of
from tests.terminal import EN

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_coverage_file_carries_everything_it_needs(map_world: MapWorld, tmp_path: Path) -> None:
    out = tmp_path / "a.html"
    code, stdout, stderr = run("map", "coverage", "--branch", "A", "--out", str(out))
    assert (code, stderr) == (0, ""), stderr
    assert "终端 4 台，市场 2 个，网点 2 个，无机具商户 1 户" in stdout
    assert "1 台终端未显示：其商户没有坐标" in stdout
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html and "L.map(" in html
    data = payload_of(html)
    assert sorted(data["terminals"]["sn"]) == ["SNA1", "SNA2", "SNA3", "SNA4"]
    # A file has no server of its own: popups link to the configured one.
    assert data["api"] == "http://127.0.0.1:8000/api/v1"


def test_english_and_gcj02(map_world: MapWorld, tmp_path: Path) -> None:
    out = tmp_path / "en.html"
    code, _, stderr = run("map", "coverage", "--lang", "en", "--base", "amap", "--out", str(out))
    assert code == 0, stderr
    data = payload_of(out.read_text(encoding="utf-8"))
    assert (data["lang"], data["datum"]) == ("en", "gcj02")


def test_default_folder_is_maps(
    map_world: MapWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    code, _, stderr = run("map", "coverage", "--branch", "B1")
    assert code == 0, stderr
    assert (tmp_path / "maps" / "coverage-B1.html").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("map", "routes", "--branch", "A", "--date", "2026-13-01"), "error: --date must be"),
        (("map", "campaign", "1", "--lang", "fr"), "error: --lang must be zh or en"),
        (("map", "coverage", "--branch", "NOPE"), "error: branch NOPE not found"),
        (("map", "coverage", "--out", "x.png"), "error: --out must name an .html file"),
        (("map", "coverage", "--lang", "fr"), "error: --lang must be zh or en"),
        (("map", "coverage", "--base", "bing"), "error: unknown base map 'bing'"),
    ],
)
def test_bad_input_is_one_line(engine: Engine, args: tuple[str, ...], message: str) -> None:
    code, _, stderr = run(*args, env=EN)
    assert code == 1
    assert stderr.startswith(message) and stderr.count("\n") == 1
