"""A visit's priority (1-100) and its one-line explanation, in Chinese and English.

priority = (value + urgency) x 0.7^failed_visits + follow-up points, clamped to 1..100:
- value (0-60): what the unit is worth if used again: the monthly use it had itself and the
  monthly use of an active unit of its peer group, averaged, and weighted by its market's
  active rate when it sits in a wholesale market; on a log scale, full marks at 60 a month;
- urgency (0-25): how long it has been idle (or deployed and never used), full at 180 days;
  a declining unit gets 8-16 by how far its use has fallen;
- each visit that did not get the unit used again makes another one less promising (x 0.7);
- a follow-up gets up to 30 points as its date comes, all of them once due or overdue.
A recover visit (a recovery already approved) is a fixed 80, plus a point a day waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from fleet.core.phrases import Phrase, day, parts, percent, phrase
from fleet.visits.models import VisitKind

VALUE_POINTS = 60.0
VALUE_FULL_AT = 60.0  # transactions a month
URGENCY_POINTS = 25.0
URGENCY_FULL_DAYS = 180
FAILURE_FACTOR = 0.7
FOLLOW_UP_POINTS = 30.0
RECOVER_PRIORITY = 80.0


@dataclass
class Facts:
    """What is known about one candidate when the list is drawn up."""

    kind: VisitKind
    plan_date: date
    status: str | None = None  # usage status as of the scores' date
    days_idle: int | None = None  # since last use, or since deployment when never used
    # The data coverage start, when later than the deployment: days_idle of a unit never used
    # counts from it, and the reason says so.
    data_from: date | None = None
    trend: float | None = None
    own_monthly: float = 0.0
    peer_monthly: float = 0.0
    market_active: float | None = None  # share of the market's units in use
    failed_visits: int = 0
    follow_up_due: date | None = None
    waiting_days: int | None = None  # a recover visit: days since the recovery was approved


@dataclass
class Priority:
    value: float
    reason: dict[str, Any]
    why: Phrase


def _value(facts: Facts) -> float:
    monthly = 0.5 * facts.own_monthly + 0.5 * facts.peer_monthly
    if facts.market_active is not None:
        monthly *= 0.8 + 0.4 * facts.market_active
    return VALUE_POINTS * min(1.0, math.log1p(monthly) / math.log1p(VALUE_FULL_AT))


def _urgency(facts: Facts) -> float:
    if facts.status == "declining":
        fallen = 1.0 - min(1.0, max(0.0, facts.trend if facts.trend is not None else 1.0))
        return 8.0 + 8.0 * fallen
    days = min(facts.days_idle or 0, URGENCY_FULL_DAYS)
    return URGENCY_POINTS * days / URGENCY_FULL_DAYS


def _follow_up(facts: Facts, lead_days: int) -> float:
    if facts.follow_up_due is None:
        return 0.0
    ahead = (facts.follow_up_due - facts.plan_date).days
    if ahead <= 0:
        return FOLLOW_UP_POINTS
    return FOLLOW_UP_POINTS * max(0.0, 1.0 - ahead / (lead_days + 1))


def _why(facts: Facts) -> Phrase:
    """Why the unit is on the list, as phrases (worded in the reader's language when shown)."""
    days = facts.days_idle
    if facts.kind is VisitKind.recover:
        return parts(phrase("why_recover", days=facts.waiting_days or 0))
    found: list[Phrase | None] = []
    if facts.status == "never_used" and days is not None and facts.data_from is not None:
        found.append(phrase("why_unused_in_data", days=days, since=day(facts.data_from)))
    elif facts.status == "never_used" and days is not None:
        found.append(phrase("why_never_used", days=days))
    elif facts.status == "dormant" and days is not None:
        found.append(phrase("why_dormant", days=days))
    elif facts.status == "idle" and days is not None:
        found.append(phrase("why_idle", days=days))
    elif facts.status == "declining":
        share = percent(facts.trend) if facts.trend is not None else "?"
        found.append(phrase("why_declining", share=share))
    found.append(
        phrase("why_monthly", own=round(facts.own_monthly), peers=round(facts.peer_monthly))
    )
    if facts.market_active is not None:
        found.append(phrase("why_market_active", rate=percent(facts.market_active)))
    if facts.failed_visits:
        found.append(phrase("why_failed_visits", n=facts.failed_visits))
    if facts.follow_up_due is not None:
        late = (facts.plan_date - facts.follow_up_due).days
        if late > 0:
            found.append(phrase("why_follow_up_late", days=late))
        else:
            found.append(phrase("why_follow_up_due", due=day(facts.follow_up_due)))
    return parts(*found)


def priority(facts: Facts, *, lead_days: int = 2) -> Priority:
    """The priority of a candidate visit, the points it is made of, and the line explaining it."""
    reason: dict[str, Any] = {
        "kind": facts.kind.value,
        "status": facts.status,
        "days_idle": facts.days_idle,
        "data_from": facts.data_from.isoformat() if facts.data_from else None,
        "own_monthly": round(facts.own_monthly, 2),
        "peer_monthly": round(facts.peer_monthly, 2),
        "market_active": None if facts.market_active is None else round(facts.market_active, 3),
        "failed_visits": facts.failed_visits,
        "follow_up_due": facts.follow_up_due.isoformat() if facts.follow_up_due else None,
    }
    if facts.kind is VisitKind.recover:
        value = RECOVER_PRIORITY + min(20, facts.waiting_days or 0)
        reason["points"] = {"recover": value}
    else:
        value_points, urgency = _value(facts), _urgency(facts)
        factor = FAILURE_FACTOR**facts.failed_visits
        follow_up = _follow_up(facts, lead_days)
        value = (value_points + urgency) * factor + follow_up
        reason["points"] = {
            "value": round(value_points, 1),
            "urgency": round(urgency, 1),
            "failure_factor": round(factor, 3),
            "follow_up": round(follow_up, 1),
        }
    value = round(min(100.0, max(1.0, value)), 1)
    reason["priority"] = value
    return Priority(value=value, reason=reason, why=_why(facts))
