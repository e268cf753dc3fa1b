"""The routes benchmark's smoke mode, so that it cannot rot. Figures are not asserted, only
that both solves come back checked; speed is measured by running the benchmark by hand."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_URL

# The benchmark builds its own SQLite database; once per suite run is enough.
pytestmark = pytest.mark.skipif(
    TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"
)


def test_routes_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_routes

    results = bench_routes.main(["--smoke"])
    assert results["planned"] > 0 and results["reference_planned"] > 0
    assert results["plan_problems"] == results["reference_problems"] == 0
    assert results["objective"] > 0 and results["prize"] <= results["prize_total"]
    # The smoke run caps the solver at 12 candidates, and plans the day uncapped first.
    assert results["over_capacity"] == results["uncapped_candidates"] - 12
    assert results["uncapped_over_capacity"] == 0 and results["uncapped_planned"] > 0
    assert results["peak_mb"] > 0 and results["uncapped_rss_peak_mb"] > 0
    out = capsys.readouterr().out
    assert "against the reference" in out and "independent validator" in out
    assert "every candidate (as before)" in out and "candidates left for capacity" in out
