"""The map benchmark's smoke mode, so that it cannot rot; figures are printed, not asserted."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_URL
from tests.maps import browser

pytestmark = pytest.mark.skipif(
    TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"
)


def test_map_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_map

    results = bench_map.main(["--smoke"] + (["--no-browser"] if browser.available() else []))
    assert results["counts"]["terminals"] == results["terminals"] == 2_000
    assert results["counts"]["white_spots"] == 400
    assert 0 < results["mb"] < 15 and results["render_s"] > 0
    if "drawn_s" in results:
        assert results["on_map"] == results["drawn_terminals"] == 2_000
    assert "render:" in capsys.readouterr().out
