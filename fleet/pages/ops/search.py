"""Terminal and merchant search, and each one's page with its history. Objects outside the
user's subtree answer the 404 page, as in the API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fleet.auth.browser import PageCallerDep
from fleet.auth.models import User
from fleet.auth.names import actor_phrases
from fleet.core.errors import NotFound
from fleet.core.paging import MAX_LIMIT, Page
from fleet.core.requests import SessionDep
from fleet.inventory import contacts, lifecycle, search
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    Branch,
    Market,
    Merchant,
    MerchantPublic,
    MerchantStatus,
    TerminalState,
)
from fleet.pages.charts import Series, line_chart
from fleet.pages.names import Names
from fleet.pages.ops.common import (
    PAGE_SIZE,
    offset_of,
    page_url,
    render_ops,
    require_ops,
    word,
)
from fleet.pages.render import texts_of
from fleet.recovery import history as recovery_history
from fleet.recovery import service as recovery
from fleet.scoring import service as scoring
from fleet.visits import history as visit_history
from fleet.visits.present import visits_public

router = APIRouter(include_in_schema=False)
KINDS = ("terminals", "merchants")


@router.get("/search")
def search_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    t = texts_of(request, caller)
    query = request.query_params
    kind = query.get("kind") if query.get("kind") in KINDS else "terminals"
    q = (query.get("q") or "").strip()
    status = query.get("status") or ""
    market_code = query.get("market") or ""
    offset = offset_of(query.get("offset"))
    # The picker holds at most MAX_LIMIT markets; a cut picker says so, and any market's
    # code filters all the same (typed, or from a link).
    markets, market_total = inventory.list_markets(
        session, caller.actor, sort="code", limit=MAX_LIMIT
    )
    market_page = Page[Market](items=markets, total=market_total, limit=MAX_LIMIT, offset=0)
    allowed = {m.value for m in (TerminalState if kind == "terminals" else MerchantStatus)}
    errors: dict[str, str] = {}
    if status and status not in allowed:
        errors["status"] = t.gettext("Choose a status from the list.")
    market = next((m for m in markets if m.code == market_code), None)
    if market_code and market is None:
        try:
            market = inventory.market_by_code(session, caller.actor, market_code)
        except NotFound:
            errors["market"] = (
                t.gettext("No market with this code.")
                if market_page.is_cut
                else t.gettext("Choose a market from the list.")
            )
        else:
            markets = [*markets, market]
    results: list[Any] = []
    total = 0
    if not errors:
        if kind == "terminals":
            results, total = search.search_terminals(
                session,
                caller.actor,
                q=q or None,
                state=status or None,
                market_id=market.id if market else None,
                limit=PAGE_SIZE,
                offset=offset,
            )
        else:
            results, total = inventory.list_merchants(
                session,
                caller.actor,
                q=q or None,
                status=status or None,
                market_id=market.id if market else None,
                sort="code",
                limit=PAGE_SIZE,
                offset=offset,
            )
    status_kind = "state" if kind == "terminals" else "merchant_status"
    market_names = {m.id: m.name for m in markets}
    if kind == "merchants":  # a merchant's market may be past the picker's first thousand
        for m in results:
            if m.market_id and m.market_id not in market_names:
                market_names[m.market_id] = session.get(Market, m.market_id).name  # type: ignore[union-attr]
    return render_ops(
        request,
        "ops/search.html",
        caller,
        status_code=422 if errors else 200,
        title=t.gettext("Search"),
        kind=kind,
        q=q,
        status=status,
        market_code=market_code,
        errors=errors,
        status_options=[("", t.gettext("Any status"))]
        + [(s, t.gettext(word(status_kind, s))) for s in sorted(allowed)],
        market_options=[("", t.gettext("Any market"))] + [(m.code, m.name) for m in markets],
        market_names=market_names,
        market_page=market_page,
        page=Page[Any](items=results, total=total, limit=PAGE_SIZE, offset=offset),
        base_url=page_url("/ops/search", kind=kind, q=q, status=status, market=market_code),
    )


@router.get("/terminals/{terminal_id}")
def terminal_page(
    request: Request, caller: PageCallerDep, session: SessionDep, terminal_id: int
) -> Response:
    """One unit: where it is, its lifecycle, scores over time, visits, recovery requests."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    terminal = inventory.get_terminal(session, caller.actor, terminal_id)
    merchant = (
        inventory.get_merchant(session, caller.actor, terminal.merchant_id)
        if terminal.merchant_id
        else None
    )
    scores = scoring.terminal_history(session, caller.actor, terminal_id)
    chart = None
    if scores:
        chart = line_chart(
            t.gettext("Transactions in the last 30 days, at each scoring"),
            [t.date(s.as_of, "M/d") for s in scores],
            [Series(t.gettext("Transactions, last 30 days"), [s.count_30 for s in scores])],
        )
    visits = visits_public(
        session, visit_history.terminal_visits(session, caller.actor, terminal_id)
    )
    events = lifecycle.events(session, terminal)
    merchant_ids: set[int | None] = {e.merchant_id for e in events}
    return render_ops(
        request,
        "ops/terminal.html",
        caller,
        title=t.gettext("Terminal {sn}", sn=terminal.sn),
        terminal=terminal,
        branch=session.get(Branch, terminal.branch_id),
        merchant=merchant,
        events=list(reversed(events)),
        actors=actor_phrases(session, {e.actor_name for e in events}),
        event_merchants=inventory.codes(session, Merchant, merchant_ids),
        scores=list(reversed(scores)),
        chart=chart,
        visits=visits,
        requests=recovery.public(
            session, recovery_history.for_terminal(session, caller.actor, terminal_id)
        ),
        names=Names(session),
        all_scores=request.query_params.get("scores") == "all",
    )


@router.get("/merchants/{merchant_id}")
def merchant_page(
    request: Request, caller: PageCallerDep, session: SessionDep, merchant_id: int
) -> Response:
    """One merchant: contact (as the user's role may see it), market, its units."""
    require_ops(request, caller)
    merchant = inventory.get_merchant(session, caller.actor, merchant_id)
    shown = contacts.masked(
        MerchantPublic.model_validate(merchant, from_attributes=True), caller.actor
    )
    terminals, count = inventory.list_terminals(
        session, caller.actor, merchant_id=merchant_id, sort="sn", limit=MAX_LIMIT
    )
    staff = inventory.codes(session, User, {merchant.staff_id}, column="username")
    return render_ops(
        request,
        "ops/merchant.html",
        caller,
        title=merchant.name,
        merchant=shown,
        branch=session.get(Branch, merchant.branch_id),
        market=session.get(Market, merchant.market_id) if merchant.market_id else None,
        staff=staff.get(merchant.staff_id or 0),
        terminals=terminals,
        terminal_count=count,
        names=Names(session),
    )
