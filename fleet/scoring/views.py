"""Utilisation API: terminal scores per as-of date, one terminal's history, KPIs, re-scoring."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import Session

from fleet.auth.dependencies import ActorDep
from fleet.core.access import Permission
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Market, Merchant, Terminal
from fleet.scoring import kpi as kpis
from fleet.scoring import service as scoring
from fleet.scoring.models import ScoreSummary, TerminalScore, TerminalScorePublic, UsageStatus

router = APIRouter(tags=["utilisation"])
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
AsOf = Annotated[
    date | None,
    Query(description="Scored as-of date (YYYY-MM-DD); the latest scored date when omitted."),
]


def scores_public(session: Session, rows: list[TerminalScore]) -> list[TerminalScorePublic]:
    sns = inventory.codes(session, Terminal, {r.terminal_id for r in rows}, column="sn")
    branches = inventory.codes(session, Branch, {r.branch_id for r in rows})
    merchants = inventory.codes(session, Merchant, {r.merchant_id for r in rows})
    markets = inventory.codes(session, Market, {r.market_id for r in rows})
    return [
        TerminalScorePublic.model_validate(
            r,
            update={
                "sn": sns.get(r.terminal_id),
                "branch_code": branches.get(r.branch_id),
                "merchant_code": merchants.get(r.merchant_id),
                "market_code": markets.get(r.market_id or 0),
                "counted_from": r.counted_from(),
            },
        )
        for r in rows
    ]


@router.get("/scores", response_model=Page[TerminalScorePublic])
def list_scores(
    session: SessionDep,
    actor: ActorDep,
    as_of: AsOf = None,
    status: UsageStatus | None = None,
    branch_id: Annotated[
        int | None, Query(description="This branch and every branch below it.")
    ] = None,
    market_id: int | None = None,
    sort: Annotated[
        str | None,
        Query(
            description="score, status, days_since_use, count_30, count_90, trend or "
            "terminal_id; prefix '-' for descending."
        ),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[TerminalScorePublic]:
    """Terminal scores of your subtree as of a date: status (active, declining, idle, dormant,
    never_used, new), days since last use, 30/90-day counts and amounts (fen), trend against the
    previous monthly average (null when unknown: the data do not cover the previous window),
    and a 0–100 score within the peer group. Use counts from `counted_from`: the later of the
    deployment and `data_from`, the day from which the bank's feed is complete."""
    actor.require(Permission.read_inventory)
    _, rows, total = scoring.list_scores(
        session,
        actor,
        as_of=as_of,
        status=status,
        branch_id=branch_id,
        market_id=market_id,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return Page(items=scores_public(session, rows), total=total, limit=limit, offset=offset)


@router.get("/terminals/{terminal_id}/scores", response_model=list[TerminalScorePublic])
def terminal_scores(
    session: SessionDep, actor: ActorDep, terminal_id: int
) -> list[TerminalScorePublic]:
    """One terminal's scores at every scored date, oldest first: its trend over time."""
    actor.require(Permission.read_inventory)
    return scores_public(session, scoring.terminal_history(session, actor, terminal_id))


@router.get("/kpi", response_model=kpis.KpiReport)
def get_kpis(
    session: SessionDep,
    actor: ActorDep,
    as_of: AsOf = None,
    group_by: Annotated[
        kpis.GroupBy | None,
        Query(
            description="branch (the subtrees below `branch_id` or your branch), market, "
            "category (the merchant's) or staff (responsible staff member); none: totals only."
        ),
    ] = None,
    weeks: Annotated[
        int, Query(ge=1, le=kpis.MAX_WEEKS, description="Weekly points ending at as_of.")
    ] = 1,
    branch_id: Annotated[int | None, Query(description="Only this branch's subtree.")] = None,
) -> kpis.KpiReport:
    """动户率 (active rate: active and declining / deployed), 使用率 (usage rate: successful
    financial transactions per deployed terminal per day over the last 30 days), counts by
    status and activations (idle, dormant or never used a week before, active now), for your
    subtree, grouped, with a point per week when `weeks` > 1."""
    return kpis.kpis(
        session, actor, as_of=as_of, group_by=group_by, weeks=weeks, branch_id=branch_id
    )


@router.post("/scores/run", response_model=ScoreSummary)
def run_scoring(
    session: SessionDep,
    actor: ActorDep,
    as_of: Annotated[
        date | None, Query(description="As-of date to score; today (Asia/Shanghai) if omitted.")
    ] = None,
) -> ScoreSummary:
    """Scores every deployed terminal as of a date (from the rollups of the days before it) and
    replaces that date's scores; branch operations and admins. The nightly job does the same."""
    actor.require(Permission.import_data)
    return scoring.score(session, as_of=as_of or scoring.today_local())
