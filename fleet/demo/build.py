"""Builds the demo region: generate its files, load them with the import code users use,
then generate its 180-day transaction feed (in which some units wake up in the last weeks, so
that the activations KPI has something to count), ingest it as `fleet ingest` does, and score
it week by week."""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select  # sqlmodel's select takes at most four columns
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.access import Actor, system_actor
from fleet.core.config import get_settings
from fleet.core.db import make_engine, session_scope
from fleet.core.errors import Reason
from fleet.core.i18n import Texts, texts_for
from fleet.feeds import service as feeds
from fleet.feeds.synth import FeedTerminal, asleep_on, generate_feed
from fleet.imports import service as imports
from fleet.inventory.models import Branch, Market, Merchant, Placement, Terminal, TerminalState
from fleet.markets.models import Campaign, CampaignPlacement
from fleet.migrations import upgrade

FEED_DAYS = 180
TREND_WEEKS = 12
# Share of the normal and quiet units that were idle, dormant or never used and woke up in the
# last ten weeks (as after a field visit): about 5% of the deployed units, 5-20 activations a
# week at full scale, so the KPI pages' activations are not a flat zero.
DEMO_WAKE_SHARE = 0.13
# The demo logins work in this sub-branch: its queue and routes are filled for them.
DEMO_FIELD_BRANCH = "兰山支行"
DEMO_REQUESTS = 12
# The demo campaign's staff also called on the market's merchants that had a unit, and won
# back this share of those whose unit lay unused or was falling quiet: in use from the visit.
CAMPAIGN_WON_BACK = 0.8


@dataclass(frozen=True)
class Step:
    """One line of the build's progress: the part of the demo (a msgid: "feed") and what it
    did (a msgid and its values), said in the reader's language where it is shown (the CLI);
    `str()` is the English."""

    part: Reason
    said: Reason

    def __str__(self) -> str:
        return f"  {self.part!s:<10} {self.said}"


@dataclass
class DemoReport:
    database: str
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    deployed: int = 0
    feed: dict[str, object] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    as_of: date | None = None
    woken: dict[str, date] = field(default_factory=dict)  # serial number -> wake day
    activations: list[tuple[date, int]] = field(default_factory=list)  # KPI, week by week
    logins: list[tuple[str, str, Reason]] = field(default_factory=list)

    def summary(self, t: Texts | None = None) -> str:
        """What was built, ending with the one-line total, in `t`'s language (English when
        not given). The lines are Reasons, msgids with values, said here at display time."""
        from fleet.core.words import word
        from fleet.imports.columns import KIND_WORDS

        t = t or texts_for("en")
        comma = "，" if t.lang == "zh" else ", "
        lines = []
        if self.feed:
            f = self.feed
            lines.append(
                Reason(
                    "feed of {days} days: received {received}, accepted {accepted}, duplicate "
                    "{duplicate}, rejected {rejected}",
                    days=FEED_DAYS,
                    **{k: f[k] for k in ("received", "accepted", "duplicate", "rejected")},
                )
            )
        if self.statuses:
            counts = comma.join(
                f"{n} {t.in_sentence(word('usage', status))}" for status, n in self.statuses.items()
            )
            lines.append(Reason("scored as of {day}: {counts}", day=self.as_of, counts=counts))
        if self.activations:
            lines.append(
                Reason(
                    "activations week by week to {day}: {weekly} ({woken} units woke up in the "
                    "feed)",
                    day=self.activations[-1][0],
                    weekly=" ".join(str(n) for _, n in self.activations),
                    woken=len(self.woken),
                )
            )
        parts = comma.join(f"{n} {t.reason(KIND_WORDS[kind])}" for kind, n in self.counts.items())
        lines.append(
            Reason(
                "demo region (Linyi) built in {seconds} s: {parts}; {deployed} terminals deployed",
                seconds=f"{self.seconds:.1f}",
                parts=parts,
                deployed=self.deployed,
            )
        )
        return "\n".join(t.reason(line) for line in lines)


def today_local() -> date:
    return datetime.now(ZoneInfo(get_settings().feed_timezone)).date()


def feed_terminals(engine: Engine) -> list[FeedTerminal]:
    """The deployed units, with the local day each placement began and the trade it serves,
    and what the demo's campaign did for them (`_campaign_effects`)."""
    zone = ZoneInfo(get_settings().feed_timezone)
    with session_scope(engine) as session:
        rows = session.execute(
            sa_select(
                col(Terminal.sn),
                col(Merchant.code),
                col(Placement.started_at),
                col(Merchant.category),
                col(Market.category),
                col(Market.id),
            )
            .join(Placement, col(Placement.terminal_id) == col(Terminal.id))
            .join(Merchant, col(Merchant.id) == col(Placement.merchant_id))
            .join(Market, col(Market.id) == col(Merchant.market_id), isouter=True)
            .where(col(Placement.ended_at).is_(None))
            .order_by(col(Terminal.sn))
        ).all()
        campaign = session.execute(select(Campaign).order_by(col(Campaign.id))).scalars().first()
        placed = set(
            session.execute(
                sa_select(col(Terminal.sn)).join(
                    CampaignPlacement, col(CampaignPlacement.terminal_id) == col(Terminal.id)
                )
            ).scalars()
        )
    terminals = [
        FeedTerminal(
            sn=sn,
            merchant_code=code,
            deployed_on=_first_full_day(started.astimezone(zone)),
            trade=market.value if market else category,
        )
        for sn, code, started, category, market, _ in rows
    ]
    in_market = {sn for sn, *_, market_id in rows if campaign and market_id == campaign.market_id}
    return [_campaign_effects(t, campaign, placed, in_market) for t in terminals]


def _campaign_effects(
    terminal: FeedTerminal, campaign: Campaign | None, placed: set[str], in_market: set[str]
) -> FeedTerminal:
    """The campaign placed its units with merchants whose counter-cash records showed a need:
    they are busy from their first day. Its staff also called on the market's merchants that
    had a unit, one visit each on a campaign day, and won back most of those whose unit lay
    unused or was falling quiet (CAMPAIGN_WON_BACK): in use from the visit on (the feed's
    `visited_on`). So the market's 动户率 rises over the campaign, as a bank presents one that
    works. Seeded by the campaign and the serial number: the same units every build."""
    if terminal.sn in placed:
        return replace(terminal, profile="busy")
    if campaign is None or terminal.sn not in in_market:
        return terminal
    first = max(campaign.starts_on, terminal.deployed_on)
    if first > campaign.ends_on:
        return terminal  # placed after the campaign: not called on
    draw = random.Random(f"{campaign.id}\x1f{terminal.sn}")
    day = first + timedelta(days=draw.randrange((campaign.ends_on - first).days + 1))
    return replace(terminal, visited_on=day) if draw.random() < CAMPAIGN_WON_BACK else terminal


def _first_full_day(placed: datetime) -> date:
    """The first local day the unit is at the merchant from its start (the feed's first day)."""
    midnight = placed.replace(hour=0, minute=0, second=0, microsecond=0)
    return placed.date() if placed == midnight else placed.date() + timedelta(days=1)


def build_demo(
    url: str,
    *,
    seed: int,
    as_of: date | None = None,
    echo: Callable[[Step], object] = print,
    scale: float = 1.0,
    with_feed: bool = True,
) -> DemoReport:
    """Migrates `url`, generates the region with `seed`, imports it kind by kind, then
    ingests its feed and scores it week by week. `echo` is given each step's line as it is
    done (`Step`: said in the reader's language by whoever shows it)."""
    from fleet.demo.generator import DEMO_LOGINS, generate
    from fleet.imports.columns import KIND_WORDS
    from fleet.scoring import service as scoring

    started = time.perf_counter()
    as_of = as_of or today_local()
    upgrade(url)
    engine = make_engine(url)
    actor = system_actor("demo")
    report = DemoReport(database=url, logins=list(DEMO_LOGINS), as_of=as_of)
    with tempfile.TemporaryDirectory(prefix="fleet-demo-") as folder:
        files = generate(Path(folder), seed=seed, scale=scale, as_of=as_of)
        for kind in imports.KINDS:
            with session_scope(engine) as session:
                result = imports.import_file(session, actor, kind, files[kind])
            report.counts[kind] = result.rows
            echo(
                Step(
                    KIND_WORDS[kind],
                    Reason(
                        "{rows} rows ({created} created, {updated} updated, {unchanged} unchanged)",
                        rows=result.rows,
                        created=result.created,
                        updated=result.updated,
                        unchanged=result.unchanged,
                    ),
                )
            )
        # One finished market campaign (fleet.markets), placed before the feed is generated
        # so that the feed gives its units usage, in a market where units lie unused when it
        # starts (by the feed's plan).
        from fleet.markets.demo import STARTS_BEFORE, plan_demo_campaign

        unused = asleep_on(
            feed_terminals(engine),
            as_of - timedelta(days=STARTS_BEFORE),
            as_of=as_of,
            seed=seed,
            wake_share=DEMO_WAKE_SHARE,
        )
        echo(Step(Reason("campaign"), plan_demo_campaign(engine, as_of, seed, unused)))
        with session_scope(engine) as session:
            report.deployed = session.execute(
                select(func.count()).where(col(Terminal.state) == TerminalState.deployed)
            ).scalar_one()
        if with_feed:
            feed_path = Path(folder) / "feed.csv"
            stats = generate_feed(
                feed_path,
                feed_terminals(engine),
                as_of=as_of,
                days=FEED_DAYS,
                seed=seed,
                wake_share=DEMO_WAKE_SHARE,
            )
            report.woken = stats.woken
            echo(
                Step(
                    Reason("feed"),
                    Reason(
                        "{rows} rows over {days} days, ingesting", rows=stats.rows, days=FEED_DAYS
                    ),
                )
            )
            ingested = feeds.ingest_file(
                feed_path, actor=actor, engine=engine, source_name=f"演示交易数据（种子 {seed}）"
            )
            report.feed = ingested.counts()
            with session_scope(engine) as session:
                summaries = scoring.score_weeks(session, as_of=as_of, weeks=TREND_WEEKS)
            report.statuses = dict(summaries[-1].by_status)
            echo(
                Step(
                    Reason("scores"),
                    Reason(
                        "{weeks} weekly as-of dates, {terminals} terminals each",
                        weeks=len(summaries),
                        terminals=summaries[-1].terminals,
                    ),
                )
            )
            report.activations = _weekly_activations(engine, actor, as_of)
            echo(
                Step(
                    Reason("woke up"),
                    Reason(
                        "{units} units in the last weeks: {activations} activations over {weeks} "
                        "weeks",
                        units=len(report.woken),
                        activations=sum(n for _, n in report.activations),
                        weeks=TREND_WEEKS,
                    ),
                )
            )
            _field_day(engine, actor, as_of, echo)
            # Two contracts (承包) in 兰山支行: one settled, one running (fleet.pay).
            from fleet.pay.contract_demo import demo_contracts

            echo(Step(Reason("contracts"), demo_contracts(engine, as_of)))
            # Three months of 五提升 scorecards in 兰山支行 (fleet.pay.scorecard_demo).
            from fleet.pay.scorecard_demo import demo_scorecards

            for line in demo_scorecards(engine, as_of, seed):
                echo(Step(Reason("scorecard"), line))
            _after_sales(engine, as_of, seed, echo, set(report.woken))
        # The merchants' QR stickers for ten units (fleet.aftersales.demo_stickers).
        from fleet.aftersales.demo_stickers import write_demo_stickers

        echo(Step(Reason("stickers"), write_demo_stickers(engine)))
    engine.dispose()
    report.seconds = time.perf_counter() - started
    return report


def _weekly_activations(engine: Engine, actor: Actor, as_of: date) -> list[tuple[date, int]]:
    """The activations KPI of each scored week, as `fleet kpi --weeks` shows them."""
    from fleet.scoring.kpi import kpis

    with session_scope(engine) as session:
        report = kpis(session, actor, as_of=as_of, weeks=TREND_WEEKS + 1)
    return [(p.as_of, p.activations) for p in report.total.weeks if p.activations is not None]


def _field_day(engine: Engine, actor: Actor, day: date, echo: Callable[[Step], object]) -> None:
    """What the demo logins find on their pages: recovery requests waiting for 兰山支行's
    approval, and today's revisit routes for its field staff (the nightly jobs' work)."""
    from fleet.recovery.suggestions import raise_suggestions
    from fleet.visits.plan import plan_day

    with session_scope(engine) as session:
        county = session.execute(
            select(Branch).where(col(Branch.name) == DEMO_FIELD_BRANCH)
        ).scalar_one()
        raised = raise_suggestions(session, actor, branch_id=county.id, limit=DEMO_REQUESTS)
    echo(
        Step(
            Reason("recovery"),
            Reason(
                "{n} requests waiting for approval in {branch}",
                n=len(raised),
                branch=DEMO_FIELD_BRANCH,
            ),
        )
    )
    with session_scope(engine) as session:
        plan = plan_day(session, actor, branch_code=county.code, plan_date=day)
        planned = plan.candidates - len(plan.unplanned)
    echo(
        Step(
            Reason("routes"),
            Reason("{n} visits planned today in {branch}", n=planned, branch=DEMO_FIELD_BRANCH),
        )
    )


def _after_sales(
    engine: Engine, as_of: date, seed: int, echo: Callable[[Step], object], woken: set[str]
) -> None:
    """A contractor and spares, 180 days of fault tickets, today's tickets and service day
    (none on the units that woke up in the feed: their story is the activations')."""
    from fleet.demo import aftersales

    echo(Step(Reason("service"), aftersales.set_up(engine, seed)))
    echo(Step(Reason("tickets"), aftersales.history(engine, as_of, seed, woken)))
    echo(Step(Reason("today"), aftersales.today(engine, as_of, seed, woken)))
