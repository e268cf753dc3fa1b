"""Map pages (/maps/...), and the static files they load, served by fleet itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from fleet.auth.browser import BrowserCallerDep as CallerDep
from fleet.auth.dependencies import Caller
from fleet.core.http_errors import ERROR_RESPONSES
from fleet.core.memo import memo
from fleet.core.requests import SessionDep
from fleet.maps import assets, campaign, coverage, labels, page, routes
from fleet.maps.labels import Lang

router = APIRouter(prefix="/maps", tags=["maps"])
BranchCode = Annotated[
    str | None,
    Query(description="Branch code: that branch and every branch below it (default: all yours)."),
]
Base = Annotated[
    str | None,
    Query(
        description="Base map preset: osm, amap, amap_satellite, tianditu (with a key), custom "
        "(the bank's tile server). Points are shifted to its datum (AMap: GCJ-02)."
    ),
]
LangQuery = Annotated[Lang | None, Query(description="zh or en; the user's language when omitted.")]


def _language_and_links(
    caller: Caller, lang: Lang | None, query: Mapping[str, str | None]
) -> tuple[Lang, Callable[[str], str]]:
    """The page's language (the user's unless asked), and its links to the same map on
    another base map (the same query, another `base`)."""

    def base_href(key: str) -> str:
        wanted = {"base": key, **query, "lang": lang}
        return "?" + urlencode({k: v for k, v in wanted.items() if v})

    return lang or labels.lang_of(caller.user.language), base_href


@router.get("/coverage", response_class=HTMLResponse)
def coverage_map(
    session: SessionDep,
    caller: CallerDep,
    branch: BranchCode = None,
    base: Base = None,
    lang: LangQuery = None,
) -> HTMLResponse:
    """Coverage map of your branch subtree, as an HTML page.

    Switchable layers: terminals coloured by status (clustered; a popup gives merchant,
    phone, status, last use and the terminal's API link), activity density (hexagons by
    动户率), wholesale markets with their coverage figures, branches with their service
    radius, and white spots (open merchants and markets without a terminal). Needs no
    internet access except for the base map's tiles.
    """
    language, base_href = _language_and_links(caller, lang, {"branch": branch})

    rendered = memo.answer(
        session,
        caller.actor,
        ("coverage_map", branch, base, lang, language),
        lambda: coverage.render(
            session,
            caller.actor,
            branch_code=branch,
            base=base,
            lang=language,
            mode=assets.Mode.served,
            base_href=base_href,
        ),
    )
    return page.response(rendered.html)


@router.get("/routes", response_class=HTMLResponse)
def routes_map(
    session: SessionDep,
    caller: CallerDep,
    branch_code: Annotated[str, Query(description="The planned branch's code.")],
    date: Annotated[dt.date, Query(description="The plan's day (YYYY-MM-DD).")],
    base: Base = None,
    lang: LangQuery = None,
) -> HTMLResponse:
    """Route map of a branch's stored visit plan for a day, as an HTML page.

    One switchable layer per staff member, in its own colour: the home branch where the day
    starts and ends, numbered stops in route order joined by lines, and a popup per stop with
    planned arrival and departure, merchant, phone, terminal, reason and an AMap navigation
    link. Access is the visit plan API's: your subtree (404 outside it); field staff see their
    own route; marketing may not see plans.
    """
    query = {"branch_code": branch_code, "date": date.isoformat()}
    language, base_href = _language_and_links(caller, lang, query)

    rendered = routes.render(
        session,
        caller.actor,
        branch_code=branch_code,
        plan_date=date,
        base=base,
        lang=language,
        mode=assets.Mode.served,
        base_href=base_href,
    )
    return page.response(rendered.html)


@router.get("/campaign/{campaign_id}", response_class=HTMLResponse)
def campaign_map(
    session: SessionDep,
    caller: CallerDep,
    campaign_id: int,
    base: Base = None,
    lang: LangQuery = None,
) -> HTMLResponse:
    """Map of a market campaign, as an HTML page: the market's extent, its prospects coloured
    by outcome (placed, visited, pending, declined), the units placed with their state and
    usage status, and the branches holding the units set aside. 404 outside your subtree.
    """
    language, base_href = _language_and_links(caller, lang, {})

    rendered = campaign.render(
        session,
        caller.actor,
        campaign_id,
        base=base,
        lang=language,
        mode=assets.Mode.served,
        base_href=base_href,
    )
    return page.response(rendered.html)


def install(app: FastAPI) -> None:
    """Adds the map pages and their static files (Leaflet from npm, fleet's own script)."""
    app.include_router(router, responses=ERROR_RESPONSES)
    # check_dir=False: the API still starts where the npm assets are not installed; the map
    # pages then answer 503 with the command that installs them.
    app.mount(
        assets.VENDOR_URL,
        StaticFiles(directory=assets.vendor_dir(), check_dir=False),
        name="map-vendor",
    )
    app.mount(assets.OWN_URL, StaticFiles(directory=assets.OWN_DIR), name="map-static")
