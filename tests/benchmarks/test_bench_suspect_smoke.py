"""The suspected-fault benchmark's smoke mode, so that it cannot rot: its figures are not
asserted (speed is measured by running it by hand), only that both designs find the same."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_URL

pytestmark = pytest.mark.skipif(
    TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass"
)


def test_suspect_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_suspect

    results = bench_suspect.main(["--smoke"])
    assert results["same"] == 1.0 and results["suspicions"] > 0
    assert results["transactions"] > 100_000
    assert "the same suspicions: True" in capsys.readouterr().out
