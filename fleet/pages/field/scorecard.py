"""A staff member's own 五提升 scorecard on the phone: points and rank among peers, the
activation cohort (and whether a small one is scored by the Wilson bound), 动户率, 使用率,
the imported rates, and the idle units whose waking would move the card."""

from __future__ import annotations

from typing import Annotated

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


@router.get("/scorecard")
def my_scorecard(
    request: Request,
    caller: PageCallerDep,
    session: SessionDep,
    period: Annotated[str | None, Query()] = None,
) -> Response:
    t = texts_of(request, caller)
    text = period or f"{today_local():%Y-%m}"
    error: str | None = None
    try:
        chosen = periods.parse(text)
    except Invalid as exc:
        chosen, error = periods.parse(f"{today_local():%Y-%m}"), t.error(exc)
    card = my_card(session, caller.actor, period=chosen)
    return render(
        request,
        "field/scorecard.html",
        caller,
        title=t.gettext("My scorecard"),
        card=card,
        period=chosen,
        error=error,
        measure_names=MEASURE_NAMES,
    )
