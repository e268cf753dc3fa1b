"""A seeded, fast, realistic synthetic transaction feed, in the format the bank exports nightly.

`generate_feed` writes CSV (header `txn_ref,terminal_sn,occurred_at,amount,txn_type,status,
merchant_code`) or NDJSON (the same keys, one object a line; `amount` is a JSON number with
two decimals), optionally gzipped. It covers the `days` days that end the day before `as_of`.

Every terminal gets one behaviour profile (see `PROFILES`), drawn from a hash of the seed and
its serial number, so a unit keeps its profile whatever else is in the list. The profiles are
built so that the status rules of DESIGN.md ("Utilisation: the definitions": usage counts only
successful transfers, card payments and bill payments) come out as designed, as of `as_of`,
whenever the window is long enough to show them (declining needs 120 days, idle up to 89,
dormant 90+ -- a dormant unit may have stopped before the window and so have no rows at all):

- `never_used`: no successful financial transaction (perhaps a few balance inquiries);
- `idle`: last use 31-88 days before `as_of`; `dormant`: last use 91+ days before;
- `declining`: used in the last 29 days, and its count over the last 30 days is under a sixth
  of its count over the 89 days before (so under half its monthly average, whichever way the
  boundary day is counted);
- `busy`, `normal`, `quiet`, `seasonal` (farm supplies: spring and autumn peaks): in use.

Units that wake up (`wake_share`, off by default; the demo turns it on): a share of the
`normal` and `quiet` units were asleep before a wake day in the last `WAKE_WITHIN` days, as
after a field visit -- no rows for `WAKE_GAP` days or more before it (or none at all since
their placement: never used), a forced use on the wake day, then use at their own rate (at
least `WAKE_RATE_FLOOR` a day). The gap is long enough that, on any weekly grid of as-of dates,
such a unit is idle, dormant or never used a week before the first as-of date after its wake
day, and active on it: one activation each (`wakers` says which units and when). They keep
their profile (in use, as of `as_of`), so the mix of statuses as of `as_of` stays about the
same with or without them; earlier as-of dates see them asleep. (A quiet unit may also wake
by itself after a long enough gap: that is no waker, but an activation all the same.)

Visits (`FeedTerminal.visited_on`; the demo: its campaign's calls on the market's merchants):
from the visit day on, the unit is in use for good, as a `normal` unit when its profile would
have left it out of use (`idle`, `dormant`, `never_used`, `declining`). A unit asleep at the
visit for `WAKE_GAP` days or more (or never used) wakes on the visit day, as a waker does, and
counts among the woken; one in use at the visit, or asleep for less, is kept in use (as though
it had not stopped). Before the visit (but for that shorter sleep) its usage is its profile's.

Volumes follow the calendar (`calendar_factor`): quieter Sundays, a rush before the Spring
Festival then a deep dip, a National Day dip; times of day mostly 8:00-19:00.

Everything random comes from the seed: a per-terminal hash for the plan, a per-day generator
for the day's rows; nothing from the clock. The same inputs give byte-identical files. Rows are
generated a day at a time with numpy and written in chunks with polars, so memory stays flat.
"""

from __future__ import annotations

import gzip as gz
import hashlib
import json
import math
import os
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Literal, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from fleet.core.errors import Invalid

__all__ = [
    "DEFAULT_SEED",
    "FEED_COLUMNS",
    "FINANCIAL_TYPES",
    "PROFILES",
    "SPRING_FESTIVAL",
    "STATUSES",
    "TXN_TYPES",
    "FeedStats",
    "FeedTerminal",
    "asleep_on",
    "bench_terminals",
    "calendar_factor",
    "farm_season_factor",
    "generate_feed",
    "profile_of",
    "profiles",
    "wakers",
]

DEFAULT_SEED = 20261128

FEED_COLUMNS = (
    "txn_ref",
    "terminal_sn",
    "occurred_at",
    "amount",
    "txn_type",
    "status",
    "merchant_code",
)
TXN_TYPES = ("transfer", "card_payment", "bill_payment", "balance_inquiry", "reversal")
FINANCIAL_TYPES = TXN_TYPES[:3]
STATUSES = ("success", "failed")
PROFILES = ("busy", "normal", "quiet", "declining", "seasonal", "idle", "dormant", "never_used")
_BUSY, _NORMAL, _QUIET, _DECLINING, _SEASONAL, _IDLE, _DORMANT, _NEVER = range(len(PROFILES))
_TRANSFER, _CARD, _BILL, _INQUIRY, _REVERSAL = range(len(TXN_TYPES))

# Chinese New Year's day (正月初一).
SPRING_FESTIVAL: dict[int, date] = {
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
}

# Trades (free text, Chinese or English) that shape the profile mix: wholesale trades where
# units are busier, and farm supplies that follow the farming year.
_BUSY_TRADE_WORDS = ("五金", "建材", "家电", "汽配", "hardware", "building", "appliance", "auto")
_FARM_TRADE_WORDS = ("农资", "化肥", "种子", "农药", "farm", "fertili", "seed")
_GENERAL, _BUSY_TRADE, _FARM_TRADE = 0, 1, 2

# Profile weights by trade class, in PROFILES order (each row sums to 1). Overall, with a
# realistic trade mix: ~46% busy+normal, 15% quiet, 8% declining, 5% seasonal, 10% idle,
# 10% dormant, 7% never used.
_PROFILE_WEIGHTS = np.array(
    [
        [0.08, 0.38, 0.16, 0.08, 0.03, 0.10, 0.10, 0.07],  # general (and unknown trades)
        [0.30, 0.19, 0.14, 0.08, 0.02, 0.10, 0.10, 0.07],  # wholesale: 五金 建材 家电 汽配
        [0.02, 0.16, 0.12, 0.06, 0.40, 0.09, 0.08, 0.07],  # farm supplies 农资
    ]
)
# Days a unit must have been deployed (before as_of) for a profile to be possible.
_MIN_AGE = {_DECLINING: 150, _IDLE: 45, _DORMANT: 100}

# Successful financial transactions a day at calendar factor 1: median and log-sd, floor.
_RATE_MEDIAN = np.array([6.6, 2.9, 0.5, 2.7, 2.4, 1.4, 1.2, 0.0])
_RATE_SIGMA = np.array([0.40, 0.45, 0.50, 0.40, 0.40, 0.60, 0.60, 0.0])
_RATE_FLOOR = np.array([2.0, 0.6, 0.12, 1.0, 0.5, 0.2, 0.2, 0.0])
_RATE_CEILING = 40.0

IDLE_LAST_USE = (31, 88)  # days before as_of
DORMANT_LAST_USE = (91, 450)
DECLINING_LAST_USE = (1, 29)
# Units that wake up: the wake day is 1..WAKE_WITHIN days before as_of, after WAKE_GAP days
# without use. 36 days would do: one week before the first weekly as-of date after the wake
# day, the last use before it is then at least 30 days old (idle). A quarter of them were
# never used before; the rest last used it 40-240 days before waking (idle or dormant then).
WAKE_WITHIN = 70
WAKE_GAP = (40, 240)
WAKE_NEVER_USED = 0.25
WAKE_RATE_FLOOR = 0.8  # a day, at calendar factor 1: once awake, a unit stays active
_WAKE_FROM = (_NORMAL, _QUIET)
DECLINE_WINDOW = 30  # the last 30 days
PREVIOUS_WINDOW = (31, 119)  # the 89 days before them that the decline is measured against

# Other rows, per successful financial transaction: ~3% failed, ~5% balance inquiries,
# ~1% reversals of all rows.
_FAILED_PER_TXN = 0.033
_INQUIRY_PER_TXN = 0.055
_REVERSAL_PER_TXN = 0.011
_INQUIRY_BASE = 0.004  # a day, any live unit
_NEVER_USED_INQUIRY = 0.03  # a day, for the never-used units that look at their balance

# Amounts in yuan, lognormal per type: mean, log-sd, ceiling.
_AMOUNT_MEAN = np.array([800.0, 300.0, 120.0, 0.01, 300.0])
_AMOUNT_SIGMA = np.array([0.95, 0.85, 0.70, 0.0, 0.85])
_AMOUNT_MU = np.log(_AMOUNT_MEAN) - _AMOUNT_SIGMA**2 / 2
_AMOUNT_MAX_CENTS = np.array([5_000_000, 3_000_000, 500_000, 1, 3_000_000], dtype=np.int64)
_ROUND_TRANSFER_SHARE = 0.35  # transfers of 100 yuan or more rounded to whole hundreds
_ROUND_BILL_SHARE = 0.40  # bill payments of 10 yuan or more rounded to whole tens

# Hour of day weights, 0..23: shop hours, mostly 8:00-19:00.
_HOUR_WEIGHTS = np.array(
    [0, 0, 0, 0, 0, 0, 0.3, 1.5, 4, 7, 9, 9, 6, 6, 8, 9, 9, 7, 4.5, 2, 1, 0.3, 0, 0]
)
_HOUR_CUM = np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()
_WEEKDAY = (1.04, 1.02, 1.0, 1.0, 1.04, 1.0, 0.72)  # Monday .. Sunday

_CHUNK_ROWS = 250_000
_MAX_ROWS_PER_DAY = 100_000_000  # the txn_ref counter's 8 digits
_EPOCH = date(1970, 1, 1)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FeedTerminal:
    sn: str
    merchant_code: str
    deployed_on: date  # first day it can transact (placement start)
    trade: str  # merchant category / market trade; free text, unknown -> average
    # A behaviour profile (PROFILES) known beforehand, instead of the one drawn from the hash
    # (the demo: a campaign placed the unit with a merchant who needs it, so it is busy).
    profile: str | None = None
    # A field visit that put the unit in use for good from that day (module docstring).
    visited_on: date | None = None


@dataclass
class FeedStats:
    rows: int
    terminals: int  # terminals given (sum of by_profile)
    first_day: date  # the window: first_day .. last_day (= as_of - 1), whether rows fall there
    last_day: date
    by_profile: dict[str, int]  # terminals per behaviour profile, every profile listed
    path: Path
    woken: dict[str, date] = field(default_factory=dict)  # serial number -> wake day


# --- the calendar ----------------------------------------------------------------------------


def _spring_festival_factor(day: date) -> float:
    for year in (day.year, day.year + 1):
        cny = SPRING_FESTIVAL.get(year)
        if cny is None:
            continue
        delta = (day - cny).days
        if -21 <= delta <= -3:  # pre-festival rush, building up
            return 1.15 + 0.35 * (delta + 21) / 18
        if delta == -2:
            return 1.0
        if delta == -1:  # 除夕
            return 0.35
        if 0 <= delta <= 3:
            return 0.10
        if 4 <= delta <= 6:
            return 0.25
        if 7 <= delta <= 14:  # back to work by 元宵
            return 0.45 + 0.5 * (delta - 7) / 7
    return 1.0


def calendar_factor(day: date) -> float:
    """Relative volume on `day`: weekday rhythm times the Spring Festival and National Day."""
    factor = _WEEKDAY[day.weekday()] * _spring_festival_factor(day)
    if day.month == 10 and day.day <= 7:  # National Day golden week
        factor *= 0.5
    elif day.month == 5 and day.day <= 5:  # Labour Day holiday
        factor *= 0.85
    return factor


def farm_season_factor(day: date) -> float:
    """Farm-supply volume on `day`, about 1 on average: spring planting and autumn peaks."""
    doy = day.timetuple().tm_yday
    spring = 1.6 * math.exp(-(((doy - 85) / 28) ** 2))
    autumn = 1.3 * math.exp(-(((doy - 280) / 22) ** 2))
    return (0.35 + spring + autumn) / 0.706


# --- the plan: one profile and its parameters per terminal ----------------------------------


def _trade_class(trade: str) -> int:
    text = trade.lower()
    if any(word in text for word in _FARM_TRADE_WORDS):
        return _FARM_TRADE
    if any(word in text for word in _BUSY_TRADE_WORDS):
        return _BUSY_TRADE
    return _GENERAL


def _uniforms(terminals: Sequence[FeedTerminal], seed: int) -> F64:
    """Eight uniforms in [0, 1) per terminal, from a hash of the seed and its serial number."""
    digests = b"".join(
        hashlib.blake2b(f"{seed}\x1f{t.sn}".encode(), digest_size=64).digest() for t in terminals
    )
    raw = np.frombuffer(digests, dtype="<u8").reshape(-1, 8)
    return (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53


@dataclass
class _Plan:
    profile: I64
    age: I64  # days from deployed_on to as_of: live on the day `u` days before as_of iff u <= age
    rate: F64  # successful financial transactions a day, at calendar factor 1
    stop: I64  # no rows on days fewer than `stop` days before as_of (1: none stopped) ...
    wake: I64  # ... unless `wake` days before as_of or fewer (0: never wakes)
    forced: I64  # a successful financial transaction is made `forced` days before (0: none)
    decline: F64  # rate factor over the last 30 days (declining units)
    inquiry: F64  # balance inquiries a day besides those tied to the rate
    split: F64  # (n, 2): transfer and transfer+card cumulative shares


def _plan(
    terminals: Sequence[FeedTerminal], *, as_of: date, seed: int, wake_share: float = 0.0
) -> _Plan:
    n = len(terminals)
    u = _uniforms(terminals, seed)
    age = np.fromiter(((as_of - t.deployed_on).days for t in terminals), dtype=np.int64, count=n)
    classes: dict[str, int] = {}
    for t in terminals:
        if t.trade not in classes:
            classes[t.trade] = _trade_class(t.trade)
    trade = np.fromiter((classes[t.trade] for t in terminals), dtype=np.int64, count=n)

    weights = _PROFILE_WEIGHTS[trade]
    for profile, min_age in _MIN_AGE.items():
        weights[age < min_age, profile] = 0.0
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    profile_ix = (u[:, :1] >= cum[:, :-1]).sum(axis=1).astype(np.int64)
    for k, t in enumerate(terminals):
        if t.profile is not None:
            profile_ix[k] = PROFILES.index(t.profile)
    profile_ix[age <= 0] = _NEVER  # not deployed before as_of: nothing to show

    z = np.sqrt(-2.0 * np.log1p(-u[:, 1])) * np.cos(2.0 * np.pi * u[:, 2])
    rate = _RATE_MEDIAN[profile_ix] * np.exp(_RATE_SIGMA[profile_ix] * z)
    rate = np.clip(rate, _RATE_FLOOR[profile_ix], _RATE_CEILING)

    stop = np.ones(n, dtype=np.int64)
    forced = np.zeros(n, dtype=np.int64)
    idle = profile_ix == _IDLE
    lo, hi = IDLE_LAST_USE
    span = np.minimum(hi, age[idle]) - lo + 1
    stop[idle] = lo + np.floor(u[idle, 3] * span).astype(np.int64)
    dormant = profile_ix == _DORMANT
    lo, hi = DORMANT_LAST_USE
    span = np.minimum(hi, age[dormant]) - lo + 1
    stop[dormant] = lo + np.floor(u[dormant, 3] ** 2 * span).astype(np.int64)
    forced[idle | dormant] = stop[idle | dormant]
    declining = profile_ix == _DECLINING
    lo, hi = DECLINING_LAST_USE
    forced[declining] = lo + np.floor(u[declining, 3] * (hi - lo + 1)).astype(np.int64)
    decline = np.where(declining, 0.08 + 0.17 * u[:, 4], 1.0)

    # Wakers: normal and quiet units have no use for u[:, 3..5] (stop, decline, inquiry) and
    # none for u[:, 7], so with wake_share 0 every other unit's plan is unchanged.
    wake = np.zeros(n, dtype=np.int64)
    if wake_share > 0:
        # More of late, as a field programme gets going: the density falls from 1.5x the
        # average on the last day to nothing WAKE_WITHIN days back.
        later = np.floor((1.0 - u[:, 3] ** (2 / 3)) * WAKE_WITHIN).astype(np.int64)
        day = 1 + np.minimum(later, WAKE_WITHIN - 1)
        lo, hi = WAKE_GAP
        woken = np.isin(profile_ix, _WAKE_FROM) & (u[:, 7] < wake_share) & (age >= day + lo)
        gap = lo + np.floor(u[:, 4] ** 1.5 * (hi - lo + 1)).astype(np.int64)
        asleep_from = np.where(u[:, 5] < WAKE_NEVER_USED, age + 1, day + gap)
        wake[woken] = day[woken]
        stop[woken] = asleep_from[woken]
        forced[woken] = day[woken]
        rate[woken] = np.maximum(rate[woken], WAKE_RATE_FLOOR)

    _apply_visits(terminals, as_of, age, profile_ix, rate, stop, wake, forced, decline)
    inquiry = np.where(
        profile_ix == _NEVER, np.where(u[:, 5] < 0.6, _NEVER_USED_INQUIRY, 0.0), _INQUIRY_BASE
    )
    transfer = 0.35 + 0.35 * u[:, 6] + np.where(trade == _BUSY_TRADE, 0.10, 0.0)
    card = (1.0 - transfer) * 0.7
    split = np.column_stack([transfer, transfer + card])
    return _Plan(profile_ix, age, rate, stop, wake, forced, decline, inquiry, split)


_IN_USE = (_BUSY, _NORMAL, _QUIET, _SEASONAL)


def _apply_visits(
    terminals: Sequence[FeedTerminal],
    as_of: date,
    age: I64,
    profile_ix: I64,
    rate: F64,
    stop: I64,
    wake: I64,
    forced: I64,
    decline: F64,
) -> None:
    """In place: each visited unit in use for good from its visit day (module docstring)."""
    visit = np.fromiter(
        ((as_of - t.visited_on).days if t.visited_on else 0 for t in terminals),
        dtype=np.int64,
        count=len(terminals),
    )
    visited = (visit > 0) & (visit <= age)
    if not visited.any():
        return
    # The first of the days out of use (in days before as_of; 1: none), and whether the unit
    # is in use on the visit day by its plan (a waker awake by then needs nothing).
    asleep_since = np.where(profile_ix == _NEVER, age + 1, stop)
    woken_before = (wake > 0) & (visit <= wake)
    awake = (visit >= asleep_since) | woken_before
    waking = visited & ~awake & (asleep_since - visit >= WAKE_GAP[0])
    kept = visited & ~waking & ~woken_before
    turned = visited & ~np.isin(profile_ix, _IN_USE)  # out of use by their profile
    profile_ix[turned] = _NORMAL
    decline[turned] = 1.0
    rate[turned | waking] = np.maximum(rate[turned | waking], WAKE_RATE_FLOOR)
    wake[waking] = visit[waking]
    stop[waking] = asleep_since[waking]
    forced[waking] = visit[waking]
    stop[kept] = 1
    wake[kept] = 0


def profiles(
    terminals: Sequence[FeedTerminal], *, as_of: date, seed: int = DEFAULT_SEED
) -> dict[str, str]:
    """The behaviour profile `generate_feed` gives each terminal (by serial number)."""
    plan = _plan(terminals, as_of=as_of, seed=seed)
    return {t.sn: PROFILES[p] for t, p in zip(terminals, plan.profile.tolist(), strict=True)}


def asleep_on(
    terminals: Sequence[FeedTerminal],
    day: date,
    *,
    as_of: date,
    seed: int = DEFAULT_SEED,
    wake_share: float = 0.0,
) -> set[str]:
    """The units deployed by `day` that `generate_feed` leaves without use over the 30 days
    before it (out of use by their plan: idle, dormant or never used then; a quiet unit's
    chance gap aside)."""
    plan = _plan(terminals, as_of=as_of, seed=seed, wake_share=wake_share)
    first = (as_of - day).days + 1  # the window: `first` .. `first + 29` days before as_of
    last = np.minimum(first + 29, plan.age)
    used = (plan.rate > 0) & ((last >= plan.stop) | (plan.wake >= first))
    return {
        t.sn
        for t, deployed, in_use in zip(terminals, plan.age >= first, used, strict=True)
        if deployed and not in_use
    }


def wakers(
    terminals: Sequence[FeedTerminal], *, as_of: date, wake_share: float, seed: int = DEFAULT_SEED
) -> dict[str, date]:
    """The units `generate_feed` wakes with `wake_share`, by serial number, with their wake day."""
    return _woken(terminals, _plan(terminals, as_of=as_of, seed=seed, wake_share=wake_share), as_of)


def _woken(
    terminals: Sequence[FeedTerminal], plan: _Plan, as_of: date, days: int | None = None
) -> dict[str, date]:
    """Wake days by serial number (only those in the `days` days before as_of, if given)."""
    return {
        t.sn: as_of - timedelta(days=w)
        for t, w in zip(terminals, plan.wake.tolist(), strict=True)
        if w and (days is None or w <= days)
    }


def profile_of(terminal: FeedTerminal, *, as_of: date, seed: int = DEFAULT_SEED) -> str:
    """The behaviour profile of one terminal; it does not depend on the other terminals."""
    return profiles([terminal], as_of=as_of, seed=seed)[terminal.sn]


# --- one day's rows ---------------------------------------------------------------------------


@dataclass
class _Rows:
    terminal: I64
    seconds: I64  # since the Unix epoch, local time
    ref: I64  # yymmdd, batch tag, counter within the day
    cents: I64
    txn_type: I64
    failed: B


class _Decline:
    """Keeps each declining unit's last-30-day count under a sixth of its previous 89 days."""

    def __init__(self, plan: _Plan) -> None:
        self.mask = plan.profile == _DECLINING
        self.forced = plan.forced[self.mask]
        self.previous = np.zeros(int(self.mask.sum()), dtype=np.int64)
        self.recent = np.zeros_like(self.previous)

    def limit(self, before: int, counts: I64) -> None:
        if before > DECLINE_WINDOW or not self.previous.size:
            return
        own = counts[self.mask]
        cap = np.maximum((self.previous - 1) // 6, 0)
        allowed = cap - self.recent - (self.forced < before)  # keep one for the forced day
        counts[self.mask] = np.minimum(own, np.maximum(allowed, 0))

    def count(self, before: int, counts: I64) -> None:
        if not self.previous.size:
            return
        if before <= DECLINE_WINDOW:
            self.recent += counts[self.mask]
        elif PREVIOUS_WINDOW[0] <= before <= PREVIOUS_WINDOW[1]:
            self.previous += counts[self.mask]


def _day_rows(
    plan: _Plan, decline: _Decline, day: date, before: int, *, seed: int, batch: int
) -> _Rows:
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, day.toordinal()])))
    live = (plan.age >= before) & ((before >= plan.stop) | (before <= plan.wake))
    mean = plan.rate * calendar_factor(day)
    mean = np.where(plan.profile == _SEASONAL, mean * farm_season_factor(day), mean)
    if before <= DECLINE_WINDOW:
        mean = mean * plan.decline
    mean = np.where(live, mean, 0.0)

    used = rng.poisson(mean)
    decline.limit(before, used)
    forced = plan.forced == before
    used[forced] = np.maximum(used[forced], 1)
    decline.count(before, used)
    failed = rng.poisson(mean * _FAILED_PER_TXN)
    inquiries = rng.poisson(mean * _INQUIRY_PER_TXN + np.where(live, plan.inquiry, 0.0))
    reversals = rng.poisson(mean * _REVERSAL_PER_TXN)

    who = np.arange(len(mean), dtype=np.int64)
    n_fin = int(used.sum()) + int(failed.sum())
    terminal = np.concatenate(
        [
            np.repeat(who, used),
            np.repeat(who, failed),
            np.repeat(who, inquiries),
            np.repeat(who, reversals),
        ]
    )
    n = len(terminal)
    if n >= _MAX_ROWS_PER_DAY:
        raise Invalid(
            "more than {most} rows on {day}: fewer terminals, please",
            most=_MAX_ROWS_PER_DAY - 1,
            day=day,
        )
    status = np.zeros(n, dtype=np.bool_)
    status[int(used.sum()) : n_fin] = True
    kind = np.full(n, _REVERSAL, dtype=np.int64)
    kind[n_fin : n_fin + int(inquiries.sum())] = _INQUIRY
    draw = rng.random(n_fin)
    split = plan.split[terminal[:n_fin]]
    kind[:n_fin] = (draw >= split[:, 0]).astype(np.int64) + (draw >= split[:, 1])

    yuan = np.exp(_AMOUNT_MU[kind] + _AMOUNT_SIGMA[kind] * rng.standard_normal(n))
    cents = np.rint(yuan * 100.0).astype(np.int64)
    tidy = rng.random(n)
    hundreds = (kind == _TRANSFER) & (tidy < _ROUND_TRANSFER_SHARE) & (cents >= 10_000)
    cents[hundreds] = np.rint(cents[hundreds] / 10_000).astype(np.int64) * 10_000
    tens = (kind == _BILL) & (tidy < _ROUND_BILL_SHARE) & (cents >= 1_000)
    cents[tens] = np.rint(cents[tens] / 1_000).astype(np.int64) * 1_000
    cents = np.clip(cents, 1, _AMOUNT_MAX_CENTS[kind])

    hour = np.searchsorted(_HOUR_CUM, rng.random(n), side="right").astype(np.int64)
    seconds = np.minimum(hour, 23) * 3600 + rng.integers(0, 3600, size=n, dtype=np.int64)
    order = np.argsort(seconds, kind="stable")
    stamp = (day.year % 100) * 10_000 + day.month * 100 + day.day
    ref = (stamp * 10_000 + batch) * _MAX_ROWS_PER_DAY + np.arange(n, dtype=np.int64)
    return _Rows(
        terminal=terminal[order],
        seconds=seconds[order] + (day - _EPOCH).days * 86_400,
        ref=ref,
        cents=cents[order],
        txn_type=kind[order],
        failed=status[order],
    )


# --- writing ----------------------------------------------------------------------------------


def _frame(rows: list[_Rows], sns: pl.Series, merchants: pl.Series) -> pl.DataFrame:
    def cat(name: str) -> npt.NDArray[np.generic]:
        return np.concatenate([getattr(r, name) for r in rows])

    terminal = pl.Series(cat("terminal"), dtype=pl.Int64)
    return pl.DataFrame(
        {
            "txn_ref": pl.Series(cat("ref"), dtype=pl.Int64),
            "terminal_sn": sns.gather(terminal),
            "occurred_at": pl.Series(cat("seconds") * 1000, dtype=pl.Int64).cast(pl.Datetime("ms")),
            "cents": pl.Series(cat("cents"), dtype=pl.Int64),
            "txn_type": pl.Series(TXN_TYPES).gather(pl.Series(cat("txn_type"))),
            "status": pl.Series(STATUSES).gather(pl.Series(cat("failed").astype(np.int64))),
            "merchant_code": merchants.gather(terminal),
        }
    ).with_columns(
        pl.concat_str(pl.lit("T"), pl.col("txn_ref").cast(pl.String).str.zfill(18)).alias("txn_ref")
    )


def _write_csv(frame: pl.DataFrame, sink: IO[bytes]) -> None:
    frame.select(
        *FEED_COLUMNS[:3],
        (pl.col("cents") / 100).alias("amount"),
        *FEED_COLUMNS[4:],
    ).write_csv(
        sink,
        include_header=False,
        datetime_format="%Y-%m-%dT%H:%M:%S",
        float_precision=2,
        line_terminator="\n",
    )


def _write_ndjson(frame: pl.DataFrame, sink: IO[bytes]) -> None:
    # Built by hand so that amount is a JSON number with two decimals (356.20); the serial
    # numbers and merchant codes arrive already JSON-encoded.
    amount = pl.concat_str(
        (pl.col("cents") // 100).cast(pl.String),
        pl.lit("."),
        (pl.col("cents") % 100).cast(pl.String).str.zfill(2),
    )
    line = pl.concat_str(
        pl.lit('{"txn_ref":"'),
        pl.col("txn_ref"),
        pl.lit('","terminal_sn":'),
        pl.col("terminal_sn"),
        pl.lit(',"occurred_at":"'),
        pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%S"),
        pl.lit('","amount":'),
        amount,
        pl.lit(',"txn_type":"'),
        pl.col("txn_type"),
        pl.lit('","status":"'),
        pl.col("status"),
        pl.lit('","merchant_code":'),
        pl.col("merchant_code"),
        pl.lit("}"),
    )
    frame.select(line).write_csv(
        sink, include_header=False, quote_style="never", line_terminator="\n"
    )


def generate_feed(
    out: Path,
    terminals: Sequence[FeedTerminal],
    *,
    as_of: date,
    days: int = 180,
    seed: int = DEFAULT_SEED,
    fmt: Literal["csv", "ndjson"] = "csv",
    gzip: bool | None = None,
    wake_share: float = 0.0,
) -> FeedStats:
    """Write the feed of the `days` days before `as_of` for `terminals` to `out`.

    gzip None: compress when `out` ends in `.gz`. wake_share: the share of normal and quiet
    units that wake up in the last weeks (the module docstring says how). The file is written
    beside `out` and moved into place when complete. Same inputs, same bytes.
    """
    out = Path(out)
    if days < 1:
        raise Invalid("days must be at least 1, not {days}", days=days)
    if not 0.0 <= wake_share <= 1.0:
        raise Invalid("wake_share must be between 0 and 1, not {share}", share=wake_share)
    if fmt not in ("csv", "ndjson"):
        raise Invalid("unknown feed format {format}: csv or ndjson", format=repr(fmt))
    sns = [t.sn for t in terminals]
    if len(set(sns)) != len(sns):
        raise Invalid("terminal serial numbers must be unique")
    if gzip is None:
        gzip = out.suffix.lower() == ".gz"
    seed = int(seed)
    seed_key = seed % (1 << 64)
    batch = int.from_bytes(hashlib.blake2b(f"batch\x1f{seed}".encode()).digest()[:8]) % 10_000

    plan = _plan(terminals, as_of=as_of, seed=seed, wake_share=wake_share)
    decline = _Decline(plan)
    if fmt == "csv":
        sn_col = pl.Series(sns, dtype=pl.String)
        merchant_col = pl.Series([t.merchant_code for t in terminals], dtype=pl.String)
        write = _write_csv
    else:
        sn_col = pl.Series([json.dumps(s, ensure_ascii=False) for s in sns], dtype=pl.String)
        merchant_col = pl.Series(
            [json.dumps(t.merchant_code, ensure_ascii=False) for t in terminals], dtype=pl.String
        )
        write = _write_ndjson

    first_day = as_of - timedelta(days=days)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    total = 0
    try:
        with open(part, "wb") as raw, ExitStack() as stack:
            sink: IO[bytes] = raw
            if gzip:  # no name and no time in the header: the same bytes every run
                zipped = gz.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6)
                sink = cast(IO[bytes], stack.enter_context(zipped))
            if fmt == "csv":
                sink.write((",".join(FEED_COLUMNS) + "\n").encode())
            pending: list[_Rows] = []
            pending_rows = 0
            for k in range(days):
                day = first_day + timedelta(days=k)
                rows = _day_rows(plan, decline, day, days - k, seed=seed_key, batch=batch)
                if len(rows.ref):
                    pending.append(rows)
                    pending_rows += len(rows.ref)
                if pending and (pending_rows >= _CHUNK_ROWS or k == days - 1):
                    write(_frame(pending, sn_col, merchant_col), sink)
                    total += pending_rows
                    pending, pending_rows = [], 0
        os.replace(part, out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise

    counts = np.bincount(plan.profile, minlength=len(PROFILES)).tolist()
    return FeedStats(
        rows=total,
        terminals=len(terminals),
        first_day=first_day,
        last_day=as_of - timedelta(days=1),
        by_profile=dict(zip(PROFILES, counts, strict=True)),
        path=out,
        woken=_woken(terminals, plan, as_of, days),
    )


# --- benchmark terminals ----------------------------------------------------------------------

# Trades and weights for benchmark terminals: wholesale-market stalls and town shops.
BENCH_TRADES: tuple[tuple[str, int], ...] = (
    ("五金", 9),
    ("建材", 8),
    ("家电", 6),
    ("汽配", 5),
    ("家居", 5),
    ("家装", 4),
    ("石材", 3),
    ("药材", 3),
    ("农资", 4),
    ("便利店", 12),
    ("超市", 5),
    ("药店", 4),
    ("农资店", 4),
    ("餐馆", 8),
    ("五金店", 3),
    ("手机通讯", 3),
    ("烟酒店", 4),
    ("粮油店", 3),
    ("服装店", 3),
    ("汽修店", 3),
    ("诊所", 2),
)


def bench_terminals(n: int, *, as_of: date, seed: int) -> list[FeedTerminal]:
    """`n` synthetic terminals (BT00000001.., merchants BM00000001..), deployed over 3 years."""
    rng = np.random.default_rng(np.random.SeedSequence([seed % (1 << 64), 0xBE7C]))
    names = [name for name, _ in BENCH_TRADES]
    weights = np.array([w for _, w in BENCH_TRADES], dtype=np.float64)
    trades = rng.choice(len(names), size=n, p=weights / weights.sum()).tolist()
    ages = rng.integers(1, 3 * 365 + 1, size=n).tolist()
    return [
        FeedTerminal(
            sn=f"BT{i + 1:08d}",
            merchant_code=f"BM{i + 1:08d}",
            deployed_on=as_of - timedelta(days=age),
            trade=names[trade],
        )
        for i, (trade, age) in enumerate(zip(trades, ages, strict=True))
    ]
