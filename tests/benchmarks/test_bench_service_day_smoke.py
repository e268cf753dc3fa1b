"""The service-day benchmark's smoke mode, so that it cannot rot. Its figures are not asserted
(speed is measured by running the benchmark by hand), only that the day is routed unbroken."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_URL

pytestmark = pytest.mark.skipif(
    TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"
)


def test_service_day_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_service_day

    results = bench_service_day.main(["--smoke"])
    assert results["routed"] > 0 and results["route_breaks"] == 0
    assert results["due_today_kept"] == results["due_today_routed"]
    assert results["routed"] + results["unplanned"] == results["tickets"]
    assert "route breaks found by the independent validator: 0" in capsys.readouterr().out
