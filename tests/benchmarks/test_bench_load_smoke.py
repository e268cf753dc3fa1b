"""The load benchmark's smoke mode, so that it cannot rot: a tiny world, `fleet serve` as a
real process, 10 locust users for 5 s. Latencies are printed, not asserted (this machine is
shared); what is asserted is that every kind of user got answers, and none was an error."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_URL

# The smoke run builds its own SQLite database; once per suite run is enough.
pytestmark = pytest.mark.skipif(
    TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"
)


def test_load_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_load

    results = bench_load.main(["--smoke"])
    table = results["table"]
    assert table["all"]["requests"] > 10
    assert table["all"]["errors"] == 0, results["server_errors"]
    # Field staff, ops, marketing, admins and map viewers all came: each class was requested.
    for kind in ("list", "detail", "report", "map"):
        assert table[f"class {kind}"]["requests"] > 0, kind
    assert results["server_errors"] == []
    assert results["generator_cpu_s"] > 0 and results["server_cpu_s"] > 0
    out = capsys.readouterr().out
    assert "verdict:" in out and "class list" in out
