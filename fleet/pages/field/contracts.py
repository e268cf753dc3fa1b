"""A staff member's own contracts (承包) on the phone: the terms, and how far along they are
(units, 动户率, attainment against the threshold), without money: amounts are for roles that
may see pay."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fleet.auth.browser import PageCallerDep
from fleet.core.requests import SessionDep
from fleet.core.words import word
from fleet.pages.render import render, texts_of
from fleet.pay import contracts

router = APIRouter(include_in_schema=False)


@router.get("/contracts")
def my_contracts(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    t = texts_of(request, caller)
    held = contracts.list_contracts(session, caller.actor, mine=True)
    rows = [
        (
            contracts.public(session, caller.actor, c, t.comma),
            contracts.progress(session, caller.actor, c.id or 0),
        )
        for c in held
    ]
    return render(
        request,
        "field/contracts.html",
        caller,
        title=t.gettext("My contracts"),
        rows=rows,
        say=lambda kind, value: t.gettext(word(kind, value)),
    )
