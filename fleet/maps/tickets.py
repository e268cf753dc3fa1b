"""The coverage map's fault-ticket layer: each live ticket at its shop, coloured by its SLA
clock (late, due soon, on time, paused), for those who may see tickets, in their scope."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from fleet.aftersales import present, service
from fleet.aftersales.models import TicketState
from fleet.core.access import Actor, Permission
from fleet.core.i18n import texts_for
from fleet.core.words import TICKET
from fleet.inventory.models import Merchant
from fleet.maps import data, labels, layers
from fleet.maps.labels import Lang

SLA_COLORS = {
    "late": "#d62728",
    "soon": "#f0a202",
    "ok": "#2ca02c",
    "paused": "#7f7f7f",
    "done": "#7f7f7f",
}


def ticket_items(
    session: Session,
    actor: Actor,
    scope: data.Scope,
    lang: Lang,
    shift: layers.Shift,
    bounds: layers.Bounds,
) -> list[dict[str, Any]]:
    """Live tickets (suspicions left out) at shops with a location, with their SLA colour."""
    if not actor.can(Permission.read_tickets):
        return []
    branch_id = scope.branch.id if scope.branch is not None else None
    found = service.list_tickets(session, actor, branch_id=branch_id, live_only=True)
    found = [x for x in found if x.state is not TicketState.suspected]
    shown = present.public(session, found)
    ids = {x.merchant_id for x in shown if x.merchant_id is not None}
    places = {
        m.id: m
        for m in session.execute(select(Merchant).where(col(Merchant.id).in_(ids))).scalars()
    }
    t, text = texts_for(lang), labels.TEXT[lang]
    items = []
    for x in shown:
        shop = places.get(x.merchant_id)
        if shop is None or shop.lat is None or shop.lng is None:
            continue
        y, x_ = shift(shop.lat, shop.lng)
        bounds.add(y, x_)
        sla = present.sla_state(x)
        if sla == "paused":
            left = text["clock_paused"]
        elif x.hours_left is None:
            left = ""
        elif x.hours_left < 0:
            left = text["hours_late"].format(h=f"{-x.hours_left:.1f}")
        else:
            left = text["hours_left"].format(h=f"{x.hours_left:.1f}")
        items.append(
            {
                "id": x.id,
                "lat": y,
                "lng": x_,
                "sla": sla,
                "color": SLA_COLORS[sla],
                "shop": shop.name,
                "sn": x.sn,
                "symptom": t.gettext(present.SYMPTOM[x.symptom]),
                "state": t.gettext(TICKET[x.state.value]),
                "left": left,
            }
        )
    return items
