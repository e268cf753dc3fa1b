"""The scorecard's unit figures shared between holders by days held, in one SQL statement on
SQLite and PostgreSQL alike (fleet.pay.figures adds its parts into each person's Tally).

The statement's common parts (materialized once each): the placements overlapping the period
and the one before (`span`, clipped to them), the merchants' holds over the same days
(`hold`), each unit's window sums over the rollups (`su`, one pass over terminal_day), and the
days each staff member held each merchant in either period. From them, per person (or
branch), it sums:

- `start`: the units deployed at the baseline (live, or frozen by an approved plan) by their
  merchant's days held in the period: deployed, active, cohort, activated; `sleep` lists the
  cohort units not activated with their days;
- `base`: the previous period's cohort and activated, by the days held in it;
- `end`: the units deployed on the period's last day (so far), and those used in the 30
  days before, by the days held in the period;
- `money`: each unit's days in the person's portfolio, and its transactions, fee, net and
  cost by those days out of its days deployed in the period;
- `placed`: placements in the period, for the merchant's holder that day.

Day counts come back as integers; fleet.pay.figures divides them by the period's days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from fleet.core.config import Settings
from fleet.feeds.models import TerminalDay
from fleet.inventory.holders import MerchantHolder
from fleet.inventory.models import Placement, Terminal
from fleet.pay.periods import Period
from fleet.pay.portfolio import midnight
from fleet.pay.scorecard_models import ScorecardBaseline
from fleet.pay.yields import DAYS_PER_MONTH
from fleet.scoring.sql import local_day

# --- the few constructs that differ by database ---------------------------------------------


class _DaysBetween(FunctionElement[int]):
    """Whole days from the second date to the first."""

    type = Integer()
    name = "days_between"
    inherit_cache = True


@compiles(_DaysBetween)
def _julian(element: _DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later_day, earlier_day = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later_day}) - julianday({earlier_day}) AS INTEGER)"


@compiles(_DaysBetween, "postgresql")
def _minus(element: _DaysBetween, compiler: SQLCompiler, **kw: Any) -> str:
    later_day, earlier_day = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later_day} - {earlier_day})"


class _Earlier(FunctionElement[Any]):
    """The smaller of two values (SQLite's two-argument min, PostgreSQL's least)."""

    name = "earlier"
    inherit_cache = True


class _Later(FunctionElement[Any]):
    """The larger of two values (SQLite's two-argument max, PostgreSQL's greatest)."""

    name = "later"
    inherit_cache = True


@compiles(_Earlier)
def _min(element: _Earlier, compiler: SQLCompiler, **kw: Any) -> str:
    return f"min({compiler.process(element.clauses, **kw)})"


@compiles(_Earlier, "postgresql")
def _least(element: _Earlier, compiler: SQLCompiler, **kw: Any) -> str:
    return f"least({compiler.process(element.clauses, **kw)})"


@compiles(_Later)
def _max(element: _Later, compiler: SQLCompiler, **kw: Any) -> str:
    return f"max({compiler.process(element.clauses, **kw)})"


@compiles(_Later, "postgresql")
def _greatest(element: _Later, compiler: SQLCompiler, **kw: Any) -> str:
    return f"greatest({compiler.process(element.clauses, **kw)})"


class _Floor(FunctionElement[int]):
    """The whole part of a number that is not negative."""

    type = Integer()
    name = "whole"
    inherit_cache = True


@compiles(_Floor)
def _cast_floor(element: _Floor, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


@compiles(_Floor, "postgresql")
def _pg_floor(element: _Floor, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(floor({compiler.process(element.clauses, **kw)}) AS BIGINT)"


def days_between(later_day: Any, earlier_day: Any) -> Any:
    return _DaysBetween(later_day, earlier_day)


def earlier(a: Any, b: Any) -> Any:
    return _Earlier(a, b)


def later(a: Any, b: Any) -> Any:
    return _Later(a, b)


def round_half_even(x: Any) -> Any:
    """Python's round() of a number that is not negative: halves to the even neighbour."""
    whole = _Floor(x)
    rest = x - whole
    return case(
        (rest > 0.5, whole + 1),
        (rest < 0.5, whole),
        else_=whole + whole % 2,
    )


def _day(value: date) -> Any:
    return literal(value, Date())


# --- the statement ----------------------------------------------------------------------------

# Each row: its part, key (staff or branch id), terminal (for `sleep`), and up to 5 values.
VALUES = 5


def statement(
    period: Period,
    end: date,
    k: int,
    settings: Settings,
    *,
    by_branch: bool,
    keep: set[int] | None,
    frozen_plans: tuple[list[int], set[int]],
    frozen_plans_before: tuple[list[int], set[int]],
    windows: dict[str, tuple[date, date]],
    best: tuple[Any, Any] | None = None,
    passes: bool = False,
) -> Any:
    """The UNION ALL of the parts, each row (part, key, terminal, v0 … v4). `best`: for a
    quarter or a year, queries of (terminal_id, n), each unit's best 30 days within the period
    and within the one before, which count for activation when more than the 30 days from
    the baseline (fleet.pay.figures.best_windows)."""
    previous = period.previous()
    ps, pe, qs = period.start, period.end, previous.start
    zone = settings.feed_timezone
    p = Placement.__table__.c  # type: ignore[attr-defined]
    terminal = Terminal.__table__  # type: ignore[attr-defined]
    t = terminal.c
    # Each placement with its unit's branch and registration day, so that no part below
    # joins the terminal table again (and SQLite's planner drives from the small tables).
    placed = (
        select(
            p.terminal_id,
            p.merchant_id,
            t.branch_id,
            local_day(t.created_at, zone, ps).label("registered"),
            local_day(p.started_at, zone, qs).label("placed_on"),
            local_day(p.ended_at, zone, qs).label("ended_on"),
        )
        .join_from(Placement.__table__, terminal, t.id == p.terminal_id)  # type: ignore[attr-defined]
        .where(
            p.started_at < midnight(pe),
            or_(p.ended_at.is_(None), p.ended_at > midnight(qs)),
        )
        .subquery("placed")
    )
    span_after = earlier(func.coalesce(placed.c.ended_on, _day(pe)), _day(pe))
    span_first = later(placed.c.placed_on, _day(qs))
    span = (
        select(
            placed.c.terminal_id,
            placed.c.merchant_id,
            placed.c.branch_id,
            placed.c.registered,
            placed.c.placed_on,
            span_first.label("first"),
            span_after.label("after"),
        )
        .where(span_after > span_first)
        .cte("span")
        .prefix_with("MATERIALIZED")
    )
    h = MerchantHolder.__table__.c  # type: ignore[attr-defined]
    hold_first = later(h.held_from, _day(qs))
    hold_after = earlier(func.coalesce(h.held_to, _day(pe)), _day(pe))
    hold = (
        select(h.merchant_id, h.staff_id, hold_first.label("first"), hold_after.label("after"))
        .where(h.held_from < _day(pe), or_(h.held_to.is_(None), h.held_to > _day(qs)))
        .where(hold_after > hold_first)
        .cte("hold")
        .prefix_with("MATERIALIZED")
    )
    su = _window_sums(windows, period, passes)
    sums = su.column

    def held_days(start: date, stop: date, name: str) -> Any:
        n = days_between(earlier(hold.c.after, _day(stop)), later(hold.c.first, _day(start)))
        return (
            select(hold.c.merchant_id, hold.c.staff_id, func.sum(n).label("days"))
            .where(n > 0)
            .group_by(hold.c.merchant_id, hold.c.staff_id)
            .cte(name)
            .prefix_with("MATERIALIZED")
        )

    held_now = held_days(ps, pe, "held_now")
    held_before = held_days(qs, ps, "held_before")
    held_any = {
        # By branch a unit counts whole when anyone held its merchant in the period.
        name: select(held.c.merchant_id).distinct().cte(f"{name}_any").prefix_with("MATERIALIZED")
        for name, held in (("held_now", held_now), ("held_before", held_before))
    }
    old_enough = max(settings.active_days, settings.never_used_after_days)

    def baseline(day: date, prefix: str, frozen: tuple[list[int], set[int]], name: str) -> Any:
        """terminal_id, merchant_id, branch_id, in_cohort, was_active (0/1) at `day`: the live
        ones, and where an approved plan covers the unit's branch, the plan's frozen ones
        instead."""
        used = func.coalesce(sums[f"{prefix}before"], 0) > 0
        plan_ids, covered = frozen
        live = (
            select(
                span.c.terminal_id,
                span.c.merchant_id,
                span.c.branch_id,
                case(
                    (
                        and_(~used, span.c.placed_on <= _day(day - timedelta(days=old_enough))),
                        1,
                    ),
                    else_=0,
                ).label("in_cohort"),
                case((used, 1), else_=0).label("was_active"),
            )
            .select_from(su.joined(span, span.c.terminal_id, f"{prefix}before"))
            .where(span.c.first <= _day(day), span.c.after > _day(day))
        )
        if not covered:
            return live.cte(name).prefix_with("MATERIALIZED")
        b = ScorecardBaseline.__table__.c  # type: ignore[attr-defined]
        unit = terminal.alias(f"{name}_unit")
        frozen_units = (
            select(
                b.terminal_id,
                b.merchant_id,
                unit.c.branch_id,
                case((b.in_cohort, 1), else_=0),
                case((b.was_active, 1), else_=0),
            )
            .join_from(ScorecardBaseline.__table__, unit, unit.c.id == b.terminal_id)  # type: ignore[attr-defined]
            .where(b.plan_id.in_(plan_ids))
        )
        live = live.where(span.c.branch_id.not_in(sorted(covered))).where(
            span.c.terminal_id.not_in(select(b.terminal_id).where(b.plan_id.in_(plan_ids)))
        )
        return union_all(live, frozen_units).cte(name).prefix_with("MATERIALIZED")

    def weighted(held: Any) -> tuple[Any, Any]:
        """(the holder join target, the unit's weight: days held, or 1 by branch)."""
        if by_branch:
            return held_any[held.name], literal(1)
        return held, held.c.days

    def part(name: str, key: Any, unit: Any, *values: Any) -> list[Any]:
        # Typed NULLs: PostgreSQL takes a UNION's column types from its first SELECT.
        padded = [key, unit, *values, *([cast(null(), Float())] * (VALUES - len(values)))]
        return [
            literal_column(f"'{name}'").label("part"),
            *(v.label(f"v{i}") for i, v in enumerate(padded)),
        ]

    def grouped(query: Any, units: Any, held: Any, *values: Any, name: str) -> Any:
        """`query` (over `units`, joined to `held`) in the caller's scope, summed per key."""
        key = units.c.branch_id if by_branch else held.c.staff_id
        if keep is not None:
            query = query.where(units.c.branch_id.in_(sorted(keep)))
        return query.add_columns(*part(name, key, cast(null(), Integer()), *values)).group_by(key)

    parts = []
    # The baseline: deployed, active, cohort and activated, by the days held in the period.
    now = baseline(ps, "", frozen_plans, "base_now")
    target, weight = weighted(held_now)
    joined_now = select().select_from(
        su.joined(
            now.join(target, target.c.merchant_id == now.c.merchant_id), now.c.terminal_id, "woke"
        )
    )
    woke = func.coalesce(sums["woke"], 0) >= k
    if best is not None:
        best_now = best[0].cte("best_now").prefix_with("MATERIALIZED")
        joined_now = joined_now.outerjoin(best_now, best_now.c.terminal_id == now.c.terminal_id)
        woke = or_(woke, func.coalesce(best_now.c.n, 0) >= k)
    parts.append(
        grouped(
            joined_now,
            now,
            target,
            func.sum(weight),
            func.sum(weight * now.c.was_active),
            func.sum(weight * now.c.in_cohort),
            func.sum(case((woke, weight * now.c.in_cohort), else_=0)),
            name="start",
        )
    )
    if not by_branch:  # the cohort units still asleep, for "what would move it"
        asleep = joined_now.where(now.c.in_cohort == 1, ~woke)
        if keep is not None:
            asleep = asleep.where(now.c.branch_id.in_(sorted(keep)))
        parts.append(
            asleep.add_columns(*part("sleep", target.c.staff_id, now.c.terminal_id, weight))
        )
    # The previous period's cohort, by the days held in it.
    before = baseline(qs, "base_", frozen_plans_before, "base_before")
    target_b, weight_b = weighted(held_before)
    base_woke = func.coalesce(sums["base_woke"], 0) >= k
    joined_before = select().select_from(
        su.joined(
            before.join(target_b, target_b.c.merchant_id == before.c.merchant_id),
            before.c.terminal_id,
            "base_woke",
        )
    )
    if best is not None:
        best_before = best[1].subquery("best_before")
        joined_before = joined_before.outerjoin(
            best_before, best_before.c.terminal_id == before.c.terminal_id
        )
        base_woke = or_(base_woke, func.coalesce(best_before.c.n, 0) >= k)
    parts.append(
        grouped(
            joined_before.where(before.c.in_cohort == 1),
            before,
            target_b,
            func.sum(weight_b),
            func.sum(case((base_woke, weight_b), else_=0)),
            name="base",
        )
    )
    # 动户率 at the end: units deployed on the last day so far, used in the 30 days before.
    last_day = end - timedelta(days=1)
    used_end = func.coalesce(sums["end_30"], 0) > 0
    parts.append(
        grouped(
            select()
            .select_from(
                su.joined(
                    span.join(target, target.c.merchant_id == span.c.merchant_id),
                    span.c.terminal_id,
                    "end_30",
                )
            )
            .where(span.c.first <= _day(last_day), span.c.after > _day(last_day)),
            span,
            target,
            func.sum(weight),
            func.sum(case((used_end, weight), else_=0)),
            name="end",
        )
    )
    parts.append(_money(span, hold, su, period, settings, by_branch, grouped))
    # Placements in the period, for the merchant's holder on the day (or the unit's branch).
    in_period = and_(span.c.placed_on >= _day(ps), span.c.placed_on < _day(pe))
    placements = select().select_from(span)
    if not by_branch:
        placements = placements.join(
            hold,
            and_(
                hold.c.merchant_id == span.c.merchant_id,
                hold.c.first <= span.c.placed_on,
                hold.c.after > span.c.placed_on,
            ),
        )
    parts.append(grouped(placements.where(in_period), span, hold, func.count(), name="placed"))
    return union_all(*parts)


@dataclass(frozen=True)
class Sums:
    """The rollup passes: each window's (and `fee`, `net`) column, and the pass holding it."""

    column: dict[str, Any]
    owner: dict[str, Any]

    def joined(self, units: Any, terminal_id: Any, *names: str) -> Any:
        """`units` outer-joined by `terminal_id` to the passes holding the windows `names`."""
        for cte in dict.fromkeys(self.owner[name] for name in names):
            units = units.outerjoin(cte, cte.c.terminal_id == terminal_id)
        return units


def _window_sums(windows: dict[str, tuple[date, date]], period: Period, passes: bool) -> Sums:
    """Per unit, each window's successful financial transactions and the period's fee and
    net, over terminal_day: in one pass, or (`passes`) one per window's days.

    The cost is per row and per sum (3 million rows for a month at 100,000 units), so:
    windows of the same days share one sum (in a month the activation window, the 30 days
    before its end and the period are one). In one pass (PostgreSQL: it scans the table in
    parallel, once), each sum is FILTERed by its days (no CASE evaluated and no zero added for
    the rows outside it: a unit without rows in a window has NULL there, which every use
    reads as 0), and a window's edge that is the pass's own is not compared again. SQLite
    reads a range of days per unit by the table's key (terminal, day) at about the cost of
    a sum, so there a pass per window, a plain sum each, is cheaper than one pass whose
    rows each go through every window's filter (side by side at 100,000 units: 0.9 s of CPU
    against 1.3 s for the sums of a month)."""
    d = TerminalDay.__table__.c  # type: ignore[attr-defined]
    fee = d.transfer_fee_fen + d.card_payment_fee_fen + d.bill_payment_fee_fen
    label: dict[tuple[date, date], str] = {}
    for name, days in windows.items():
        label.setdefault(days, name)
    period_days = windows["txns"]  # the period's, where the fee and net are summed
    if passes:
        owner: dict[tuple[date, date], Any] = {}
        for (first, after), name in label.items():
            money = (
                [func.sum(fee).label("fee"), func.sum(d.net_fen).label("net")]
                if (first, after) == period_days
                else []
            )
            owner[(first, after)] = (
                select(d.terminal_id, func.sum(d.txn_count).label(name), *money)
                .where(d.day >= _day(first), d.day < _day(after))
                .group_by(d.terminal_id)
                .cte(f"su_{name}")
                .prefix_with("MATERIALIZED")
            )
        column = {name: owner[days].c[label[days]] for name, days in windows.items()}
        held = {name: owner[days] for name, days in windows.items()}
        money_pass = owner[period_days]
        return Sums(
            {**column, "fee": money_pass.c.fee, "net": money_pass.c.net},
            {**held, "fee": money_pass, "net": money_pass},
        )
    start = min(first for first, _ in windows.values())
    stop = max(after for _, after in windows.values())

    def only(total: Any, first: date, after: date) -> Any:
        edges = [d.day >= _day(first)] if first > start else []
        edges += [d.day < _day(after)] if after < stop else []
        return total.filter(and_(*edges)) if edges else total

    su = (
        select(
            d.terminal_id,
            *(only(func.sum(d.txn_count), *days).label(name) for days, name in label.items()),
            only(func.sum(fee), *period_days).label("fee"),
            only(func.sum(d.net_fen), *period_days).label("net"),
        )
        .where(d.day >= _day(start), d.day < _day(stop))
        .group_by(d.terminal_id)
        .cte("su")
        .prefix_with("MATERIALIZED")
    )
    column = {name: su.c[label[days]] for name, days in windows.items()}
    return Sums(
        {**column, "fee": su.c.fee, "net": su.c.net},
        {name: su for name in [*windows, "fee", "net"]},
    )


def _money(
    span: Any,
    hold: Any,
    su: Sums,
    period: Period,
    settings: Settings,
    by_branch: bool,
    grouped: Any,
) -> Any:
    """Per person: the unit-days in their portfolio, and each unit's transactions, fee, net
    and cost by its days held out of its days deployed in the period (by branch: whole)."""
    ps, pe = period.start, period.end
    first = later(span.c.first, _day(ps))
    after = earlier(span.c.after, _day(pe))
    in_period = (
        select(
            span.c.terminal_id,
            span.c.merchant_id,
            span.c.branch_id,
            span.c.registered,
            span.c.placed_on,
            first.label("first"),
            after.label("after"),
        )
        .where(after > first)
        .cte("in_period")
        .prefix_with("MATERIALIZED")
    )
    deployed = (
        select(
            in_period.c.terminal_id,
            in_period.c.branch_id,
            in_period.c.registered,
            func.sum(days_between(in_period.c.after, in_period.c.first)).label("days"),
            func.min(in_period.c.placed_on).label("first_placed"),
        )
        .group_by(in_period.c.terminal_id, in_period.c.branch_id, in_period.c.registered)
        .cte("deployed")
        .prefix_with("MATERIALIZED")
    )
    # The unit's cost over the period (fleet.pay.yields.unit_cost, the same arithmetic).
    since = earlier(deployed.c.registered, deployed.c.first_placed)
    start = later(_day(ps), since)
    days = days_between(_day(pe), start)
    life = round(settings.pay_unit_life_months * DAYS_PER_MONTH)
    amortised = later(0, earlier(days, days_between(since, start) + life))
    per_day = settings.pay_unit_price_fen / (settings.pay_unit_life_months * DAYS_PER_MONTH)
    line_fee = settings.pay_line_fee_fen_per_month
    cost = round_half_even(amortised * literal(per_day, Float())) + round_half_even(
        days * line_fee / literal(DAYS_PER_MONTH, Float())
    )
    txns = func.coalesce(su.column["txns"], 0)
    fee = func.coalesce(su.column["fee"], 0)
    net = func.coalesce(su.column["net"], 0)
    if by_branch:
        return grouped(
            select().select_from(su.joined(deployed, deployed.c.terminal_id, "txns", "fee", "net")),
            deployed,
            None,
            func.sum(deployed.c.days),
            func.sum(txns),
            func.sum(fee),
            func.sum(net),
            func.sum(cost),
            name="money",
        )
    n = days_between(
        earlier(hold.c.after, in_period.c.after), later(hold.c.first, in_period.c.first)
    )
    held = (
        select(in_period.c.terminal_id, hold.c.staff_id, func.sum(n).label("days"))
        .select_from(in_period)
        .join(hold, hold.c.merchant_id == in_period.c.merchant_id)
        .where(n > 0)
        .group_by(in_period.c.terminal_id, hold.c.staff_id)
        .cte("unit_held")
        .prefix_with("MATERIALIZED")
    )
    share = cast(held.c.days, Float()) / deployed.c.days
    return grouped(
        select().select_from(
            su.joined(
                held.join(deployed, deployed.c.terminal_id == held.c.terminal_id),
                held.c.terminal_id,
                "txns",
                "fee",
                "net",
            )
        ),
        deployed,
        held,
        func.sum(held.c.days),
        func.sum(share * txns),
        func.sum(share * fee),
        func.sum(share * net),
        func.sum(share * cost),
        name="money",
    )
