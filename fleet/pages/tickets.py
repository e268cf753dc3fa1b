"""What every page that shows a fault ticket shares (service staff's phone pages, operations'
queue, the merchant's QR page): the words for symptoms and resolutions, the SLA time left in
words and its colour, the shop's navigation and call links, and the restore form read into
the API's request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from fleet.aftersales import present
from fleet.aftersales.models import (
    Resolution,
    RestoreRequest,
    Symptom,
    Ticket,
    TicketPublic,
    TicketState,
)
from fleet.aftersales.present import SYMPTOM, sla_state
from fleet.auth.models import User
from fleet.core import words as core_words
from fleet.core.access import Actor
from fleet.core.i18n import N_, Texts
from fleet.core.words import TICKET
from fleet.inventory import contacts
from fleet.inventory.models import Branch, Merchant
from fleet.visits.present import amap_link, geo_link

RESOLUTION = {r: core_words.RESOLUTION[r.value] for r in Resolution}
SOURCE = {
    "field_visit": N_("Field visit"),
    "phone": N_("Merchant's phone call"),
    "qr": N_("Merchant's QR report"),
    "feed": N_("Transaction feed"),
    "service": N_("Found by service staff"),
}
PRIORITY = {"high": N_("High"), "normal": N_("Normal"), "low": N_("Low")}
PART_ROWS = 3  # part lines on the restore form


def sla_text(t: Texts, ticket: TicketPublic) -> str:
    """The restore deadline's time left, in business hours, in words."""
    if ticket.paused:
        if ticket.hours_left is not None and ticket.hours_left < 0:  # paused once already late
            return t.gettext(
                "Clock paused ({hours} business hours late)", hours=_hours(t, ticket, -1)
            )
        return t.gettext("Clock paused ({hours} business hours left)", hours=_hours(t, ticket))
    if ticket.hours_left is None:
        if ticket.state is TicketState.suspected:
            return t.gettext("No clock until confirmed")
        return t.gettext("Restored") if ticket.restored_at else "–"
    if ticket.hours_left < 0:
        return t.gettext("{hours} business hours late", hours=_hours(t, ticket, -1))
    return t.gettext("{hours} business hours left", hours=_hours(t, ticket))


def _hours(t: Texts, ticket: TicketPublic, sign: int = 1) -> str:
    """The hours left (sign 1) or late (sign -1), to a tenth: lateness rounded up, so a few
    minutes late never reads "0.0 hours late"."""
    hours = sign * (ticket.hours_left or 0.0)
    return t.number(math.ceil(round(hours * 10, 6)) / 10 if sign < 0 else hours, 1)


@dataclass
class Shop:
    """Where the ticket's unit is and how to reach its merchant."""

    name: str
    address: str | None
    contact_name: str | None
    phone: str | None
    tel: str | None
    nav_amap: str | None
    nav_geo: str | None


def tel_link(phone: str | None) -> str | None:
    """tel: URI of a phone number as written (0539-1234567 -> tel:05391234567)."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    return f"tel:{digits}" if digits else None


def shops(session: Session, actor: Actor, tickets: list[TicketPublic]) -> dict[int, Shop]:
    """By ticket id: the merchant's name, address, contact (masked for those who may not see
    it) and navigation links."""
    ids = {t.merchant_id for t in tickets if t.merchant_id is not None}
    found = session.execute(select(Merchant).where(col(Merchant.id).in_(ids))).scalars()
    merchants = {m.id: contacts.masked(m, actor) for m in found}
    out: dict[int, Shop] = {}
    for ticket in tickets:
        m = merchants.get(ticket.merchant_id)
        if m is None:
            continue
        here = (m.lat, m.lng) if m.lat is not None and m.lng is not None else None
        out[ticket.id] = Shop(
            name=m.name,
            address=m.address,
            contact_name=m.contact_name,
            phone=m.phone,
            tel=tel_link(m.phone) if contacts.shown(actor) else None,
            nav_amap=amap_link(*here, m.name) if here else None,
            nav_geo=geo_link(*here, m.name) if here else None,
        )
    return out


def branch_names(session: Session, tickets: list[TicketPublic]) -> dict[int, str]:
    """Branch id → "name (code)": names lead, codes second."""
    ids = {t.branch_id for t in tickets}
    rows = session.execute(select(Branch).where(col(Branch.id).in_(ids))).scalars()
    return {b.id or 0: f"{b.name} ({b.code})" for b in rows}


def staff_names(session: Session, tickets: list[TicketPublic]) -> dict[str, str]:
    """Username → full name, of the assignees and of who moved the tickets (their history);
    pages show the name with the username after it, small (macros.named)."""
    names = {t.assignee for t in tickets if t.assignee}
    names |= {e.actor_name for t in tickets for e in t.history if e.actor_name}
    names |= {t.opened_by_name for t in tickets if t.opened_by_name}
    rows = session.execute(select(User).where(col(User.username).in_(names))).scalars()
    return {u.username: u.full_name for u in rows if u.full_name}


def people(ticket: TicketPublic) -> list[str]:
    """The names a ticket's page shows as people: who opened it, its assignee, its movers."""
    names = [ticket.opened_by_name, ticket.assignee, *(e.actor_name for e in ticket.history)]
    return [n for n in names if n]


def shown(session: Session, tickets: list[Ticket], *, history: bool = False) -> list[TicketPublic]:
    return present.public(session, tickets, with_history=history)


def one_ticket(session: Session, actor: Actor, t: Texts, ticket: Ticket) -> dict[str, Any]:
    """What a ticket's page shows, for ops and service staff alike: the ticket with its history,
    its shop, its branch by name, and the words for its codes."""
    shown_ticket = shown(session, [ticket], history=True)[0]
    return {
        "ticket": shown_ticket,
        "shop": shops(session, actor, [shown_ticket]).get(shown_ticket.id),
        "branch": branch_names(session, [shown_ticket]).get(shown_ticket.branch_id, ""),
        **labels(t),
    }


def labels(t: Texts) -> dict[str, Any]:
    """What the ticket templates need to put codes into words."""
    return {
        "symptom_label": lambda s: t.gettext(SYMPTOM[Symptom(s)]),
        "resolution_label": lambda r: t.gettext(RESOLUTION[Resolution(r)]) if r else "",
        "state_label": lambda s: t.gettext(TICKET.get(str(getattr(s, "value", s)), str(s))),
        "source_label": lambda s: t.gettext(SOURCE.get(str(getattr(s, "value", s)), str(s))),
        "priority_label": lambda p: t.gettext(PRIORITY.get(str(getattr(p, "value", p)), str(p))),
        "breach_label": lambda b: t.gettext(core_words.word("breach", b)),
        "sla_state": sla_state,
        "sla_text": lambda ticket: sla_text(t, ticket),
    }


def symptom_options(t: Texts) -> list[tuple[str, str]]:
    return [(s.value, t.gettext(SYMPTOM[s])) for s in Symptom]


def resolution_options(t: Texts) -> list[tuple[str, str]]:
    choose = [("", t.gettext("Choose…"))]
    return choose + [(r.value, t.gettext(RESOLUTION[r])) for r in Resolution]


def _money(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "").replace("，", "")) if text.strip() else 0.0
    except ValueError:
        return None
    return value if value >= 0 else None


def read_restore_form(
    t: Texts, form: dict[str, str]
) -> tuple[RestoreRequest | None, dict[str, str]]:
    """The restore form as the API's request, or the problems to show next to its fields."""
    errors: dict[str, str] = {}
    resolution = form.get("resolution", "")
    if resolution not in {r.value for r in Resolution}:
        errors["resolution"] = t.gettext("Choose how the fault was dealt with.")
    parts = []
    for n in range(PART_ROWS):
        name = form.get(f"part_name_{n}", "").strip()
        cost_text = form.get(f"part_cost_{n}", "")
        if not name and not cost_text.strip():
            continue
        cost = _money(cost_text)
        if not name or cost is None:
            errors[f"part_{n}"] = t.gettext("Give the part's name and its cost in yuan.")
            continue
        parts.append({"name": name[:100], "cost": cost})
    numbers: dict[str, float] = {}
    for key in ("labour_minutes", "travel_km", "vendor_fee"):
        value = _money(form.get(key, ""))
        if value is None:
            errors[key] = t.gettext("Enter a number, 0 or more.")
        else:
            numbers[key] = value
    spare = form.get("spare_sn", "").strip()
    if resolution == Resolution.swapped.value and not spare:
        errors["spare_sn"] = t.gettext("Choose the spare placed at the shop.")
    note = form.get("note", "").strip()
    if len(note) > 1000:
        errors["note"] = t.gettext("Keep the note under 1000 characters.")
    if errors:
        return None, errors
    try:
        data = RestoreRequest.model_validate(
            {
                "resolution": resolution,
                "note": note,
                "parts": parts,
                "labour_minutes": int(numbers["labour_minutes"]),
                "travel_km": numbers["travel_km"],
                "vendor_fee": numbers["vendor_fee"],
                "spare_sn": spare if resolution == Resolution.swapped.value else None,
            }
        )
    except ValidationError:
        return None, {"_form": t.gettext("Please check your input")}
    return data, {}
