"""Units wake up in the demo's feed, and the weekly activations KPI shows them, week by week."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from fleet import wiring
from fleet.cli.main import app
from fleet.core.access import system_actor
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope
from fleet.demo.build import TREND_WEEKS, DemoReport, build_demo, feed_terminals
from fleet.feeds.synth import (
    DEFAULT_SEED,
    FINANCIAL_TYPES,
    WAKE_GAP,
    WAKE_WITHIN,
    bench_terminals,
    generate_feed,
    profiles,
    wakers,
)
from fleet.inventory.models import Terminal
from fleet.markets import report as campaign_report
from fleet.markets.models import Campaign
from fleet.scoring import service as scoring
from fleet.scoring.rules import ACTIVATABLE, ACTIVE

AS_OF = date(2026, 11, 28)


@dataclass
class Demo:
    report: DemoReport
    kpi: dict[str, object]  # `fleet kpi --weeks 13 --json`
    statuses: dict[date, dict[str, str]]  # as-of date -> serial number -> status
    profiles: dict[str, str]  # serial number -> the feed's behaviour profile
    url: str = ""  # the demo database


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    wiring.plug_in()  # the demo plans the day's routes, as `fleet demo` does once wired
    report = build_demo(url, seed=DEFAULT_SEED, scale=0.05, echo=lambda _: None)
    engine = make_engine(url)
    statuses: dict[date, dict[str, str]] = {}
    actor = system_actor("test")
    with session_scope(engine) as session:
        sns = dict(session.execute(select(col(Terminal.id), col(Terminal.sn))).all())
        for day in scoring.stored_as_ofs(session):
            _, rows, total = scoring.list_scores(session, actor, as_of=day, limit=1000)
            assert total == len(rows)
            statuses[day] = {sns[r.terminal_id]: r.status.value for r in rows}
    assert report.as_of is not None
    assigned = profiles(feed_terminals(engine), as_of=report.as_of, seed=DEFAULT_SEED)
    engine.dispose()

    # `fleet kpi` as a user runs it against the demo database.
    saved = os.environ["FLEET_DATABASE_URL"]
    os.environ["FLEET_DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["kpi", "--weeks", str(TREND_WEEKS + 1), "--json"])
    finally:
        os.environ["FLEET_DATABASE_URL"] = saved
        get_settings.cache_clear()
    assert result.exit_code == 0, result.stderr
    yield Demo(report, json.loads(result.stdout), statuses, assigned, url)


@pytest.mark.slow
def test_weekly_activations_are_the_units_that_woke_up(demo: Demo) -> None:
    total = demo.kpi["total"]
    assert isinstance(total, dict)
    weeks = total["weeks"]
    assert len(weeks) == TREND_WEEKS + 1 and weeks[0]["activations"] is None
    woken = demo.report.woken
    assert woken, "the demo feed wakes some units"
    counted: set[str] = set()
    for point in weeks[1:]:
        day, before = date.fromisoformat(point["as_of"]), date.fromisoformat(point["compared_with"])
        assert before == day - timedelta(days=7)
        # Whom the scores show waking this week: idle, dormant or never used a week before.
        activated = {
            sn
            for sn, status in demo.statuses[day].items()
            if status in ACTIVE and demo.statuses[before].get(sn) in ACTIVATABLE
        }
        assert point["activations"] == len(activated), day
        meant = {sn for sn, wake in woken.items() if before <= wake < day}
        assert meant <= activated, (day, meant - activated)
        # Besides them, only a quiet unit's own return after a month's gap, now and then.
        for sn in activated - meant:
            assert demo.profiles[sn] in ("quiet", "seasonal"), (day, sn)
        counted |= activated
    assert set(woken) <= counted
    assert len(counted) <= len(woken) + 1 + len(woken) // 10
    # Spread over several weeks.
    series = [p["activations"] for p in weeks[1:]]
    assert sum(n > 0 for n in series) >= 3
    # The demo's own summary says the same, and the woken units are still in use.
    assert [n for _, n in demo.report.activations] == series
    assert "activations week by week" in demo.report.summary()
    latest = demo.statuses[date.fromisoformat(weeks[-1]["as_of"])]
    assert all(latest[sn] in {s.value for s in ACTIVE} for sn in woken)


@pytest.mark.slow
def test_the_demo_keeps_its_idle_dormant_and_never_used_units(demo: Demo) -> None:
    # The woken units are in-use units that slept: the latest mix still has every status.
    by_status = demo.kpi["total"]["by_status"]  # type: ignore[index]
    deployed = sum(by_status.values())
    for status in ("idle", "dormant", "never_used", "declining"):
        assert by_status[status] > 0, status
    asleep = by_status["idle"] + by_status["dormant"] + by_status["never_used"]
    assert 0.12 <= asleep / deployed <= 0.40
    assert {demo.profiles[sn] for sn in demo.report.woken} <= {"normal", "quiet"}


@pytest.mark.slow
def test_the_demo_campaign_lifts_its_markets_active_rate(demo: Demo) -> None:
    """The demo's story is one a bank would present (issue 17, item 9): the market of its
    campaign has a higher 动户率 after the campaign than before, with nothing to explain, and
    the rise is the campaign's: the market's units its staff won back were in use from the
    visit on, those asleep then woke on that day."""
    engine = make_engine(demo.url)
    with session_scope(engine) as session:
        (campaign,) = session.execute(select(Campaign)).scalars().all()
        result = campaign_report.campaign_report(session, campaign, today=demo.report.as_of)
    visited = {t.sn: t.visited_on for t in feed_terminals(engine) if t.visited_on}
    engine.dispose()
    before, after = result.before, result.after
    assert before is not None and after is not None
    assert before.active_rate is not None and after.active_rate is not None
    assert after.active_rate > before.active_rate, (before, after)
    assert result.active_rate_change is not None and result.active_rate_change > 0
    assert (result.fall_new_inactive, result.fall_gone_quiet) == (None, None)
    assert visited, "the campaign's staff won back units of its market"
    assert all(campaign.starts_on <= day <= campaign.ends_on for day in visited.values())
    woke = {sn: day for sn, day in demo.report.woken.items() if sn in visited}
    assert all(day == visited[sn] for sn, day in woke.items())
    assert all(demo.profiles[sn] != "declining" for sn in visited)


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


def test_wakers_sleep_then_stay_awake(tmp_path: Path) -> None:
    terminals = bench_terminals(400, as_of=AS_OF, seed=12)
    path = tmp_path / "feed.csv"
    stats = generate_feed(path, terminals, as_of=AS_OF, days=180, seed=5, wake_share=0.4)
    again = generate_feed(
        tmp_path / "again.csv", terminals, as_of=AS_OF, days=180, seed=5, wake_share=0.4
    )
    assert path.read_bytes() == again.path.read_bytes()
    assert stats.woken == wakers(terminals, as_of=AS_OF, wake_share=0.4, seed=5)
    assigned = profiles(terminals, as_of=AS_OF, seed=5)
    eligible = [t for t in terminals if assigned[t.sn] in ("normal", "quiet")]
    assert 0.25 * len(eligible) <= len(stats.woken) <= 0.45 * len(eligible)
    assert sum(stats.by_profile.values()) == len(terminals)

    used = _used_days(path)
    never_before = 0
    for sn, wake in stats.woken.items():
        assert AS_OF - timedelta(days=WAKE_WITHIN) <= wake < AS_OF
        days = used[sn]
        assert wake in days, sn
        earlier = [d for d in days if d < wake]
        # Asleep for WAKE_GAP days or more before waking (or never used before).
        assert not earlier or (wake - earlier[-1]).days >= WAKE_GAP[0], sn
        never_before += not earlier
        # Awake for good: never a 30-day gap after the wake day.
        later = [d for d in days if d >= wake] + [AS_OF]
        assert max((b - a).days for a, b in pairwise(later)) < 30, sn
    assert 0 < never_before < len(stats.woken)
    # Without a share, nobody wakes.
    plain = generate_feed(tmp_path / "plain.csv", terminals, as_of=AS_OF, days=30, seed=5)
    assert plain.woken == {} and wakers(terminals, as_of=AS_OF, wake_share=0.0, seed=5) == {}


@pytest.mark.slow
def test_the_demo_has_after_sales_history_and_a_service_day_today(demo: Demo) -> None:
    """A contractor covering two counties, spares at the outlets, 180 days of tickets with SLA
    breaches and repeats, tickets open today, and service_lanshan_1's route of today."""
    from fleet.aftersales import dayplan
    from fleet.aftersales.models import Contractor, ContractorBranch, Spare, Ticket, TicketState
    from fleet.auth import service as auth

    engine = make_engine(demo.url)
    with session_scope(engine) as session:
        [team] = session.execute(select(Contractor)).scalars().all()
        covered = session.execute(select(ContractorBranch)).scalars().all()
        assert team.name == "临沂银龄售后服务队" and len(covered) == 2
        assert session.execute(select(Spare)).scalars().first() is not None
        tickets = list(session.execute(select(Ticket)).scalars())
        closed = [t for t in tickets if t.state is TicketState.closed]
        assert len(closed) >= 40
        assert any(t.breached_restore for t in closed)
        assert any(t.repeat_of_id is not None for t in tickets)
        assert min(t.opened_at for t in tickets).date() <= demo.report.as_of - timedelta(days=150)  # type: ignore[operator]
        live = [t for t in tickets if t.state in (TicketState.open, TicketState.assigned)]
        assert len(live) >= 6
        me = auth.user_by_username(session, system_actor("test"), "service_lanshan_1")
        route = dayplan.service_day_order(session, me.id or 0, demo.report.as_of)  # type: ignore[arg-type]
        assert route and set(route) <= {t.id for t in live}
    engine.dispose()
