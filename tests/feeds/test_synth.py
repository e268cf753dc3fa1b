"""The synthetic feed: deterministic, valid rows, readable variants, profiles as designed."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from fleet.core.errors import Invalid
from fleet.feeds.synth import (
    FEED_COLUMNS,
    FINANCIAL_TYPES,
    PROFILES,
    STATUSES,
    TXN_TYPES,
    FeedTerminal,
    bench_terminals,
    calendar_factor,
    farm_season_factor,
    generate_feed,
    profile_of,
    profiles,
)

AS_OF = date(2026, 11, 28)
AMOUNT = re.compile(r"^\d+\.\d{2}$")


def _read_csv(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == FEED_COLUMNS
        return list(reader)


def _ndjson_lines(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        yield from fh


def _frame(path: Path) -> pl.DataFrame:
    """The feed with typed columns: day, days before AS_OF, financial success."""
    return pl.read_csv(path, schema_overrides={"amount": pl.String}).with_columns(
        pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S").dt.date().alias("day"),
        ((pl.col("status") == "success") & pl.col("txn_type").is_in(list(FINANCIAL_TYPES))).alias(
            "used"
        ),
    )


def _usage(frame: pl.DataFrame, as_of: date, last: int = 30) -> dict[str, tuple[int, int, int]]:
    """Per terminal: days since last use, uses in the last `last` days, in the 90 before."""
    fin = frame.filter(pl.col("used")).with_columns(
        (pl.lit(as_of) - pl.col("day")).dt.total_days().alias("ago")
    )
    per = fin.group_by("terminal_sn").agg(
        pl.col("ago").min().alias("since"),
        (pl.col("ago") <= last).sum().alias("recent"),
        pl.col("ago").is_between(last + 1, last + 90).sum().alias("previous"),
    )
    return {r[0]: (r[1], r[2], r[3]) for r in per.iter_rows()}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[FeedTerminal], Path]:
    terminals = bench_terminals(50, as_of=AS_OF, seed=3)
    path = tmp_path_factory.mktemp("feed") / "small.csv"
    generate_feed(path, terminals, as_of=AS_OF, days=60, seed=11)
    return terminals, path


@pytest.fixture(scope="module")
def half_year(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[FeedTerminal], Path]:
    terminals = bench_terminals(600, as_of=AS_OF, seed=5)
    path = tmp_path_factory.mktemp("feed") / "half_year.csv"
    stats = generate_feed(path, terminals, as_of=AS_OF, days=180)
    assert stats.terminals == 600 and sum(stats.by_profile.values()) == 600
    return terminals, path


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    terminals = bench_terminals(40, as_of=AS_OF, seed=1)
    for name in ("a.csv", "b.csv"):
        generate_feed(tmp_path / name, terminals, as_of=AS_OF, days=30, seed=9)
    for name in ("a.ndjson.gz", "b.ndjson.gz"):
        generate_feed(tmp_path / name, terminals, as_of=AS_OF, days=30, seed=9, fmt="ndjson")
    generate_feed(tmp_path / "c.csv", terminals, as_of=AS_OF, days=30, seed=10)
    a = (tmp_path / "a.csv").read_bytes()
    assert a == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.ndjson.gz").read_bytes() == (tmp_path / "b.ndjson.gz").read_bytes()
    assert a != (tmp_path / "c.csv").read_bytes()
    assert bench_terminals(40, as_of=AS_OF, seed=1) == terminals
    assert not list(tmp_path.glob(".*.part"))


def test_rows_are_valid(small: tuple[list[FeedTerminal], Path]) -> None:
    terminals, path = small
    rows = _read_csv(path)
    deployed = {t.sn: t for t in terminals}
    first = AS_OF - timedelta(days=60)
    assert len({r["txn_ref"] for r in rows}) == len(rows)
    previous: datetime | None = None
    for r in rows:
        assert re.fullmatch(r"T\d{18}", r["txn_ref"])
        assert r["txn_type"] in TXN_TYPES and r["status"] in STATUSES
        assert AMOUNT.match(r["amount"]) and Decimal(r["amount"]) > 0
        at = datetime.fromisoformat(r["occurred_at"])
        assert len(r["occurred_at"]) == 19 and at.tzinfo is None
        assert first <= at.date() < AS_OF
        terminal = deployed[r["terminal_sn"]]
        assert at.date() >= terminal.deployed_on
        assert r["merchant_code"] == terminal.merchant_code
        assert previous is None or at >= previous  # time order
        previous = at


def test_volume_and_mix(small: tuple[list[FeedTerminal], Path]) -> None:
    terminals, path = small
    frame = _frame(path)
    assert 2_000 <= frame.height <= 20_000
    live_days = sum(min(60, max(0, (AS_OF - t.deployed_on).days)) for t in terminals)
    per_day = frame["used"].sum() / live_days
    assert 1.0 <= per_day <= 4.0
    share = frame.select(
        (pl.col("status") == "failed").mean().alias("failed"),
        (pl.col("txn_type") == "balance_inquiry").mean().alias("inquiry"),
        (pl.col("txn_type") == "reversal").mean().alias("reversal"),
    ).row(0, named=True)
    assert 0.01 <= share["failed"] <= 0.06
    assert 0.025 <= share["inquiry"] <= 0.09
    assert 0.002 <= share["reversal"] <= 0.03
    hours = frame.select(pl.col("occurred_at").str.slice(11, 2).cast(pl.Int32)).to_series()
    assert hours.is_between(8, 18).mean() >= 0.85  # type: ignore[operator]


def test_ndjson_and_gzip_carry_the_same_rows(tmp_path: Path) -> None:
    terminals = [*bench_terminals(30, as_of=AS_OF, seed=2)]
    # An awkward serial number and merchant code (comma, quote, Chinese), on a busy unit.
    odd = next(
        t
        for i in range(100)
        if profile_of(
            t := FeedTerminal(f'SN,"{i}"', "商户,01", date(2025, 1, 1), "五金"), as_of=AS_OF, seed=4
        )
        == "busy"
    )
    terminals.append(odd)
    plain = tmp_path / "feed.csv"
    generate_feed(plain, terminals, as_of=AS_OF, days=20, seed=4)
    zipped = generate_feed(tmp_path / "feed.csv.gz", terminals, as_of=AS_OF, days=20, seed=4)
    lines = tmp_path / "feed.ndjson.gz"
    generate_feed(lines, terminals, as_of=AS_OF, days=20, seed=4, fmt="ndjson")
    raw = tmp_path / "feed.ndjson"
    generate_feed(raw, terminals, as_of=AS_OF, days=20, seed=4, fmt="ndjson", gzip=False)

    rows = _read_csv(plain)
    assert rows and _read_csv(zipped.path) == rows
    assert gzip.decompress(lines.read_bytes()) == raw.read_bytes()
    objects = []
    for line in _ndjson_lines(lines):
        obj = json.loads(line, parse_float=Decimal)
        assert tuple(obj) == FEED_COLUMNS
        assert isinstance(obj["amount"], Decimal) and AMOUNT.match(str(obj["amount"]))
        objects.append({k: str(v) for k, v in obj.items()})
    assert objects == rows
    assert any(r["terminal_sn"] == odd.sn and r["merchant_code"] == "商户,01" for r in rows)
    assert pl.read_ndjson(raw).height == len(rows)


def test_profiles_show_up_as_designed(half_year: tuple[list[FeedTerminal], Path]) -> None:
    terminals, path = half_year
    assigned = profiles(terminals, as_of=AS_OF)
    assert set(assigned.values()) == set(PROFILES)
    frame = _frame(path)
    # Both readings of the 30-day boundary: days 1-30 (and 31-120) or 1-29 (and 30-119).
    readings = [_usage(frame, AS_OF, 30), _usage(frame, AS_OF, 29)]
    active = 0
    for t in terminals:
        profile = assigned[t.sn]
        for usage in readings:
            since, recent, previous = usage.get(t.sn, (None, 0, 0))
            if profile == "never_used":
                assert since is None
            elif profile == "dormant":
                assert since is None or since >= 90
            elif profile == "idle":
                assert since is not None and 30 <= since <= 89
            elif profile == "declining":
                assert since is not None and since < 30
                assert 1 <= recent < previous / 3 / 2
        if profile in ("busy", "normal") and (AS_OF - t.deployed_on).days >= 30:
            since, _, _ = readings[0].get(t.sn, (None, 0, 0))
            active += since is not None and since <= 30
    busy_normal = sum(
        p in ("busy", "normal") and (AS_OF - t.deployed_on).days >= 30
        for t, p in zip(terminals, assigned.values(), strict=True)
    )
    assert active == busy_normal
    never_rows = frame.filter(
        pl.col("terminal_sn").is_in([s for s, p in assigned.items() if p == "never_used"])
    )
    assert set(never_rows["txn_type"].unique()) <= {"balance_inquiry"}


def test_profile_mix_and_trades() -> None:
    terminals = bench_terminals(3000, as_of=AS_OF, seed=8)
    assigned = profiles(terminals, as_of=AS_OF, seed=1)
    share = {p: sum(v == p for v in assigned.values()) / len(terminals) for p in PROFILES}
    assert 0.38 <= share["busy"] + share["normal"] <= 0.55
    assert 0.10 <= share["quiet"] <= 0.20
    assert 0.04 <= share["seasonal"] <= 0.08 and 0.04 <= share["declining"] <= 0.11
    for p in ("idle", "dormant", "never_used"):
        assert 0.04 <= share[p] <= 0.14
    hardware = [t for t in terminals if t.trade == "五金"]
    farm = [t for t in terminals if t.trade.startswith("农资")]
    busy = sum(assigned[t.sn] == "busy" for t in hardware) / len(hardware)
    assert busy > 2 * share["busy"] * 0.8
    assert sum(assigned[t.sn] == "seasonal" for t in farm) / len(farm) > 0.25
    # A unit's profile does not depend on the other units.
    assert all(profile_of(t, as_of=AS_OF, seed=1) == assigned[t.sn] for t in terminals[:20])


def test_calendar() -> None:
    for cny in (date(2025, 1, 29), date(2026, 2, 17), date(2027, 2, 6)):
        rush = calendar_factor(cny - timedelta(days=8))
        dip = max(calendar_factor(cny + timedelta(days=k)) for k in range(4))
        assert rush > 1.2 and dip < 0.2
    assert calendar_factor(date(2026, 10, 2)) < 0.6 * calendar_factor(date(2026, 10, 9))
    assert calendar_factor(date(2026, 11, 22)) < 0.8 * calendar_factor(date(2026, 11, 23))  # Sun
    spring, summer, autumn = (farm_season_factor(date(2026, m, 25)) for m in (3, 7, 9))
    assert spring > 2 * summer and autumn > 1.5 * summer


def test_spring_festival_in_the_feed(tmp_path: Path) -> None:
    as_of = date(2026, 3, 15)
    terminals = bench_terminals(200, as_of=as_of, seed=6)
    path = tmp_path / "cny.csv"
    generate_feed(path, terminals, as_of=as_of, days=60)
    daily = dict(_frame(path).filter(pl.col("used")).group_by("day").len().iter_rows())
    cny = date(2026, 2, 17)
    before = sum(daily[cny - timedelta(days=k)] for k in range(3, 10))
    after = sum(daily[cny + timedelta(days=k)] for k in range(7))
    ordinary = sum(daily[date(2026, 3, 1) + timedelta(days=k)] for k in range(7))
    assert after < 0.3 * ordinary < 0.3 * before


def test_edges(tmp_path: Path) -> None:
    late = [
        FeedTerminal("LATE1", "M1", AS_OF, "五金"),
        FeedTerminal("LATE2", "M2", AS_OF - timedelta(days=1), "unknown trade"),
    ]
    stats = generate_feed(tmp_path / "late.csv", late, as_of=AS_OF, days=10)
    rows = _read_csv(stats.path)
    assert all(r["terminal_sn"] == "LATE2" and r["occurred_at"] >= "2026-11-27" for r in rows)
    assert stats.first_day == date(2026, 11, 18) and stats.last_day == date(2026, 11, 27)
    assert profile_of(late[0], as_of=AS_OF) == "never_used"

    empty = generate_feed(tmp_path / "empty.csv", [], as_of=AS_OF, days=5)
    assert empty.rows == 0 and empty.path.read_text() == ",".join(FEED_COLUMNS) + "\n"
    with pytest.raises(Invalid):
        generate_feed(tmp_path / "x.csv", late, as_of=AS_OF, days=0)
    with pytest.raises(Invalid):
        generate_feed(tmp_path / "x.csv", late + late[:1], as_of=AS_OF, days=5)


def test_bench_terminals() -> None:
    terminals = bench_terminals(500, as_of=AS_OF, seed=4)
    assert len({t.sn for t in terminals}) == 500
    for t in terminals:
        assert re.fullmatch(r"BT\d{8}", t.sn) and re.fullmatch(r"BM\d{8}", t.merchant_code)
        assert 1 <= (AS_OF - t.deployed_on).days <= 3 * 365
    assert len({t.trade for t in terminals}) > 10
    assert max(AS_OF - t.deployed_on for t in terminals) > timedelta(days=2 * 365)
