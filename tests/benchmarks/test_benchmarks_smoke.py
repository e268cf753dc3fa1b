"""The benchmarks' smoke modes, so that they cannot rot. Figures are not asserted: speed is
measured by running the benchmarks by hand (see the README), not in a timed test."""

from __future__ import annotations

import os

import pytest

from tests.conftest import TEST_URL

# The smoke run covers SQLite and PostgreSQL itself; once per suite run is enough: in the
# PostgreSQL pass (which has no browser tests), since the two passes run side by side
# (scripts/test.sh) and the longer one sets the time.
pytestmark = pytest.mark.skipif(
    not TEST_URL.startswith("postgresql"), reason="run once, in the PostgreSQL pass"
)


def test_ingest_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_ingest

    # A database of this run's own: suites running side by side must not drop each other's.
    pg_url = bench_ingest.PG_URL + f"_smoke_{os.getpid()}"
    try:
        results = bench_ingest.main(["--smoke", "--pg-url", pg_url])
        phases = ("yardstick", "sqlite ingest", "sqlite score", "sqlite re-ingest", "sqlite floor")
        for phase in phases:
            assert float(results[phase]["seconds"]) > 0  # type: ignore[arg-type]
        ingest = results["sqlite ingest"]
        assert ingest["received"] == ingest["accepted"]
        again = results["sqlite re-ingest"]
        assert (again["accepted"], again["duplicate"]) == (0, ingest["accepted"])
        # The floor stores exactly what ingest stored, without ingest's own work.
        assert results["sqlite floor"]["stored"] == ingest["accepted"]
        out = capsys.readouterr().out
        assert "ingest + score" in out and "sqlite floor:" in out
        if "postgresql ingest" in results:  # PostgreSQL reachable: its floor beside its ingest
            pg = results["postgresql ingest"]
            assert pg["received"] == pg["accepted"] == ingest["accepted"]
            assert results["postgresql floor"]["stored"] == pg["accepted"]
            assert float(results["postgresql floor"]["seconds"]) > 0  # type: ignore[arg-type]
            assert "postgresql: ingest / floor = " in out
    finally:
        bench_ingest.drop_databases(pg_url, pg_url + "_floor")


def test_revenue_overhead_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_ingest

    pg_url = bench_ingest.PG_URL + f"_revenue_smoke_{os.getpid()}"
    try:
        results = bench_ingest.main(["--smoke", "--revenue-overhead", "--pg-url", pg_url])
        out = capsys.readouterr().out
        for db, found in results.items():
            assert len(found["with"]) == len(found["without"]) == 1  # type: ignore[arg-type]
            assert float(found["ratio"]) > 0  # type: ignore[arg-type]
            # With revenue the example schedule priced the feed; without, nothing was.
            (fee,) = found["fee_fen"]  # type: ignore[misc]
            assert fee > 0 and found["fee_fen_without"] == [0]
            assert f"{db}: median " in out and "with / without = " in out
        assert "sqlite" in results
    finally:
        bench_ingest.drop_databases(pg_url, pg_url + "_run")


def test_scorecard_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_ingest, bench_scorecard

    pg_url = bench_ingest.PG_URL + f"_scorecard_smoke_{os.getpid()}"
    try:
        results = bench_scorecard.main(["--smoke", "--pg-url", pg_url])
        assert results["sqlite"]["staff"] > 0 and results["sqlite"]["branch"] > 0
        out = capsys.readouterr().out
        assert "by staff: " in out and "40 rows" in out
        if "postgresql" in results:
            assert "postgresql / sqlite = " in out
    finally:
        bench_ingest.drop_databases(pg_url)


def test_import_benchmark_smoke(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.benchmarks import bench_import, bench_ingest

    pg_url = bench_ingest.PG_URL + f"_import_smoke_{os.getpid()}"
    results = bench_import.main(["--smoke", "--pg-url", pg_url])
    out = capsys.readouterr().out
    for db, found in results.items():
        assert set(found) == set(bench_import.STEPS)
        assert all(rate > 0 for rate in found.values())
        assert f"{db:<11}" in out and "merchants preview" in out
    assert "sqlite" in results
