"""The scorecard's figures per staff member or branch for a period, set-based.

Three reads carry it, whatever the number of people: the placements overlapping the period
and the one before (with the merchants' holds, for days held), one pass over the rollups
(terminal_day) summing every window the figures need per unit, and a few counts grouped by
person (placements, recoveries, visits, tickets). Python then adds each unit into its
holders' rows by their shares: one pass over the units, never a query per person.

The rules (DESIGN.md's windows, `active_days` = 30 by default):
- baseline: the period's first day. The cohort: units deployed then, placed at least 30 days
  before, with no successful financial transaction in the 30 days before (idle, dormant or
  never used). When the period's plan is approved the baseline is read from what was frozen
  then (fleet.pay.plans).
- activated: at least k successful financial transactions in the 30 days from the baseline
  (a month); for a quarter or a year, in any 30 days within the period (up to its end, or
  today), found by one self-join of the rollups (`best_windows`); rate = activated / cohort;
  a cohort under 30 units is scored by the Wilson lower bound (95%) and says so; the change
  is the score against the previous period's, made the same way.
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

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from fleet.aftersales.models import Ticket
from fleet.auth.models import User
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.feeds.models import TerminalDay
from fleet.inventory import holders
from fleet.inventory.models import Terminal
from fleet.pay import portfolio
from fleet.pay.periods import Period
from fleet.pay.portfolio import NOBODY, Span, midnight
from fleet.pay.yields import unit_cost
from fleet.recovery.models import RecoveryRequest
from fleet.scoring.sql import days_after, local_day
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
    """An approved plan's baseline: its units, and the branches whose units it replaces."""

    units: dict[int, BaselineUnit] = field(default_factory=dict)
    branches: set[int] = field(default_factory=set)

    def over(
        self, live: dict[int, BaselineUnit], branch_of: dict[int, tuple[int, date]]
    ) -> dict[int, BaselineUnit]:
        if not self.branches:
            return live
        kept = {t: u for t, u in live.items() if branch_of.get(t, (0,))[0] not in self.branches}
        return kept | self.units


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


def rollup_sums(
    session: Session, windows: Windows, settings: Settings
) -> dict[int, dict[str, int]]:
    """terminal id → each window's successful financial transactions, and the period's fee
    and net (fen): one pass over terminal_day."""
    day = col(TerminalDay.day)
    count = col(TerminalDay.txn_count)
    ranges = windows.sums(settings.active_days)
    start = min(first for first, _ in ranges.values())
    stop = max(after for _, after in ranges.values())
    in_period = and_(day >= windows.period.start, day < windows.period.end)
    table = TerminalDay.__table__.c  # type: ignore[attr-defined]
    fee = table.transfer_fee_fen + table.card_payment_fee_fen + table.bill_payment_fee_fen
    columns: list[Any] = [
        func.sum(case((and_(day >= first, day < after), count), else_=0)).label(name)
        for name, (first, after) in ranges.items()
    ]
    columns += [
        func.sum(case((in_period, fee), else_=0)).label("fee"),
        func.sum(case((in_period, table.net_fen), else_=0)).label("net"),
    ]
    query = (
        select(col(TerminalDay.terminal_id), *columns)
        .where(day >= start, day < stop)
        .group_by(col(TerminalDay.terminal_id))
    )
    names = [*ranges, "fee", "net"]
    return {
        row[0]: {name: int(value or 0) for name, value in zip(names, row[1:], strict=True)}
        for row in session.execute(query)
    }


def best_windows(session: Session, start: date, end: date, settings: Settings) -> dict[int, int]:
    """terminal id → the most successful financial transactions in any 30 days within
    [start, end), for the units unused in the `active_days` before `start` (the cohort's
    candidates). A best window starts on a day of use, so each day of use is joined to the
    30 days from it: one self-join of terminal_day, grouped in SQL."""
    first, days = aliased(TerminalDay), aliased(TerminalDay)
    before = aliased(TerminalDay)
    used_before = exists().where(
        col(before.terminal_id) == col(first.terminal_id),
        col(before.day) >= start - timedelta(days=settings.active_days),
        col(before.day) < start,
        col(before.txn_count) > 0,
    )
    per_start = (
        select(
            col(first.terminal_id).label("terminal_id"),
            func.sum(col(days.txn_count)).label("n"),
        )
        .join(
            days,
            and_(
                col(days.terminal_id) == col(first.terminal_id),
                col(days.day) >= col(first.day),
                col(days.day) < days_after(col(first.day), ACTIVATION_DAYS),
                col(days.day) < end,
            ),
        )
        .where(col(first.day) >= start, col(first.day) < end, col(first.txn_count) > 0)
        .where(~used_before)
        .group_by(col(first.terminal_id), col(first.day))
        .subquery()
    )
    query = select(per_start.c.terminal_id, func.max(per_start.c.n)).group_by(
        per_start.c.terminal_id
    )
    return {tid: int(n or 0) for tid, n in session.execute(query)}


def widen_activation(
    session: Session, sums: dict[int, dict[str, int]], windows: Windows, settings: Settings
) -> None:
    """For a quarter or a year: each unit's `woke` (and `base_woke`, the period before) is
    its best 30 days within the period instead of the 30 days from the baseline."""
    if windows.period.monthly:
        return
    for name, first, after in (
        ("woke", windows.period.start, windows.end),
        ("base_woke", windows.previous.start, windows.previous.end),
    ):
        for tid, n in best_windows(session, first, after, settings).items():
            row = sums.setdefault(tid, {})
            row[name] = max(row.get(name, 0), n)


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


def shares_of(held: dict[int, int], days: int) -> list[tuple[int, float]]:
    return [(staff, n / days) for staff, n in held.items() if n > 0] if days > 0 else []


@dataclass
class Inputs:
    """What the figures are made of, read once for a period. `frozen`: an approved plan's
    baseline, which replaces the live one in the branches it covers."""

    period: Period
    k: int
    settings: Settings
    units: dict[int, tuple[int, date]]  # terminal id → (branch id, registered day)
    spans: list[Span]
    sums: dict[int, dict[str, int]]
    baseline: dict[int, BaselineUnit]
    base_baseline: dict[int, BaselineUnit]
    end: date
    # The merchants' holds over the period and the one before.
    held: portfolio.Held


def read_inputs(
    session: Session,
    period: Period,
    k: int,
    *,
    frozen: Frozen | None = None,
    frozen_before: Frozen | None = None,
    settings: Settings | None = None,
) -> Inputs:
    """The reads the figures need. `frozen`: an approved plan's baseline units (by terminal),
    which replace the live ones where given."""
    s = settings or get_settings()
    previous = period.previous()
    today = holders.local_day(utcnow())
    end = min(period.end, today + timedelta(days=1))
    windows = Windows(period, previous, end)
    spans = portfolio.placements(session, previous.start, period.end)
    sums = rollup_sums(session, windows, s)
    widen_activation(session, sums, windows, s)
    registered = local_day(col(Terminal.created_at), s.feed_timezone, period.start)
    units = {
        tid: (branch_id, created)
        for tid, branch_id, created in session.execute(
            select(col(Terminal.id), col(Terminal.branch_id), registered)
        )
    }
    baseline = (frozen or Frozen()).over(live_baseline(spans, sums, period.start, "", s), units)
    base_baseline = (frozen_before or Frozen()).over(
        live_baseline(spans, sums, previous.start, "base_", s), units
    )
    held = holders.holds(session, previous.start, period.end)
    return Inputs(period, k, s, units, spans, sums, baseline, base_baseline, end, held)


def tally_units(
    session: Session, inputs: Inputs, by_branch: bool, keep: set[int] | None
) -> dict[int, Tally]:
    """Staff id (or branch id) → the unit figures, each unit added by its holders' shares.
    `keep`: the branch ids whose units count (the caller's scope); None: all."""
    period, s = inputs.period, inputs.settings
    tallies: dict[int, Tally] = defaultdict(Tally)

    def counts(tid: int) -> bool:
        return keep is None or inputs.units.get(tid, (None,))[0] in keep

    def split(tid: int, held: dict[int, int], days: int) -> list[tuple[int, float]]:
        if by_branch:
            return [(inputs.units[tid][0], 1.0)] if held else []
        return shares_of(held, days)

    held_now = portfolio.merchant_days(session, period, inputs.held)
    held_before = portfolio.merchant_days(session, period.previous(), inputs.held)
    for tid, unit in inputs.baseline.items():
        if not counts(tid):
            continue
        woke = inputs.sums.get(tid, {}).get("woke", 0) >= inputs.k
        for key, share in split(tid, held_now.get(unit.merchant_id, {}), period.days):
            t = tallies[key]
            t.deployed_start += share
            t.active_start += share * unit.was_active
            if unit.in_cohort:
                t.cohort += share
                t.activated += share * woke
                if not woke:
                    t.sleeping[tid] = share
    previous = period.previous()
    for tid, unit in inputs.base_baseline.items():
        if not (unit.in_cohort and counts(tid)):
            continue
        woke = inputs.sums.get(tid, {}).get("base_woke", 0) >= inputs.k
        for key, share in split(tid, held_before.get(unit.merchant_id, {}), previous.days):
            tallies[key].base_cohort += share
            tallies[key].base_activated += share * woke
    last_day = inputs.end - timedelta(days=1)
    in_period = [sp for sp in inputs.spans if sp.after > period.start and counts(sp.terminal_id)]
    for span in in_period:
        if span.first <= last_day < span.after:
            used = inputs.sums.get(span.terminal_id, {}).get("end_30", 0) > 0
            for key, share in split(
                span.terminal_id, held_now.get(span.merchant_id, {}), period.days
            ):
                tallies[key].deployed_end += share
                tallies[key].active_end += share * used
    first_placed: dict[int, date] = {}
    for sp in in_period:
        first_placed[sp.terminal_id] = min(
            sp.placed_on, first_placed.get(sp.terminal_id, sp.placed_on)
        )
    for tid, held in portfolio.unit_days(session, period, in_period, inputs.held).items():
        days = sum(held.values())
        sums = inputs.sums.get(tid, {})
        branch_id, registered = inputs.units[tid]
        cost = unit_cost(min(registered, first_placed[tid]), period, s)
        keyed = [(branch_id, days)] if by_branch else list(held.items())
        for key, n in keyed:
            if key == NOBODY or n <= 0:
                continue
            share = n / days
            t = tallies[key]
            t.unit_days += n
            t.txns += share * sums.get("txns", 0)
            t.fee_fen += share * sums.get("fee", 0)
            t.net_fen += share * sums.get("net", 0)
            t.cost_fen += share * cost
    tallies.pop(NOBODY, None)
    return tallies


def tally_work(
    session: Session,
    inputs: Inputs,
    tallies: dict[int, Tally],
    by_branch: bool,
    keep: set[int] | None,
) -> None:
    """Placements (for the merchant's holder that day), recoveries completed, visits done and
    their outcomes, and tickets restored with the SLA met, in the period, grouped in SQL."""
    period = inputs.period
    start, end = midnight(period.start), midnight(period.end)
    held = inputs.held
    for span in inputs.spans:
        if not period.start <= span.placed_on < period.end:
            continue
        branch_id = inputs.units[span.terminal_id][0]
        if keep is not None and branch_id not in keep:
            continue
        if by_branch:
            tallies[branch_id].placements += 1
            continue
        for staff_id, first, after in held.get(span.merchant_id, ()):
            if first <= span.placed_on < after:
                tallies[staff_id].placements += 1

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
