"""Pages for marketing: the market ranking with coverage, and each market's page.

The campaign pages (list, planner, campaign report) are in `campaigns`; this
router carries both. Marketing and admins use them; branch operations may read them (as
they may read the API); field staff are refused.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fleet.auth.browser import PageCallerDep
from fleet.core import words
from fleet.core.access import Permission
from fleet.core.i18n import N_
from fleet.core.names import named
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.markets import campaigns, planning, ranking, report
from fleet.markets import coverage as cov
from fleet.pages.charts import Series, line_chart
from fleet.pages.marketing import campaigns as campaign_pages
from fleet.pages.names import Names
from fleet.pages.render import render, texts_of

# Every page under /marketing: this module's and the campaigns' (paths relative to /marketing).
router = APIRouter(prefix="/marketing", include_in_schema=False)
router.include_router(campaign_pages.router)

CATEGORY_LABELS: dict[str, str] = words.MARKET_CATEGORY
CAMPAIGN_STATE_LABELS = {
    "planned": N_("Campaign planned"),
    "running": N_("Campaign running"),
    "recent": N_("Campaigned recently"),
}


def coverage_map_url(branch_code: str | None) -> str:
    return "/maps/coverage" + (f"?{urlencode({'branch': branch_code})}" if branch_code else "")


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text and text.strip().isdigit() else None


@router.get("/markets")
def markets_page(
    request: Request,
    caller: PageCallerDep,
    session: SessionDep,
    category: str | None = None,
    branch: str | None = None,
) -> Response:
    """The ranking: every market of the user's scope by opportunity, with its coverage."""
    actor = caller.actor
    campaign_pages.require_reader(actor)
    chosen = category if category in CATEGORY_LABELS else None
    branch_id = _int_or_none(branch)
    ranked = ranking.rank_markets(
        session, actor, category=cov.parse_category(chosen), branch_id=branch_id
    )
    markets = cov.visible_markets(
        session, actor, category=cov.parse_category(chosen), branch_id=branch_id
    )
    covered = {c.market_id: c for c in cov.coverage(session, actor, markets)}
    # The whole tree: a filter that silently lacked a branch could not say so.
    branches = [b for b, _ in inventory.branch_tree(session, actor)]
    t = texts_of(request, caller)
    return render(
        request,
        "marketing/markets.html",
        caller,
        title=t.gettext("Market ranking"),
        rows=[(r, covered[r.market_id]) for r in ranked],
        as_of=next(iter(covered.values())).as_of if covered else None,
        category=chosen or "",
        branch=str(branch_id or ""),
        categories=[("", t.gettext("All trades"))]
        + [(key, t.gettext(label)) for key, label in CATEGORY_LABELS.items()],
        branches=[("", t.gettext("All branches"))]
        + [(str(b.id), named(b.name, b.code)) for b in branches],
        category_labels=CATEGORY_LABELS,
        campaign_labels=CAMPAIGN_STATE_LABELS,
        can_plan=actor.can(Permission.plan_campaigns),
        map_url=coverage_map_url,
        names=Names(session).know(branches=[r.branch_code for r in ranked]),
    )


@router.get("/markets/{market_id}")
def market_page(
    request: Request, caller: PageCallerDep, session: SessionDep, market_id: int
) -> Response:
    """One market: its figures and trend, its merchants without a unit, its campaigns."""
    actor = caller.actor
    campaign_pages.require_reader(actor)
    market = inventory.get_market(session, actor, market_id)  # 404 outside the scope
    figures = cov.market_coverage(session, actor, market_id)
    ranked = next(
        (r for r in ranking.rank_markets(session, actor) if r.market_id == market_id), None
    )
    found = campaigns.list_campaigns(session, actor, market_id=market_id)
    t = texts_of(request, caller)
    chart = (
        line_chart(
            t.gettext("Active-terminal rate by week"),
            [t.date(p.as_of, "short") for p in figures.trend],
            [Series(t.gettext("Active-terminal rate"), [p.active_rate for p in figures.trend])],
            percent=True,
        )
        if len(figures.trend) > 1
        else None
    )
    return render(
        request,
        "marketing/market.html",
        caller,
        title=market.name,
        market=market,
        figures=figures,
        ranked=ranked,
        chart=chart,
        prospects=planning.market_prospects(session, actor, market),
        campaigns=report.campaigns_public(session, found),
        category_labels=CATEGORY_LABELS,
        campaign_labels=CAMPAIGN_STATE_LABELS,
        phase_labels=campaign_pages.PHASE_LABELS,
        can_plan=actor.can(Permission.plan_campaigns),
        map_url=coverage_map_url(figures.branch_code),
        names=Names(session),
    )
