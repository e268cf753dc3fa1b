"""The 五提升 scorecard per staff member or branch for a month, quarter or year.

Figures from fleet.pay.figures; the four other rates from imports (fleet.pay.rates); points
= 100 × Σ weight × value / Σ weight over the five measures with the role's weights
(fleet.pay.weights; a rate not imported counts 0); rank among the rows of the same role.
Staff see only their own row; ops their subtree; money (fee, net, cost, 收益率) only for
roles that may see pay.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session, col

from fleet.auth.models import User
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import Settings, get_settings
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch
from fleet.inventory.scope import subtree_ids
from fleet.pay import figures, plans, rates, weights
from fleet.pay.figures import SMALL_COHORT, Tally, wilson_lower_bound
from fleet.pay.periods import Period
from fleet.pay.scorecard_models import Measure


class ScoreRow(BaseModel):
    """One staff member's (or branch's) scorecard line. Unit counts are shares of units held
    part of the period, so they may be fractions."""

    key: str
    name: str
    role: str | None = None
    branch: str | None = None
    branch_name: str | None = None
    cohort: float
    activated: float
    rate: float | None
    # Scored by the Wilson lower bound (a cohort under 30 units).
    wilson: bool
    score: float | None
    baseline_cohort: float
    baseline_activated: float
    baseline_score: float | None
    change: float | None
    deployed: float
    active_rate: float | None
    active_rate_start: float | None
    active_rate_change: float | None
    usage_rate: float | None
    fee_fen: int | None = None
    net_fen: int | None = None
    cost_fen: int | None = None
    yield_rate: float | None = None
    placements: int
    recoveries: int
    visits: int
    outcomes: dict[str, int]
    tickets: int
    sla_met: int
    sla_met_rate: float | None
    rates: dict[str, float]
    points: float | None = None
    rank: int | None = None
    # Cohort units still asleep (SN), for "what would move it" (own card only).
    sleeping: list[str] = []


class Scorecard(BaseModel):
    period: str
    start: date
    end: date
    k: int
    by: str
    frozen: bool
    rows: list[ScoreRow]


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def activation_score(activated: float, cohort: float) -> tuple[float | None, bool, float | None]:
    """(rate, scored by Wilson, score) of a cohort."""
    if cohort <= 0:
        return None, False, None
    rate = activated / cohort
    small = cohort < SMALL_COHORT
    return rate, small, wilson_lower_bound(activated, cohort) if small else rate


def points_of(values: dict[str, float], weighting: dict[Measure, int]) -> float | None:
    total = sum(weighting.values())
    if total <= 0:
        return None
    return 100 * sum(w * values.get(m.value, 0.0) for m, w in weighting.items()) / total


def _row(key: str, name: str, t: Tally, money: bool) -> ScoreRow:
    rate, small, score = activation_score(t.activated, t.cohort)
    _, _, base_score = activation_score(t.base_activated, t.base_cohort)
    active_end = _ratio(t.active_end, t.deployed_end)
    active_start = _ratio(t.active_start, t.deployed_start)
    return ScoreRow(
        key=key,
        name=name,
        cohort=round(t.cohort, 3),
        activated=round(t.activated, 3),
        rate=rate,
        wilson=small,
        score=score,
        baseline_cohort=round(t.base_cohort, 3),
        baseline_activated=round(t.base_activated, 3),
        baseline_score=base_score,
        change=None if score is None or base_score is None else score - base_score,
        deployed=round(t.deployed_end, 3),
        active_rate=active_end,
        active_rate_start=active_start,
        active_rate_change=(
            None if active_end is None or active_start is None else active_end - active_start
        ),
        usage_rate=_ratio(t.txns, t.unit_days),
        fee_fen=round(t.fee_fen) if money else None,
        net_fen=round(t.net_fen) if money else None,
        cost_fen=round(t.cost_fen) if money else None,
        yield_rate=round(t.net_fen / t.cost_fen, 4) if money and t.cost_fen else None,
        placements=t.placements,
        recoveries=t.recoveries,
        visits=sum(t.outcomes.values()),
        outcomes=dict(sorted(t.outcomes.items())),
        tickets=t.tickets,
        sla_met=t.sla_met,
        sla_met_rate=_ratio(t.sla_met, t.tickets),
        rates={},
    )


def _even(value: float | None) -> float:
    """A score or points for ranking: equal to 9 decimals is a tie (broken by the key), not
    ordered by the last binary digits that the order of a float sum leaves."""
    return round(value or 0.0, 9)


def _scope(session: Session, actor: Actor, branch_id: int | None) -> set[int] | None:
    keep = None if actor.branch_ids is None else set(actor.branch_ids)
    if branch_id is not None:
        inventory.get_branch(session, actor, branch_id)  # not found outside the actor's scope
        below = set(subtree_ids(session, branch_id))
        keep = below if keep is None else keep & below
    return keep


def compute(
    session: Session,
    *,
    period: Period,
    by_branch: bool,
    keep: set[int] | None,
    k: int | None = None,
    money: bool = True,
    settings: Settings | None = None,
) -> tuple[list[ScoreRow], bool, int]:
    """Every row in the branches `keep` (None: all), ranked; whether the baseline was frozen;
    and the k used."""
    s = settings or get_settings()
    frozen, frozen_before, plan_k = plans.frozen(session, period)
    k = k or plan_k or 3
    tallies = figures.tally_units(
        session,
        period,
        k,
        by_branch=by_branch,
        keep=keep,
        frozen=frozen,
        frozen_before=frozen_before,
        settings=s,
    )
    figures.tally_work(session, period, tallies, by_branch, keep)
    rows: list[ScoreRow] = []
    if by_branch:
        branches = {b.id: b for b in session.execute(select(Branch)).scalars() if b.id in tallies}
        for bid, tally in tallies.items():
            if bid in branches:
                row = _row(branches[bid].code, branches[bid].name, tally, money)
                row.branch = branches[bid].code
                row.branch_name = branches[bid].name
                rows.append(row)
        rows.sort(key=lambda r: (-_even(r.score), r.key))
        return rows, bool(frozen.branches), k
    users = session.execute(
        select(User, col(Branch.code), col(Branch.name)).join(
            Branch, col(Branch.id) == col(User.branch_id)
        )
    ).all()
    imported = rates.for_period(session, period.text)
    weighting = weights.all_roles(session)
    for user, branch_code, branch_name in users:
        in_scope = keep is None or user.branch_id in keep
        if user.id not in tallies and not (in_scope and user.role in (Role.field, Role.service)):
            continue
        tally = tallies.get(user.id or 0, Tally())
        row = _row(user.username, user.full_name or user.username, tally, money)
        row.role = user.role.value
        row.branch, row.branch_name = branch_code, branch_name
        row.rates = imported.get(user.id or 0, {})
        values = dict(row.rates)
        values[Measure.activation.value] = row.score or 0.0
        row.points = points_of(values, weighting[user.role.value])
        row.sleeping = [str(t) for t in tally.sleeping]  # ids; named by the caller if shown
        rows.append(row)
    rows.sort(key=lambda r: (-_even(r.points), -_even(r.score), r.key))
    seen: dict[str | None, int] = {}
    for row in rows:
        seen[row.role] = seen.get(row.role, 0) + 1
        row.rank = seen[row.role]
    return rows, bool(frozen.branches), k


def scorecard(
    session: Session,
    actor: Actor,
    *,
    period: Period,
    by: str = "staff",
    branch_id: int | None = None,
    k: int | None = None,
) -> Scorecard:
    """The scorecard of `period` in the actor's scope (a branch's subtree if given). Staff
    see their own line only; money only for roles that may see pay."""
    if by not in ("staff", "branch"):
        from fleet.core.errors import Invalid

        raise Invalid("{by} is not staff or branch", by=by)
    own = not actor.can(Permission.read_pay)
    if own and by == "branch":
        actor.require(Permission.read_pay)
    keep = _scope(session, actor, branch_id)
    rows, frozen, used_k = compute(
        session,
        period=period,
        by_branch=by == "branch",
        keep=keep,
        k=k,
        money=actor.can(Permission.read_pay),
    )
    if own:
        rows = [r for r in rows if r.key == actor.username]
    for row in rows:
        if row.key != actor.username:
            row.sleeping = []
    return Scorecard(
        period=period.text,
        start=period.start,
        end=period.end,
        k=used_k,
        by=by,
        frozen=frozen,
        rows=rows,
    )


class Sleeper(BaseModel):
    sn: str
    merchant: str


class MyCard(BaseModel):
    """A staff member's own card: their row, their rank among peers (the same role under the
    same parent branch), and what would move it."""

    period: str
    k: int
    row: ScoreRow | None
    rank: int | None
    peers: int
    sleeping: list[Sleeper]
    # Waking `wake` of the sleeping units adds `adds` points.
    wake: int
    adds: float | None


def _peer_scope(session: Session, actor: Actor) -> set[int] | None:
    user = (
        session.execute(select(User).where(col(User.username) == actor.username)).scalars().first()
    )
    if user is None:
        return set(actor.branch_ids or ())
    home = session.get(Branch, user.branch_id)
    root = home.parent_id if home is not None and home.parent_id is not None else user.branch_id
    return set(subtree_ids(session, root))


def my_card(session: Session, actor: Actor, *, period: Period, wake: int = 3) -> MyCard:
    """The caller's own scorecard with rank and "waking N of these units adds M points"."""
    from fleet.inventory.models import Merchant, Terminal

    rows, _, k = compute(session, period=period, by_branch=False, keep=_peer_scope(session, actor))
    mine = next((r for r in rows if r.key == actor.username), None)
    if mine is None:
        return MyCard(
            period=period.text, k=k, row=None, rank=None, peers=0, sleeping=[], wake=0, adds=None
        )
    peers = sum(1 for r in rows if r.role == mine.role)
    ids = [int(t) for t in mine.sleeping]
    named = session.execute(
        select(col(Terminal.id), col(Terminal.sn), col(Merchant.name))
        .join(Merchant, col(Merchant.id) == col(Terminal.merchant_id), isouter=True)
        .where(col(Terminal.id).in_(ids))
    ).all()
    sleeping = [
        Sleeper(sn=sn, merchant=name or "") for _, sn, name in sorted(named, key=lambda r: r[1])
    ]
    woken = min(wake, len(ids))
    adds = None
    if woken and mine.points is not None:
        weighting = weights.all_roles(session)[mine.role or Role.field.value]
        _, _, after = activation_score(mine.activated + woken, mine.cohort)
        values = dict(mine.rates)
        values[Measure.activation.value] = after or 0.0
        new_points = points_of(values, weighting)
        adds = None if new_points is None else round(new_points - mine.points, 2)
    mine.fee_fen = mine.net_fen = mine.cost_fen = None
    mine.yield_rate = None
    if actor.can(Permission.read_pay):
        money = scorecard(session, actor, period=period)
        found = next((r for r in money.rows if r.key == actor.username), None)
        if found is not None:
            mine.fee_fen, mine.net_fen, mine.cost_fen = found.fee_fen, found.net_fen, found.cost_fen
            mine.yield_rate = found.yield_rate
    return MyCard(
        period=period.text,
        k=k,
        row=mine,
        rank=mine.rank,
        peers=peers,
        sleeping=sleeping,
        wake=woken,
        adds=adds,
    )
