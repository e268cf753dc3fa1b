"""五提升's first rate, the one fleet computes: activation of existing transfer-phone customers
(转账电话存量客户激活率提升), per staff member and per branch, for a period.

The cohort: units deployed at the period's first day (the baseline) in the person's portfolio
that were then idle, dormant or never used (DESIGN.md's windows: last use 30 days ago or
more; never used though deployed 30 days or more). Activated: at least k successful financial
transactions in the 30 days from the baseline (k = 3 by default). A cohort under 30 units is
scored by the Wilson lower bound of its rate (95%), and says so. The change is against the
previous period of the same kind, computed the same way.

Not yet: a portfolio moved between people mid-period counted by days held (the portfolio is
each unit's merchant's staff member today), the baseline frozen by an approved plan, and the
other rows of the scorecard.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Session, col

from fleet.auth.models import User
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.feeds.models import TerminalDay
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Merchant, Placement, Terminal
from fleet.inventory.scope import subtree_ids
from fleet.pay.periods import Period

ACTIVATION_DAYS = 30
SMALL_COHORT = 30
Z95 = 1.959964
NONE = "-"


class Group(StrEnum):
    staff = "staff"
    branch = "branch"


class ActivationRow(BaseModel):
    """One person's or branch's activation over a period, and against the period before."""

    key: str
    cohort: int
    activated: int
    rate: float | None
    # The Wilson lower bound when the cohort is under 30 units (then `score` is that bound).
    wilson: bool
    score: float | None
    baseline_cohort: int
    baseline_activated: int
    baseline_score: float | None
    change: float | None


def wilson_lower_bound(successes: int, trials: int, z: float = Z95) -> float:
    """The lower end of the Wilson score interval of successes / trials."""
    if trials == 0:
        return 0.0
    p = successes / trials
    z2 = z * z
    centre = p + z2 / (2 * trials)
    spread = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return (centre - spread) / (1 + z2 / trials)


def _midnight(day: date, settings: Settings) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(settings.feed_timezone)).astimezone(UTC)


def cohort_outcomes(
    session: Session, baseline: date, k: int, settings: Settings
) -> dict[int, tuple[int, bool]]:
    """terminal id → (merchant id, activated) of the units in the cohort at `baseline`."""
    at = _midnight(baseline, settings)
    placed = session.execute(
        select(col(Placement.terminal_id), col(Placement.merchant_id), col(Placement.started_at))
        .where(col(Placement.started_at) < at)
        .where(col(Placement.ended_at).is_(None) | (col(Placement.ended_at) >= at))
    ).all()
    if not placed:
        return {}
    last_use = dict(
        session.execute(
            select(col(TerminalDay.terminal_id), func.max(col(TerminalDay.day)))
            .where(col(TerminalDay.txn_count) > 0, col(TerminalDay.day) < baseline)
            .group_by(col(TerminalDay.terminal_id))
        ).all()
    )
    # When each unit was first deployed: "never used" counts from there (30 days or more).
    first_placed = dict(
        session.execute(
            select(col(Placement.terminal_id), func.min(col(Placement.started_at))).group_by(
                col(Placement.terminal_id)
            )
        ).all()
    )
    cohort: dict[int, int] = {}
    for terminal_id, merchant_id, _ in placed:
        last = last_use.get(terminal_id)
        if last is not None:
            if (baseline - last).days >= settings.active_days:  # idle or dormant
                cohort[terminal_id] = merchant_id
        elif at - first_placed[terminal_id] >= timedelta(days=settings.never_used_after_days):
            cohort[terminal_id] = merchant_id
    used = dict(
        session.execute(
            select(col(TerminalDay.terminal_id), func.sum(col(TerminalDay.txn_count)))
            .where(
                col(TerminalDay.day) >= baseline,
                col(TerminalDay.day) < baseline + timedelta(days=ACTIVATION_DAYS),
                col(TerminalDay.terminal_id).in_(list(cohort)),
            )
            .group_by(col(TerminalDay.terminal_id))
        ).all()
    )
    return {tid: (mid, int(used.get(tid) or 0) >= k) for tid, mid in cohort.items()}


def _keys(session: Session, actor: Actor, group: Group, branch_id: int | None) -> dict[int, str]:
    """terminal id → the staff member (by the merchant's) or branch it counts for."""
    query = (
        select(col(Terminal.id), col(Branch.code), col(User.username))
        .join(Branch, col(Branch.id) == Terminal.branch_id)
        .outerjoin(Merchant, col(Merchant.id) == Terminal.merchant_id)
        .outerjoin(User, col(User.id) == Merchant.staff_id)
    )
    if actor.branch_ids is not None:
        query = query.where(col(Terminal.branch_id).in_(actor.branch_ids))
    if branch_id is not None:
        inventory.get_branch(session, actor, branch_id)
        query = query.where(col(Terminal.branch_id).in_(subtree_ids(session, branch_id)))
    return {
        tid: (branch if group is Group.branch else staff or NONE)
        for tid, branch, staff in session.execute(query)
    }


def _score(activated: int, cohort: int) -> tuple[float | None, bool, float | None]:
    if cohort == 0:
        return None, False, None
    rate = activated / cohort
    small = cohort < SMALL_COHORT
    return rate, small, wilson_lower_bound(activated, cohort) if small else rate


def activation(
    session: Session,
    actor: Actor,
    *,
    period: Period,
    group: Group = Group.staff,
    branch_id: int | None = None,
    k: int = 3,
    settings: Settings | None = None,
) -> list[ActivationRow]:
    """Each staff member's (or branch's) activation over `period`, best score first. Staff
    may read their own row only."""
    s = settings or get_settings()
    keys = _keys(session, actor, group, branch_id)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for slot, start in ((0, period.start), (2, period.previous().start)):
        for tid, (_, activated) in cohort_outcomes(session, start, k, s).items():
            if tid in keys:
                counts[keys[tid]][slot] += 1
                counts[keys[tid]][slot + 1] += activated
    if not actor.can(Permission.read_pay):  # staff: their own line only
        counts = {key: c for key, c in counts.items() if key == actor.username}
    rows = []
    for key, (n, won, base_n, base_won) in counts.items():
        rate, small, score = _score(won, n)
        _, _, base_score = _score(base_won, base_n)
        rows.append(
            ActivationRow(
                key=key,
                cohort=n,
                activated=won,
                rate=rate,
                wilson=small,
                score=score,
                baseline_cohort=base_n,
                baseline_activated=base_won,
                baseline_score=base_score,
                change=None if score is None or base_score is None else score - base_score,
            )
        )
    return sorted(rows, key=lambda r: (-(r.score or 0), r.key))
