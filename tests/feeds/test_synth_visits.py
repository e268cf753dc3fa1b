"""A field visit (`FeedTerminal.visited_on`, the demo's campaign) puts a unit in use for good
from its day: one asleep long enough wakes on it, one in use then (or asleep for less) is kept
in use; the other units keep their plans. `asleep_on` says which units the plan leaves
without use over the 30 days before a day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl

from fleet.feeds.synth import (
    FINANCIAL_TYPES,
    WAKE_GAP,
    asleep_on,
    bench_terminals,
    generate_feed,
    profiles,
)

AS_OF = date(2026, 11, 28)
VISIT = AS_OF - timedelta(days=60)


def _used_days(path: Path) -> dict[str, list[date]]:
    frame = pl.read_csv(path, schema_overrides={"amount": pl.String}).filter(
        (pl.col("status") == "success") & pl.col("txn_type").is_in(list(FINANCIAL_TYPES))
    )
    frame = frame.with_columns(
        pl.col("occurred_at").str.to_datetime("%Y-%m-%dT%H:%M:%S").dt.date().alias("day")
    )
    return {
        sn: sorted(set(days))
        for sn, days in frame.group_by("terminal_sn").agg(pl.col("day")).iter_rows()
    }


def test_a_visit_puts_a_unit_in_use_for_good(tmp_path: Path) -> None:
    units = [
        replace(t, deployed_on=min(t.deployed_on, AS_OF - timedelta(days=200)))
        for t in bench_terminals(300, as_of=AS_OF, seed=3)
    ]
    drawn = profiles(units, as_of=AS_OF, seed=3)
    asleep = asleep_on(units, VISIT, as_of=AS_OF, seed=3)
    out_of_use = {t.sn for t in units if drawn[t.sn] in ("idle", "dormant", "never_used")}
    assert asleep and asleep <= out_of_use
    visited = {t.sn for k, t in enumerate(units) if k % 2 == 0}
    with_visits = [replace(t, visited_on=VISIT) if t.sn in visited else t for t in units]

    plain = generate_feed(tmp_path / "plain.csv", units, as_of=AS_OF, days=180, seed=3)
    stats = generate_feed(tmp_path / "visits.csv", with_visits, as_of=AS_OF, days=180, seed=3)
    assert plain.woken == {}
    used, before = _used_days(stats.path), _used_days(plain.path)
    after_visit = profiles(with_visits, as_of=AS_OF, seed=3)
    for sn in visited:
        days = used.get(sn, [])
        # In use from the visit on: never 30 days without use after it.
        later = [VISIT] + [d for d in days if d >= VISIT] + [AS_OF]
        assert max((b - a).days for a, b in pairwise(later)) < 30, (sn, drawn[sn])
        assert after_visit[sn] != "declining" and (
            after_visit[sn] == drawn[sn] or after_visit[sn] == "normal"
        )
        if sn in stats.woken:
            # Woke on the visit day after WAKE_GAP days or more without use (or none ever),
            # unused over the 30 days before it by its plan.
            assert stats.woken[sn] == VISIT and VISIT in days and sn in asleep
            earlier = [d for d in days if d < VISIT]
            assert not earlier or (VISIT - earlier[-1]).days >= WAKE_GAP[0], sn
            # Asleep as long without the visit (it kept the unit's sleep, not its volumes).
            unvisited = before.get(sn, [])
            assert not unvisited or (VISIT - unvisited[-1]).days >= WAKE_GAP[0], sn
    woke = set(stats.woken)
    assert woke and woke <= visited
    assert {sn for sn in visited if drawn[sn] == "dormant"} & woke
    # Units in use at the visit that would have stopped after it did not stop.
    idle_kept = {sn for sn in visited if drawn[sn] == "idle" and sn not in woke}
    assert idle_kept and all(before[sn][-1] < AS_OF - timedelta(days=30) for sn in idle_kept)
    # The units not visited keep their profiles, and none of them wakes.
    others = {t.sn for t in units} - visited
    assert {sn: after_visit[sn] for sn in others} == {sn: drawn[sn] for sn in others}
