"""Who is worth a visit on a day: the candidates of a branch subtree, with their priorities.

- revisits: deployed units whose latest score as of the day (scored on the fly when there is
  none) is idle, dormant, never used or declining, at open merchants;
- follow-ups falling due (from `revisit_followup_lead_days` before their date on);
- recover visits: units whose recovery is approved;
- campaign visits: whatever the functions in SOURCES add (campaigns live in a later layer;
  fleet.wiring.plug_in hands their source here, so that dependencies keep pointing one way).
Left out: units visited within `revisit_cooldown_days` (unless a follow-up is due), units
awaiting a recovery decision, units already on another plan for the day, and units a later
layer holds back (HOLDS; after-sales: under repair, or just restored).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlmodel import Session, col

from fleet.core import phrases
from fleet.core.config import Settings
from fleet.core.phrases import Phrase, phrase
from fleet.feeds.models import TerminalDay
from fleet.inventory.models import Merchant, MerchantStatus, Terminal, TerminalState
from fleet.scoring import service as scoring
from fleet.scoring.models import ScoreRun, TerminalScore, UsageStatus
from fleet.visits.models import FollowUp, FollowUpStatus, Visit, VisitKind, VisitStatus
from fleet.visits.priority import Facts, priority

REVISIT_STATUSES = (
    UsageStatus.idle,
    UsageStatus.dormant,
    UsageStatus.never_used,
    UsageStatus.declining,
)
ACTIVE_STATUSES = (UsageStatus.active, UsageStatus.declining)
# Older scores than this (before the day that could be scored) are scored afresh: a unit's
# status a month ago says little about whom to visit today.
STALE_DAYS = 7


# Units a later layer holds back from revisits and recovery suggestions, as of a day (after-
# sales registers "under repair or just restored": days with a fault are not idleness).
Hold = Callable[[Session, date], set[int]]
HOLDS: list[Hold] = []


def held(session: Session, day: date) -> set[int]:
    """The units every registered hold keeps off lists on `day`."""
    found: set[int] = set()
    for hold in HOLDS:
        found |= hold(session, day)
    return found


@dataclass
class Candidate:
    kind: VisitKind
    merchant: Merchant
    branch_id: int
    priority: float
    reason: dict[str, Any]
    why: Phrase
    terminal_id: int | None = None
    sn: str | None = None
    usage_status: str | None = None
    follow_up_id: int | None = None
    campaign_id: int | None = None


@dataclass
class Selection:
    candidates: list[Candidate]
    scores_as_of: date | None
    left_out: Counter[str] = field(default_factory=Counter)
    notes: list[Phrase] = field(default_factory=list)


# Functions (session, branch_ids, plan_date) -> candidates of a later layer (campaigns), set by
# fleet.wiring.plug_in(); each candidate carries kind=campaign and its campaign_id. None until
# then, so that a caller that forgot the wiring fails instead of silently missing prospects.
CandidateSource = Callable[[Session, frozenset[int], date], list[Candidate]]
SOURCES: list[CandidateSource] | None = None
NOT_WIRED = "fleet is not wired: call fleet.wiring.plug_in() at start-up"


def _scores_as_of(session: Session, plan_date: date, notes: list[Phrase]) -> date:
    """The newest scored date on or before the plan date; scores the day now when there is
    none, or when the newest is more than STALE_DAYS older than the day could be scored."""
    stmt = select(func.max(col(ScoreRun.as_of))).where(col(ScoreRun.as_of) <= plan_date)
    as_of = session.execute(stmt).scalar_one_or_none()
    wanted = min(plan_date, scoring.today_local())
    if as_of is None or (wanted - as_of).days > STALE_DAYS:
        scoring.score(session, as_of=wanted)
        if as_of is None:
            notes.append(
                phrase("note_scored_none", plan_day=phrases.day(plan_date), day=phrases.day(wanted))
            )
        else:
            notes.append(
                phrase("note_scored_stale", found=phrases.day(as_of), day=phrases.day(wanted))
            )
        as_of = wanted
    return as_of


def _peer_monthly(session: Session, as_of: date) -> dict[str, float]:
    """Average 30-day use of the units in use, per peer group (the whole bank's peers)."""
    stmt = (
        select(col(TerminalScore.peer_group), func.avg(col(TerminalScore.count_30)))
        .where(col(TerminalScore.as_of) == as_of, col(TerminalScore.status).in_(ACTIVE_STATUSES))
        .group_by(col(TerminalScore.peer_group))
    )
    return {group: float(avg or 0) for group, avg in session.execute(stmt)}


def _market_active(session: Session, as_of: date) -> dict[int, float]:
    """Share of each market's scored units in use."""
    in_use = case((col(TerminalScore.status).in_(ACTIVE_STATUSES), 1), else_=0)
    stmt = (
        select(col(TerminalScore.market_id), func.count(), func.sum(in_use))
        .where(col(TerminalScore.as_of) == as_of, col(TerminalScore.market_id).is_not(None))
        .group_by(col(TerminalScore.market_id))
    )
    return {m: float(used or 0) / n for m, n, used in session.execute(stmt) if n}


def _own_monthly(session: Session, ids: list[int], plan_date: date) -> dict[int, float]:
    """Each unit's transactions over the past year, per 30 days (a year's total / 12 at most)."""
    first = plan_date - timedelta(days=365)
    totals: dict[int, float] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        stmt = (
            select(col(TerminalDay.terminal_id), func.sum(col(TerminalDay.txn_count)))
            .where(
                col(TerminalDay.terminal_id).in_(chunk),
                col(TerminalDay.day) >= first,
                col(TerminalDay.day) < plan_date,
            )
            .group_by(col(TerminalDay.terminal_id))
        )
        totals.update({t: float(n or 0) for t, n in session.execute(stmt)})
    return totals


def _done_visits(session: Session, ids: Iterable[int], before: date) -> dict[int, list[date]]:
    """The days each unit was visited (done visits before `before`)."""
    wanted = list(ids)
    found: dict[int, list[date]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        stmt = select(col(Visit.terminal_id), col(Visit.plan_date)).where(
            col(Visit.terminal_id).in_(wanted[start : start + 500]),
            col(Visit.status) == VisitStatus.done,
            col(Visit.plan_date) <= before,
        )
        for terminal_id, day in session.execute(stmt):
            found[terminal_id].append(day)
    return found


def _due_follow_ups(
    session: Session, branch_ids: frozenset[int], plan_date: date, settings: Settings
) -> dict[int, FollowUp]:
    """Open follow-ups due by the plan date (plus the lead days), the earliest per unit."""
    horizon = plan_date + timedelta(days=settings.revisit_followup_lead_days)
    stmt = (
        select(FollowUp)
        .where(
            col(FollowUp.status) == FollowUpStatus.open,
            col(FollowUp.due_on) <= horizon,
            col(FollowUp.branch_id).in_(branch_ids),
        )
        .order_by(col(FollowUp.due_on).desc())
    )
    return {f.terminal_id: f for f in session.execute(stmt).scalars()}


def _usage_facts(
    facts: Facts,
    score: TerminalScore,
    own_year: float,
    peers: dict[str, float],
    visits: list[date],
) -> None:
    """What the unit's score, its year of use, its peers and its past visits say."""
    facts.status = score.status.value
    facts.trend = score.trend
    facts.peer_monthly = peers.get(score.peer_group, 0.0)
    # Counted from the later of deployment and the data's start (fleet.feeds.coverage).
    facts.days_idle = (facts.plan_date - (score.last_used_on or score.counted_from())).days
    facts.data_from = score.data_later()
    months = max(1.0, min(365, (facts.plan_date - score.counted_from()).days) / 30.4)
    facts.own_monthly = own_year / months
    # Visits since the unit was last used did not get it used again.
    facts.failed_visits = sum(
        1
        for d in visits
        if d < facts.plan_date and (score.last_used_on is None or d > score.last_used_on)
    )


def select_candidates(
    session: Session,
    *,
    branch_ids: frozenset[int],
    plan_date: date,
    settings: Settings,
    busy: set[int] | None = None,
) -> Selection:
    """The candidates of the branches on the day; `busy` units (planned elsewhere) are left out."""
    busy = busy or set()
    notes: list[Phrase] = []
    as_of = _scores_as_of(session, plan_date, notes)
    left_out: Counter[str] = Counter()
    follow_ups = _due_follow_ups(session, branch_ids, plan_date, settings)

    at_merchant = (
        select(Terminal, Merchant, TerminalScore)
        .join(Merchant, col(Merchant.id) == col(Terminal.merchant_id))
        .outerjoin(
            TerminalScore,
            and_(
                col(TerminalScore.terminal_id) == col(Terminal.id),
                col(TerminalScore.as_of) == as_of,
            ),
        )
        .where(
            col(Terminal.branch_id).in_(branch_ids),
            col(Terminal.state).in_(
                [
                    TerminalState.deployed,
                    TerminalState.recovery_requested,
                    TerminalState.recovery_approved,
                ]
            ),
        )
        .order_by(col(Terminal.id))
    )
    rows = [tuple(row) for row in session.execute(at_merchant).all()]
    ids = [t.id or 0 for t, _, _ in rows]
    peers = _peer_monthly(session, as_of)
    markets = _market_active(session, as_of)
    own = _own_monthly(session, ids, plan_date)
    visited = _done_visits(session, ids, plan_date)
    cooldown_from = plan_date - timedelta(days=settings.revisit_cooldown_days)
    zone = ZoneInfo(settings.feed_timezone)
    holding = held(session, plan_date)

    candidates: list[Candidate] = []
    for terminal, merchant, score in rows:
        tid = terminal.id or 0
        if tid in busy:
            left_out["planned_elsewhere"] += 1
            continue
        if tid in holding:
            left_out["under_repair"] += 1
            continue
        if terminal.state is TerminalState.recovery_requested:
            left_out["recovery_requested"] += 1
            continue
        facts = Facts(kind=VisitKind.revisit, plan_date=plan_date)
        follow_up = follow_ups.get(tid)
        if terminal.state is TerminalState.recovery_approved:
            facts.kind = VisitKind.recover
            approved_on = terminal.state_since.astimezone(zone).date()
            facts.waiting_days = max(0, (plan_date - approved_on).days)
        else:
            wanted = score is not None and score.status in REVISIT_STATUSES
            if merchant.status is not MerchantStatus.open or not (wanted or follow_up):
                continue
            if follow_up is not None:
                facts.kind = VisitKind.follow_up
                facts.follow_up_due = follow_up.due_on
            elif any(d >= cooldown_from for d in visited.get(tid, [])):
                left_out["visited_recently"] += 1
                continue
        if score is not None:
            _usage_facts(facts, score, own.get(tid, 0.0), peers, visited.get(tid, []))
        if merchant.market_id is not None and merchant.market_id in markets:
            facts.market_active = markets[merchant.market_id]
        ranked = priority(facts, lead_days=settings.revisit_followup_lead_days)
        candidates.append(
            Candidate(
                kind=facts.kind,
                merchant=merchant,
                branch_id=terminal.branch_id,
                priority=ranked.value,
                reason=ranked.reason,
                why=ranked.why,
                terminal_id=tid,
                sn=terminal.sn,
                usage_status=facts.status,
                follow_up_id=follow_up.id
                if follow_up is not None and facts.kind is VisitKind.follow_up
                else None,
            )
        )
    if SOURCES is None:
        raise RuntimeError(NOT_WIRED)
    for source in SOURCES:
        candidates.extend(source(session, branch_ids, plan_date))
    # Best first, ties in a fixed order (a unit's serial, a prospect's merchant and campaign):
    # planning offers the solver the top of this list (plan.solver_share).
    candidates.sort(key=lambda c: (-c.priority, c.sn or "", c.merchant.code, c.campaign_id or 0))
    return Selection(candidates=candidates, scores_as_of=as_of, left_out=left_out, notes=notes)
