"""The route map of a branch's field day: one switchable layer per staff member, numbered
stops in route order (popup: planned arrival and departure, merchant, phone, terminal, reason,
AMap navigation), lines between them, and the home branch where each day starts and ends.

Access is the visit API's: the caller's subtree, 404 outside it; marketing may not see plans;
field staff see their own route only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from fleet.aftersales import dayplan
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import Settings
from fleet.core.i18n import texts_for
from fleet.maps import assets, labels, layers, page, presets
from fleet.maps.coverage import RenderedMap
from fleet.maps.labels import Lang
from fleet.visits import plan as planning
from fleet.visits import present
from fleet.visits.schemas import PlanPublic

DEFAULT_COLORS = ["#1c7ed6", "#e8590c", "#2f9e44", "#ae3ec9", "#c92a2a", "#0ca678", "#f59f00"]


def readable_plan(session: Session, actor: Actor, branch_code: str, day: date) -> PlanPublic:
    """The stored plan as the visit API shows it to `actor` (field staff: their own route)."""
    actor.require(Permission.read_visits)
    plan = planning.get_plan(session, actor, branch_code=branch_code, plan_date=day)
    mine = actor.user_id if actor.role is Role.field else None
    return present.plan_public(session, plan, staff_id=mine)


def _hm(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%H:%M")


def routes_payload(
    plan: PlanPublic,
    *,
    base: presets.BaseMap,
    lang: Lang,
    colors: list[str],
    service: bool = False,
) -> dict[str, Any]:
    """Each route with its stops in order, shifted to `base`'s datum; titled as a service day's
    map with `service`, else as a revisit day's."""
    shift = layers.shifter(base.datum)
    bounds = layers.Bounds()
    routes = []
    for n, route in enumerate(plan.routes):
        home = None
        if route.home_lat is not None and route.home_lng is not None:
            y, x = shift(route.home_lat, route.home_lng)
            bounds.add(y, x)
            home = {"lat": y, "lng": x, "code": route.home_branch_code}
        stops, unplaced = [], 0
        for stop in route.stops:
            if stop.lat is None or stop.lng is None:
                unplaced += 1
                continue
            y, x = shift(stop.lat, stop.lng)
            bounds.add(y, x)
            stops.append(
                {
                    "seq": stop.seq,
                    "lat": y,
                    "lng": x,
                    "code": stop.merchant_code,
                    "name": stop.merchant_name,
                    "address": stop.address,
                    "phone": stop.phone,
                    "sn": stop.sn,
                    "kind": stop.kind.value,
                    "status": stop.status.value,
                    "arrival": _hm(stop.arrival),
                    "departure": _hm(stop.departure),
                    "reason": texts_for(lang).phrase(stop.why),
                    "nav": stop.nav_amap,
                }
            )
        routes.append(
            {
                "staff_id": route.staff_id,
                "username": route.username,
                "name": route.full_name or route.username,
                "color": colors[n % len(colors)],
                "home": home,
                "depart": _hm(route.depart),
                "back": _hm(route.back),
                "distance_km": route.distance_km,
                "stops": stops,
                "unplaced": unplaced,
            }
        )
    text = labels.TEXT[lang]
    title = "service_routes_title" if service else "routes_title"
    return {
        "kind": "routes",
        "lang": lang,
        "title": f"{text[title]} · {plan.branch_name} · {plan.date.isoformat()}",
        "date": plan.date.isoformat(),
        "branch": plan.branch_code,
        "datum": base.datum.value,
        "text": text,
        "routes": routes,
        "bounds": bounds.corners(),
        "max_zoom": base.max_zoom,
        "bases": [],
    }


def back_link(actor: Actor, day: date, lang: Lang) -> dict[str, str]:
    """The way back from a served route map to the page it was opened from: field staff to
    today's visits, branch operations to the day's plans."""
    text = labels.TEXT[lang]
    if actor.role is Role.field:
        return {"href": "/field/today", "label": text["back_field"]}
    return {"href": f"/ops/plans?date={day.isoformat()}", "label": text["back_plans"]}


def render(
    session: Session,
    actor: Actor,
    *,
    branch_code: str,
    plan_date: date,
    base: str | None = None,
    lang: Lang = "zh",
    mode: assets.Mode = assets.Mode.served,
    base_href: Callable[[str], str] | None = None,
    settings: Settings | None = None,
    service: bool = False,
) -> RenderedMap:
    """The route map page of a branch's stored plan for `plan_date`: its field day, or with
    `service` its service day (aftersales.dayplan, operations only), drawn alike."""
    start = page.MapPage.start(
        base=base, lang=lang, mode=mode, base_href=base_href, settings=settings
    )
    if service:
        stored = dayplan.get_plan(session, actor, branch_code=branch_code, plan_date=plan_date)
        actor.require(Permission.dispatch_tickets)
        plan = dayplan.plan_public(session, stored)
    else:
        plan = readable_plan(session, actor, branch_code, plan_date)
    colors = list(start.style.layers.get("route_colors", DEFAULT_COLORS)) or DEFAULT_COLORS
    payload = routes_payload(plan, base=start.chosen, lang=lang, colors=colors, service=service)
    if mode is assets.Mode.served:
        payload["back"] = back_link(actor, plan_date, lang)
    overlays = [
        (f"route:{n}", f"{r['name']} ({len(r['stops'])})", True)
        for n, r in enumerate(payload["routes"])
    ]
    html = start.html(payload, overlays)
    counts = {
        "routes": len(payload["routes"]),
        "stops": sum(len(r["stops"]) for r in payload["routes"]),
        "unplaced": sum(r["unplaced"] for r in payload["routes"]),
    }
    return RenderedMap(html=html, title=payload["title"], counts=counts)
