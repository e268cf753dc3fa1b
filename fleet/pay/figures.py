"""The scorecard's figures per staff member or branch for a period, set-based.

One SQL statement carries the unit figures, whatever the number of people or units
(fleet.pay.shares): the placements overlapping the period and the one before with the
merchants' holds, one pass over the rollups (terminal_day) summing every window the figures
need per unit, and each unit shared between its holders by days held, summed per person (or
branch). A few counts grouped by person follow (recoveries, visits, tickets). Python only
adds the returned sums into each person's Tally: never a loop over units, never a query per
person.

The rules (DESIGN.md's windows, `active_days` = 30 by default):
- baseline: the period's first day. The cohort: units deployed then, placed at least 30 days
  before, with no successful financial transaction in the 30 days before (idle, dormant or
  never used). When the period's plan is approved the baseline is read from what was frozen
  then (fleet.pay.plans).
- activated: at least k successful financial transactions in the 30 days from the baseline
  (a month); for a quarter or a year, in any 30 days within the period (up to its end, or
  today), found by a running sum over each unit's rollups (`best_windows`); rate =
  activated / cohort; a cohort under 30 units is scored by the Wilson lower bound (95%) and
  says so; the change is the score against the previous period's, made the same way.
- 动户率: units used in the last 30 days / units deployed, at the baseline and at the
  period's end (or today, in a running period); 使用率: transactions per unit-day deployed.
- revenue (fee and the bank's net, fen) and 收益率 = net / cost (fleet.pay.yields' cost).
- days held: a merchant's units at the baseline count for each holder by the days of the
  period they held it, out of the period's days; use and money by the days the unit was in
  their portfolio, out of its days deployed. Shares are fractions, so cohorts are too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from fleet.aftersales.models import Ticket
from fleet.auth.models import User
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.feeds.models import TerminalDay
from fleet.inventory import holders
from fleet.inventory.models import Terminal
from fleet.pay import portfolio, shares
from fleet.pay.periods import Period
from fleet.pay.portfolio import Span, midnight
from fleet.recovery.models import RecoveryRequest
from fleet.scoring.sql import day_number
from fleet.visits.models import Visit

ACTIVATION_DAYS = 30
SMALL_COHORT = 30
Z95 = 1.959964


def wilson_lower_bound(successes: float, trials: float, z: float = Z95) -> float:
    """The lower end of the Wilson score interval of successes / trials (trials may be a
    fraction: shares of units held part of a period)."""
    if trials <= 0:
        return 0.0
    p = min(1.0, successes / trials)
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(max(0.0, p * (1 - p) / trials + z2 / (4 * trials * trials)))
    return max(0.0, (centre - spread) / (1 + z2 / trials))


@dataclass(frozen=True)
class BaselineUnit:
    merchant_id: int
    in_cohort: bool
    was_active: bool


@dataclass(frozen=True)
class Frozen:
    """Approved plans' baselines: the plans (their units are in scorecard_baseline), and the
    branches whose units they replace."""

    plan_ids: list[int] = field(default_factory=list)
    branches: set[int] = field(default_factory=set)


@dataclass
class Tally:
    """One person's or branch's sums (shares of units, so floats)."""

    cohort: float = 0.0
    activated: float = 0.0
    base_cohort: float = 0.0
    base_activated: float = 0.0
    deployed_start: float = 0.0
    active_start: float = 0.0
    deployed_end: float = 0.0
    active_end: float = 0.0
    unit_days: int = 0
    txns: float = 0.0
    fee_fen: float = 0.0
    net_fen: float = 0.0
    cost_fen: float = 0.0
    placements: int = 0
    recoveries: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    tickets: int = 0
    sla_met: int = 0
    # Cohort units not (yet) activated: terminal id → their share, for "what would move it".
    sleeping: dict[int, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Windows:
    """The day ranges the rollup pass sums, per unit."""

    period: Period
    previous: Period
    end: date  # the period's end, or tomorrow in a running period

    def sums(self, active_days: int) -> dict[str, tuple[date, date]]:
        b, pb = self.period.start, self.previous.start
        return {
            "before": (b - timedelta(days=active_days), b),
            "woke": (b, b + timedelta(days=ACTIVATION_DAYS)),
            "base_before": (pb - timedelta(days=active_days), pb),
            "base_woke": (pb, pb + timedelta(days=ACTIVATION_DAYS)),
            "end_30": (self.end - timedelta(days=active_days), self.end),
            "txns": (self.period.start, self.period.end),
        }


def best_windows(session: Session, start: date, end: date, settings: Settings) -> dict[int, int]:
    """terminal id → the most successful financial transactions in any 30 days within
    [start, end), for the units unused in the `active_days` before `start` (the cohort's
    candidates)."""
    query = best_windows_query(start, end, settings)
    return {tid: int(n or 0) for tid, n in session.execute(query)}


def best_windows_query(start: date, end: date, settings: Settings) -> Any:
    """`best_windows` as a query of (terminal_id, n). A best window ends on a day of use,
    so each day of use carries a running sum over the 30 days up to it (a window function,
    RANGE over the day's number: one pass over the period's rollups, no self-join); the
    best per unit is their maximum. The units used in the days before `start` are found
    once (NOT IN a set), not by a subquery for each day of use (NOT EXISTS): a quarter at
    100,000 units on SQLite, 8.2 s of CPU against 10.5 s."""
    before = aliased(TerminalDay)
    used_before = col(TerminalDay.terminal_id).in_(
        select(col(before.terminal_id)).where(
            col(before.day) >= start - timedelta(days=settings.active_days),
            col(before.day) < start,
            col(before.txn_count) > 0,
        )
    )
    running = (
        select(
            col(TerminalDay.terminal_id).label("terminal_id"),
            func.sum(col(TerminalDay.txn_count))
            .over(
                partition_by=col(TerminalDay.terminal_id),
                order_by=day_number(col(TerminalDay.day)),
                range_=(-(ACTIVATION_DAYS - 1), 0),
            )
            .label("n"),
        )
        .where(
            col(TerminalDay.day) >= start,
            col(TerminalDay.day) < end,
            col(TerminalDay.txn_count) > 0,
        )
        .where(~used_before)
        .subquery()
    )
    return select(running.c.terminal_id, func.max(running.c.n).label("n")).group_by(
        running.c.terminal_id
    )


def live_baseline(
    spans: list[Span], sums: dict[int, dict[str, int]], day: date, prefix: str, settings: Settings
) -> dict[int, BaselineUnit]:
    """terminal id → how it stood at `day` (deployed then), from the placements and sums."""
    found = {}
    old_enough = day - timedelta(days=max(settings.active_days, settings.never_used_after_days))
    for span in spans:
        if not span.first <= day < span.after:
            continue
        used = sums.get(span.terminal_id, {}).get(f"{prefix}before", 0) > 0
        found[span.terminal_id] = BaselineUnit(
            span.merchant_id, in_cohort=not used and span.placed_on <= old_enough, was_active=used
        )
    return found


def tally_units(
    session: Session,
    period: Period,
    k: int,
    *,
    by_branch: bool,
    keep: set[int] | None,
    frozen: Frozen | None = None,
    frozen_before: Frozen | None = None,
    settings: Settings | None = None,
) -> dict[int, Tally]:
    """Staff id (or branch id) → the unit figures and placements, each unit shared between its
    holders by days held: one SQL statement (fleet.pay.shares). `keep`: the branch ids whose
    units count (the caller's scope); None: all. `frozen`: approved plans' baselines, which
    replace the live ones in the branches they cover."""
    s = settings or get_settings()
    previous = period.previous()
    today = holders.local_day(utcnow())
    end = min(period.end, today + timedelta(days=1))
    now, before = frozen or Frozen(), frozen_before or Frozen()
    query = shares.statement(
        period,
        end,
        k,
        s,
        by_branch=by_branch,
        keep=keep,
        frozen_plans=(now.plan_ids, now.branches),
        frozen_plans_before=(before.plan_ids, before.branches),
        windows=Windows(period, previous, end).sums(s.active_days),
        passes=session.get_bind().dialect.name == "sqlite",
        # A quarter or a year: activated by the best 30 days within it (and the one before).
        best=None
        if period.monthly
        else (
            best_windows_query(period.start, end, s),
            best_windows_query(previous.start, previous.end, s),
        ),
    )
    # Days held are out of the period's days; by branch a unit counts whole.
    days_now, days_before = (1, 1) if by_branch else (period.days, previous.days)
    tallies: dict[int, Tally] = defaultdict(Tally)
    sleeping: list[tuple[int, int, float]] = []
    if session.get_bind().dialect.name == "postgresql":
        # The statement's cost estimate (the CTEs' row counts are guesses) makes PostgreSQL
        # compile it (JIT: ~300 functions, inlined and optimised), which took longer than
        # running it: 2.6-4.6 s of 3.5 at 20,000 units (bench_scorecard), ~0.5 s without.
        session.execute(text("SET LOCAL jit = off"))
    for part, key, tid, *values in session.execute(query):
        # PostgreSQL sums integers as numeric: every value as a float (exact below 2**53).
        v = [float(x) if x is not None else 0.0 for x in values]
        t = tallies[key]
        if part == "start":
            t.deployed_start += v[0] / days_now
            t.active_start += v[1] / days_now
            t.cohort += v[2] / days_now
            t.activated += v[3] / days_now
        elif part == "sleep":
            sleeping.append((key, tid, v[0] / days_now))
        elif part == "base":
            t.base_cohort += v[0] / days_before
            t.base_activated += v[1] / days_before
        elif part == "end":
            t.deployed_end += v[0] / days_now
            t.active_end += v[1] / days_now
        elif part == "money":
            t.unit_days += int(v[0])
            t.txns += float(v[1])
            t.fee_fen += float(v[2])
            t.net_fen += float(v[3])
            t.cost_fen += float(v[4])
        else:  # placed
            t.placements += int(v[0])
    for key, tid, share in sorted(sleeping):
        tallies[key].sleeping[tid] = share
    return tallies


def tally_work(
    session: Session,
    period: Period,
    tallies: dict[int, Tally],
    by_branch: bool,
    keep: set[int] | None,
) -> None:
    """Recoveries completed, visits done and their outcomes, and tickets restored with the
    SLA met, in the period, grouped in SQL (placements come with the units: tally_units)."""
    start, end = midnight(period.start), midnight(period.end)

    def scoped(query: Any, branch_column: Any) -> Any:
        return query if keep is None else query.where(branch_column.in_(keep))

    # Who collected it; a recovery completed in no person's name (the requests' sync, when
    # the unit was moved back by a plain transition) counts for who asked for it, else (a
    # rule's request) for who approved it.
    recovered = (
        col(RecoveryRequest.branch_id)
        if by_branch
        else func.coalesce(
            col(User.id), col(RecoveryRequest.raised_by_id), col(RecoveryRequest.decided_by_id)
        )
    )
    done = (
        select(recovered, func.count())
        .select_from(RecoveryRequest)
        .where(col(RecoveryRequest.completed_at) >= start, col(RecoveryRequest.completed_at) < end)
        .group_by(recovered)
    )
    if not by_branch:
        done = done.outerjoin(User, col(User.username) == col(RecoveryRequest.completed_by_name))
    for key, n in session.execute(scoped(done, col(RecoveryRequest.branch_id))):
        if key is not None:
            tallies[key].recoveries += int(n)
    who = col(Visit.branch_id) if by_branch else col(Visit.staff_id)
    visits = scoped(
        select(who, col(Visit.outcome), func.count())
        .where(col(Visit.outcome).is_not(None))
        .where(col(Visit.recorded_at) >= start, col(Visit.recorded_at) < end)
        .group_by(who, col(Visit.outcome)),
        col(Visit.branch_id),
    )
    for key, outcome, n in session.execute(visits):
        name = getattr(outcome, "value", outcome)
        tallies[key].outcomes[name] = tallies[key].outcomes.get(name, 0) + int(n)
    worker = col(Ticket.branch_id) if by_branch else col(Ticket.assignee_id)
    tickets = scoped(
        select(worker, func.count(), func.sum(case((col(Ticket.breached_restore), 0), else_=1)))
        .where(col(Ticket.restored_at) >= start, col(Ticket.restored_at) < end)
        .where(worker.is_not(None))
        .group_by(worker),
        col(Ticket.branch_id),
    )
    for key, n, met in session.execute(tickets):
        tallies[key].tickets += int(n)
        tallies[key].sla_met += int(met or 0)


def baseline_at(
    session: Session, day: date, keep: set[int] | None, settings: Settings | None = None
) -> dict[int, BaselineUnit]:
    """How each unit deployed at `day` stood then (in the branches `keep`): what an approved
    plan freezes."""
    s = settings or get_settings()
    spans = portfolio.placements(session, day, day + timedelta(days=1))
    first = day - timedelta(days=s.active_days)
    used = select(col(TerminalDay.terminal_id), func.sum(col(TerminalDay.txn_count))).where(
        col(TerminalDay.day) >= first, col(TerminalDay.day) < day
    )
    sums = {
        tid: {"before": int(n or 0)}
        for tid, n in session.execute(used.group_by(col(TerminalDay.terminal_id)))
    }
    found = live_baseline(spans, sums, day, "", s)
    if keep is None:
        return found
    branches = dict(session.execute(select(col(Terminal.id), col(Terminal.branch_id))).all())
    return {tid: unit for tid, unit in found.items() if branches.get(tid) in keep}


def cohort_outcomes(
    session: Session, baseline: date, k: int, settings: Settings | None = None
) -> dict[int, tuple[int, bool]]:
    """terminal id → (merchant id, activated) of the units in the activation cohort at
    `baseline`: at least k successful financial transactions in the 30 days from it."""
    units = baseline_at(session, baseline, None, settings)
    cohort = [tid for tid, u in units.items() if u.in_cohort]
    if not cohort:
        return {}
    after = baseline + timedelta(days=ACTIVATION_DAYS)
    used = dict(
        session.execute(
            select(col(TerminalDay.terminal_id), func.sum(col(TerminalDay.txn_count)))
            .where(col(TerminalDay.day) >= baseline, col(TerminalDay.day) < after)
            .where(col(TerminalDay.terminal_id).in_(cohort))
            .group_by(col(TerminalDay.terminal_id))
        ).all()
    )
    return {tid: (units[tid].merchant_id, int(used.get(tid) or 0) >= k) for tid in cohort}
