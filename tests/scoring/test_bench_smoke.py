"""The scoring benchmark's smoke run, so that it cannot rot; its speed is measured by hand."""

from __future__ import annotations

import pytest

from tests.benchmarks import bench_score
from tests.conftest import TEST_URL


@pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="SQLite only, run once")
def test_the_benchmark_scores_its_synthetic_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    first, again = bench_score.main(["--terminals", "300", "--days", "150"])
    assert first.terminals == again.terminals == 300
    assert first.by_status == again.by_status
    assert all(first.by_status[s] for s in ("active", "idle", "dormant", "never_used"))
    assert "re-run: score()" in capsys.readouterr().out
