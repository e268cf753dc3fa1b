"""What a contract (承包) earns: a month's accrual statement and the period's final settlement,
line by line, each line a unit with its transactions and net revenue at the portfolio.

The rules (README "Contracting (承包)"):
- The portfolio's units: those placed at its merchants; a unit counts for the days it was
  placed there. Its net revenue is terminal_day's (the bank's fee less the network's and the
  issuer's shares, priced at ingest by the schedule in force on each day).
- 动户率 at the statement's end: units placed there then that were used in the 30 days before.
- Attainment: the mean of each target's actual / target (the revenue target, and the baseline,
  spread over the days: a month's accrual counts its share); 1 without targets.
- The factor: 0 below the threshold; else min(1, cap / attainment), so that a portfolio at 200%
  with a cap of 150% is paid as at 150%.
- Each unit's commission: its net × rate × factor, rounded to the fen. Paid only above the
  baseline: a baseline line takes the baseline's revenue off (never more than was earned).
- Clawback: a unit in the portfolio's cohort at a month's start (idle, dormant or never used)
  that made k transactions in the 30 days after was credited as activated; if it then goes 30
  days without use, that stretch complete within 90 days of the month's start, what its
  revenue of that month earned is taken back: in the accrual of the month after it fell
  back, and in the final settlement when it fell back within the period.
- The total is the sum of the lines.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Session, col

from fleet.core.config import Settings
from fleet.feeds.models import TerminalDay
from fleet.inventory.models import Branch, Merchant, Placement, Terminal
from fleet.inventory.scope import subtree_ids
from fleet.pay import activation
from fleet.pay.contract_models import (
    Contract,
    ContractMerchant,
    LineKind,
    PortfolioKind,
    Statement,
    StatementLine,
)

# Transactions in 30 days that make an activation (the scorecard's default k).
K = 3


def fen(value: float) -> int:
    """`value` rounded to the fen, halves away from zero."""
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def merchant_ids(session: Session, contract: Contract) -> set[int]:
    """The merchants of the contract's portfolio as it stands today."""
    query = select(col(Merchant.id))
    if contract.portfolio_kind is PortfolioKind.branch:
        assert contract.portfolio_branch_id is not None
        query = query.where(
            col(Merchant.branch_id).in_(subtree_ids(session, contract.portfolio_branch_id))
        )
    elif contract.portfolio_kind is PortfolioKind.market:
        query = query.where(col(Merchant.market_id) == contract.portfolio_market_id)
    else:
        query = select(col(ContractMerchant.merchant_id)).where(
            col(ContractMerchant.contract_id) == contract.id
        )
    return {mid for (mid,) in session.execute(query)}


def months(start: date, end: date) -> list[tuple[date, date]]:
    """The calendar months of [start, end), each cut to it."""
    found = []
    first = start
    while first < end:
        after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        found.append((first, min(after, end)))
        first = after
    return found


def month_text(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


@dataclass
class Usage:
    """Where the portfolio's units were and what they did, over the days read."""

    # terminal id → [(merchant id, first day, first day after)] at the portfolio's merchants
    stays: dict[int, list[tuple[int, date, date | None]]] = field(default_factory=dict)
    # (terminal id, day) → (transactions, net fen)
    days: dict[tuple[int, date], tuple[int, int]] = field(default_factory=dict)
    sn: dict[int, str] = field(default_factory=dict)
    merchants: dict[int, tuple[str, str, str]] = field(default_factory=dict)

    def merchant_on(self, terminal_id: int, day: date) -> int | None:
        for merchant_id, first, after in self.stays.get(terminal_id, ()):
            if first <= day and (after is None or day < after):
                return merchant_id
        return None


def _local_day(moment: datetime, settings: Settings) -> date:
    stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return stamp.astimezone(ZoneInfo(settings.feed_timezone)).date()


def _midnight(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(settings.feed_timezone)).astimezone(UTC)


def usage(
    session: Session, merchants: set[int], start: date, end: date, settings: Settings
) -> Usage:
    """The placements at `merchants` overlapping [start, end) and their units' days then."""
    found = Usage()
    if not merchants:
        return found
    rows = session.execute(
        select(
            col(Placement.terminal_id),
            col(Placement.merchant_id),
            col(Placement.started_at),
            col(Placement.ended_at),
        )
        .where(col(Placement.merchant_id).in_(merchants))
        .where(col(Placement.started_at) < _midnight(end, settings))
        .where(
            col(Placement.ended_at).is_(None)
            | (col(Placement.ended_at) >= _midnight(start, settings))
        )
    ).all()
    for terminal_id, merchant_id, started, ended in rows:
        stay = (
            merchant_id,
            _local_day(started, settings),
            _local_day(ended, settings) if ended else None,
        )
        found.stays.setdefault(terminal_id, []).append(stay)
    if not found.stays:
        return found
    ids = list(found.stays)
    found.sn = {
        tid: sn
        for tid, sn in session.execute(
            select(col(Terminal.id), col(Terminal.sn)).where(col(Terminal.id).in_(ids))
        )
    }
    for mid, code, name, branch in session.execute(
        select(col(Merchant.id), col(Merchant.code), col(Merchant.name), col(Branch.code))
        .join(Branch, col(Branch.id) == Merchant.branch_id)
        .where(col(Merchant.id).in_(merchants))
    ):
        found.merchants[mid] = (code, name, branch)
    for terminal_id, day, count, net in session.execute(
        select(
            col(TerminalDay.terminal_id),
            col(TerminalDay.day),
            col(TerminalDay.txn_count),
            TerminalDay.__table__.c.net_fen,  # type: ignore[attr-defined]
        ).where(
            col(TerminalDay.terminal_id).in_(ids),
            col(TerminalDay.day) >= start,
            col(TerminalDay.day) < end,
        )
    ):
        if found.merchant_on(terminal_id, day) is not None:
            found.days[(terminal_id, day)] = (int(count or 0), int(net or 0))
    return found


def active_rate(found: Usage, at: date, settings: Settings) -> tuple[int, int]:
    """(units placed at the portfolio on the day before `at`, those used in the 30 days
    before `at`)."""
    last = at - timedelta(days=1)
    placed = [t for t in found.stays if found.merchant_on(t, last) is not None]
    window = [at - timedelta(days=n) for n in range(1, settings.active_days + 1)]
    active = [t for t in placed if any(found.days.get((t, d), (0, 0))[0] > 0 for d in window)]
    return len(placed), len(active)


def net_revenue(
    session: Session, contract: Contract, start: date, end: date, settings: Settings
) -> tuple[int, float | None]:
    """(the portfolio's net revenue over [start, end), its 动户率 at `end`): the baseline."""
    lookback = start - timedelta(days=settings.active_days)
    found = usage(session, merchant_ids(session, contract), min(lookback, start), end, settings)
    net = sum(n for (_, day), (_, n) in found.days.items() if start <= day < end)
    placed, active = active_rate(found, end, settings)
    return net, (active / placed if placed else None)


@dataclass
class Core:
    """A statement before clawbacks: its figures, each unit's line and factor."""

    units: int
    active_units: int
    active_rate: float | None
    net_fen: int
    baseline_fen: int
    target_revenue_fen: int | None
    attainment: float
    revenue_attainment: float | None
    active_attainment: float | None
    factor: float
    lines: list[StatementLine]


def _share(amount: int | None, days: int, period_days: int) -> int | None:
    return None if amount is None else fen(amount * days / period_days)


def core(contract: Contract, found: Usage, start: date, cut: date, settings: Settings) -> Core:
    """The figures of [start, cut) from `found` (which must cover 30 days before `cut`)."""
    period_days = (contract.period_end - contract.period_start).days
    days = (cut - start).days
    per_unit: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (terminal_id, day), (count, net) in found.days.items():
        if start <= day < cut:
            per_unit[terminal_id][0] += count
            per_unit[terminal_id][1] += net
    for terminal_id in found.stays:
        if any(
            found.merchant_on(terminal_id, start + timedelta(days=n)) is not None
            for n in range(days)
        ):
            per_unit.setdefault(terminal_id, [0, 0])
    net_total = sum(net for _, net in per_unit.values())
    placed, active = active_rate(found, cut, settings)
    rate = active / placed if placed else None
    target_revenue = _share(contract.target_revenue_fen, days, period_days)
    parts: list[float] = []
    revenue_att = active_att = None
    if target_revenue:
        revenue_att = net_total / target_revenue
        parts.append(revenue_att)
    if contract.target_active_rate:
        active_att = (rate or 0.0) / contract.target_active_rate
        parts.append(active_att)
    attainment = sum(parts) / len(parts) if parts else 1.0
    if attainment < contract.threshold_pct / 100:
        factor = 0.0
    else:
        factor = min(1.0, contract.cap_pct / 100 / attainment) if attainment > 0 else 1.0
    rate_factor = contract.commission_ppm / 1_000_000 * factor
    lines = []
    for terminal_id, (count, net) in sorted(
        per_unit.items(), key=lambda item: found.sn.get(item[0], "")
    ):
        merchant_id = _last_merchant(found, terminal_id, start, cut)
        code, name, branch = found.merchants.get(merchant_id or 0, ("", "", ""))
        lines.append(
            StatementLine(
                kind=LineKind.unit,
                sn=found.sn.get(terminal_id, ""),
                merchant_code=code,
                merchant_name=name,
                branch_code=branch,
                txn_count=count,
                net_fen=net,
                commission_fen=fen(net * rate_factor),
            )
        )
    baseline = _share(contract.baseline_net_fen or 0, days, period_days) or 0
    if contract.above_baseline and baseline > 0:
        taken = min(baseline, net_total)
        paid = sum(line.commission_fen for line in lines)
        lines.append(
            StatementLine(
                kind=LineKind.baseline,
                net_fen=-taken,
                # All of it when the baseline swallows the revenue: nothing is left to pay.
                commission_fen=-paid if taken == net_total else -fen(taken * rate_factor),
            )
        )
    return Core(
        units=len(per_unit),
        active_units=active,
        active_rate=rate,
        net_fen=net_total,
        baseline_fen=baseline if contract.above_baseline else 0,
        target_revenue_fen=target_revenue,
        attainment=attainment,
        revenue_attainment=revenue_att,
        active_attainment=active_att,
        factor=factor,
        lines=lines,
    )


def _last_merchant(found: Usage, terminal_id: int, start: date, cut: date) -> int | None:
    for n in range((cut - start).days - 1, -1, -1):
        merchant_id = found.merchant_on(terminal_id, start + timedelta(days=n))
        if merchant_id is not None:
            return merchant_id
    return None


@dataclass(frozen=True)
class Lapse:
    terminal_id: int
    month_start: date
    lapsed_on: date


def lapses(
    session: Session,
    contract: Contract,
    merchants: set[int],
    found: Usage,
    today: date,
    settings: Settings,
) -> list[Lapse]:
    """Units credited as activated in the contract's months that fell back within the
    clawback window, by the day it was known (not after `today`)."""
    fell: list[Lapse] = []
    used_on: dict[int, list[date]] = defaultdict(list)
    for (terminal_id, day), (count, _) in found.days.items():
        if count > 0:
            used_on[terminal_id].append(day)
    for month_start, _ in months(contract.period_start, contract.period_end):
        if month_start > today:
            break
        cohort = activation.cohort_outcomes(session, month_start, K, settings)
        window_end = month_start + timedelta(days=contract.clawback_days)
        for terminal_id, (merchant_id, activated) in sorted(cohort.items()):
            if not activated or merchant_id not in merchants:
                continue
            used = sorted(d for d in used_on[terminal_id] if month_start <= d < window_end)
            for n, day in enumerate(used):
                back = day + timedelta(days=settings.active_days)
                following = used[n + 1] if n + 1 < len(used) else None
                if (following is None or following >= back) and back < window_end:
                    if back <= today:
                        fell.append(Lapse(terminal_id, month_start, back))
                    break
    return fell


def clawback_line(contract: Contract, found: Usage, lapse: Lapse, factor: float) -> StatementLine:
    """The line taking back what a lapsed unit's revenue of its month earned at `factor`."""
    month_end = months(lapse.month_start, contract.period_end)[0][1]
    count = net = 0
    for (tid, day), (c, n) in found.days.items():
        if tid == lapse.terminal_id and lapse.month_start <= day < month_end:
            count += c
            net += n
    merchant_id = found.merchant_on(lapse.terminal_id, lapse.month_start)
    code, name, branch = found.merchants.get(merchant_id or 0, ("", "", ""))
    return StatementLine(
        kind=LineKind.clawback,
        month=month_text(lapse.month_start),
        sn=found.sn.get(lapse.terminal_id, ""),
        merchant_code=code,
        merchant_name=name,
        branch_code=branch,
        txn_count=count,
        net_fen=net,
        commission_fen=-fen(net * contract.commission_ppm / 1_000_000 * factor),
        lapsed_on=lapse.lapsed_on,
    )


def statement(
    session: Session,
    contract: Contract,
    start: date,
    end: date,
    *,
    final: bool,
    today: date,
    settings: Settings,
) -> Statement:
    """The accrual of [start, end) (a month of the period, to date), or the final settlement
    of the whole period (`final`)."""
    assert contract.id is not None
    merchants = merchant_ids(session, contract)
    first = min(start, contract.period_start) - timedelta(days=settings.active_days)
    last = max(end, contract.period_end) + timedelta(days=contract.clawback_days)
    found = usage(session, merchants, first, last, settings)
    cut = min(end, today + timedelta(days=1)) if not final else end
    figures = core(contract, found, start, max(cut, start), settings)
    lines = list(figures.lines)
    month_cores: dict[date, Core] = {}
    for lapse in lapses(session, contract, merchants, found, today, settings):
        if final:
            if lapse.lapsed_on >= contract.period_end:
                continue
            factor = figures.factor
        else:
            # Carried to the next month's statement: fell back in the month before `start`.
            if not ((start - timedelta(days=1)).replace(day=1) <= lapse.lapsed_on < start):
                continue
            if lapse.month_start not in month_cores:
                month_end = months(lapse.month_start, contract.period_end)[0][1]
                month_cores[lapse.month_start] = core(
                    contract, found, lapse.month_start, month_end, settings
                )
            factor = month_cores[lapse.month_start].factor
        lines.append(clawback_line(contract, found, lapse, factor))
    return Statement(
        contract_id=contract.id,
        period=contract.period if final else month_text(start),
        start=start,
        end=end,
        final=final,
        settled=False,
        units=figures.units,
        active_units=figures.active_units,
        active_rate=figures.active_rate,
        net_fen=figures.net_fen,
        baseline_fen=figures.baseline_fen,
        target_revenue_fen=figures.target_revenue_fen,
        attainment=figures.attainment,
        revenue_attainment=figures.revenue_attainment,
        active_attainment=figures.active_attainment,
        factor=figures.factor,
        total_fen=sum(line.commission_fen for line in lines),
        lines=lines,
    )
