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
    out = capsys.readouterr().out
    assert "against the reference" in out and "independent validator" in out
