"""The utilisation rules of DESIGN.md, as pure functions over one terminal's numbers.

As of a date D, a terminal is scored on the rollup days *before* D: the as-of date is the
morning after the last complete day, which is when the nightly job runs. With the default
settings (every number below comes from `Settings`):

- usage is `terminal_day.txn_count` (successful financial transactions) on days since the
  unit's *counted-from* day: the later of the current placement's local start day and the
  data coverage start (fleet.feeds.coverage: the day from which the bank's feed is complete).
  A unit deployed years before the bank's first export is judged on the data alone;
- `days_since_use` = D - last day with use, so a unit used yesterday has 1;
- `count_30` / `amount_30` cover the `active_days` days D-30 .. D-1, `count_90` / `amount_90`
  the `dormant_days` days D-90 .. D-1, and the *previous window* the `declining_previous_days`
  days before the last 30: D-120 .. D-31;
- status, for a unit with use since its placement:
  `active` when days_since_use < active_days (1..29), `idle` when < dormant_days (30..89),
  `dormant` otherwise (90 or more). So a unit last used exactly 30 days before D is idle,
  as DESIGN.md says ("idle: last use 30–89 days ago"), though that day is in its count_30;
- `declining` replaces `active` when count_30 < declining_ratio x previous_monthly, where
  previous_monthly is the previous window's count per active_days days deployed in it
  (count / 3 for a unit deployed throughout; a unit deployed for only part of the window is
  averaged over its days there, but over at least one month). Never when previous_monthly is 0,
  nor when the data do not cover the unit's days in the previous window (coverage start after
  both D-120 and the placement's start): then previous_monthly is unknown (None), as is the
  trend;
- a unit with no use since its counted-from day is `never_used` once that day is at least
  never_used_after_days days back (D - counted-from >= 30), and `new` before that: a unit
  deployed long ago with 20 days of data and no use is not yet judged;
- trend = count_30 / previous_monthly (None when previous_monthly is 0 or unknown).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from fleet.core.config import Settings
from fleet.scoring.models import UsageStatus

ACTIVE = frozenset({UsageStatus.active, UsageStatus.declining})
# The statuses from which becoming active counts as an activation (激活).
ACTIVATABLE = frozenset({UsageStatus.idle, UsageStatus.dormant, UsageStatus.never_used})


@dataclass(frozen=True)
class Windows:
    """The first day of each counting window, as of `as_of` (every window ends at as_of - 1)."""

    as_of: date
    recent_from: date  # count_30
    long_from: date  # count_90
    previous_from: date  # the previous window ends the day before recent_from

    @classmethod
    def of(cls, as_of: date, settings: Settings) -> Windows:
        recent_from = as_of - timedelta(days=settings.active_days)
        return cls(
            as_of=as_of,
            recent_from=recent_from,
            long_from=as_of - timedelta(days=settings.dormant_days),
            previous_from=recent_from - timedelta(days=settings.declining_previous_days),
        )


class Usage(NamedTuple):
    """One terminal's rollup totals since its placement started, as the scoring query gives."""

    last_used: date | None = None
    count_30: int = 0
    amount_30: int = 0
    count_90: int = 0
    amount_90: int = 0
    count_previous: int = 0


def counted_from(deployed_on: date, data_from: date | None) -> date:
    """The first day whose use counts: the later of deployment and the data coverage start."""
    return max(deployed_on, data_from) if data_from is not None else deployed_on


def previous_monthly(
    usage: Usage,
    deployed_on: date,
    windows: Windows,
    settings: Settings,
    data_from: date | None = None,
) -> float | None:
    """The previous window's count per `active_days` days the unit was deployed in it; None
    when the data do not cover all of those days."""
    if data_from is not None and data_from > max(windows.previous_from, deployed_on):
        return None
    days_there = (windows.recent_from - max(windows.previous_from, deployed_on)).days
    if days_there <= 0 or usage.count_previous == 0:
        return 0.0
    # At least a month's denominator, so that one busy day after a placement is no "average".
    return usage.count_previous * settings.active_days / max(days_there, settings.active_days)


def status_of(
    usage: Usage, since: date, monthly: float | None, as_of: date, settings: Settings
) -> UsageStatus:
    """The status of one deployed terminal, its use counted from `since` (`counted_from`)."""
    if usage.last_used is None:
        if (as_of - since).days >= settings.never_used_after_days:
            return UsageStatus.never_used
        return UsageStatus.new
    days_since = (as_of - usage.last_used).days
    if days_since < settings.active_days:
        if monthly and usage.count_30 < settings.declining_ratio * monthly:
            return UsageStatus.declining
        return UsageStatus.active
    if days_since < settings.dormant_days:
        return UsageStatus.idle
    return UsageStatus.dormant


def daily_rate(usage: Usage, since: date, as_of: date, settings: Settings) -> float:
    """count_90 per day counted within that window (`since`: `counted_from`), so recent
    placements, and units with less data, compare fairly."""
    days = min(settings.dormant_days, (as_of - since).days)
    return usage.count_90 / days if days > 0 else 0.0


def peer_scores(rates: Iterable[tuple[int, str, float]]) -> dict[int, float]:
    """Score 0–100 per terminal: 100 x its percentile rank among its peer group's daily rates.

    The rank counts the peers below it and half of those tied with it (itself excluded), over
    the number of other peers: the busiest unit of a group scores 100, the quietest 0, ties share
    a score, a unit alone in its group scores 100. Units with no use in the window score 0 but
    still count as peers, so a little use among many silent units ranks high.
    """
    groups: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for terminal_id, group, rate in rates:
        groups[group].append((terminal_id, rate))
    scores: dict[int, float] = {}
    for members in groups.values():
        ordered = sorted(rate for _, rate in members)
        others = len(ordered) - 1
        for terminal_id, rate in members:
            if rate <= 0:
                scores[terminal_id] = 0.0
                continue
            if others == 0:
                scores[terminal_id] = 100.0
                continue
            below = bisect_left(ordered, rate)
            tied = bisect_right(ordered, rate) - below - 1
            scores[terminal_id] = round(100.0 * (below + 0.5 * tied) / others, 2)
    return scores


def peer_group(
    settings: Settings, merchant_category: str, market_category: str | None, in_market: bool
) -> str:
    """`market:<trade>` for a merchant in a wholesale market (by default), else `category:<…>`."""
    if settings.peer_group == "market_or_category" and in_market and market_category:
        return f"market:{market_category}"[:80]
    return f"category:{merchant_category}"[:80]
