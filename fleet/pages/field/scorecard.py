"""A staff member's own 五提升 scorecard on the phone: points and rank among peers, the
activation cohort (and whether a small one is scored by the Wilson bound), 动户率, 使用率,
the imported rates, and the idle units whose waking would move the card."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from fleet.auth.browser import PageCallerDep
from fleet.core.errors import Invalid
from fleet.core.requests import SessionDep
from fleet.pages.render import render, texts_of
from fleet.pay import periods
from fleet.pay.scorecard import my_card
from fleet.pay.sheet import MEASURE_NAMES
from fleet.scoring.service import today_local

router = APIRouter(include_in_schema=False)
# The idle units listed under "what would move it" before "显示 20 / 共 N" and a link to all.
SLEEPING_SHOWN = 20


@router.get("/scorecard")
def my_scorecard(
    request: Request,
    caller: PageCallerDep,
    session: SessionDep,
    period: Annotated[str | None, Query()] = None,
    sleeping: Annotated[str | None, Query()] = None,
) -> Response:
    t = texts_of(request, caller)
    error: str | None = None
    try:
        chosen = periods.parse(period) if period else periods.this_month(today_local())
    except Invalid as exc:
        chosen, error = periods.this_month(today_local()), t.error(exc)
    card = my_card(session, caller.actor, period=chosen)
    listed = card.sleeping if sleeping == "all" else card.sleeping[:SLEEPING_SHOWN]
    return render(
        request,
        "field/scorecard.html",
        caller,
        title=t.gettext("My scorecard"),
        card=card,
        period=chosen,
        listed=listed,
        all_url="?" + urlencode({"period": chosen.text, "sleeping": "all"}) + "#move-it",
        error=error,
        measure_names=MEASURE_NAMES,
    )
