"""Records of each kind as rows of the import columns, so that an export imports unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from fleet.auth.models import User
from fleet.core.access import Actor
from fleet.imports.values import local_text
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Market, Merchant, Placement, Terminal

Record = dict[str, Any]


def _all(
    session: Session,
    actor: Actor,
    model: Any,
    key: str,
    *,
    scope: str = "branch_id",
    unowned: bool = False,
) -> list[Any]:
    """Every row of `model` the actor can see, ordered by its natural key."""
    stmt = select(model)
    if actor.branch_ids is not None:
        column = getattr(model, scope)
        condition = column.in_(actor.branch_ids)
        stmt = stmt.where(condition | column.is_(None) if unowned else condition)
    return list(session.execute(stmt.order_by(getattr(model, key))).scalars())


def _point(obj: Any) -> Record:
    located = obj.lat is not None and obj.lng is not None
    return {"lat": obj.lat, "lng": obj.lng, "coord_system": "wgs84" if located else None}


def branches(session: Session, actor: Actor) -> list[Record]:
    """Parents before children (then by code), so the file imports into an empty database."""
    rows = _all(session, actor, Branch, "code", scope="id")
    parents = inventory.codes(session, Branch, {b.parent_id for b in rows})
    by_id = {b.id: b for b in rows}

    def depth(branch: Branch) -> int:
        level, seen = 0, set()
        while branch.parent_id in by_id and branch.parent_id not in seen:
            seen.add(branch.parent_id)
            branch, level = by_id[branch.parent_id], level + 1
        return level

    return [
        {
            "code": b.code,
            "name": b.name,
            "level": b.level.value,
            "parent_code": parents.get(b.parent_id or 0),
            "address": b.address,
            **_point(b),
        }
        for b in sorted(rows, key=lambda b: (depth(b), b.code))
    ]


def staff(session: Session, actor: Actor) -> list[Record]:
    """Users without passwords: the password column is for new users only."""
    rows = _all(session, actor, User, "username")
    branch_codes = inventory.codes(session, Branch, {u.branch_id for u in rows})
    return [
        {
            "username": u.username,
            "full_name": u.full_name,
            "role": u.role.value,
            "branch_code": branch_codes.get(u.branch_id),
            "phone": u.phone,
            "language": u.language,
        }
        for u in rows
    ]


def markets(session: Session, actor: Actor) -> list[Record]:
    rows = _all(session, actor, Market, "code", unowned=True)
    branch_codes = inventory.codes(session, Branch, {m.branch_id for m in rows})
    return [
        {
            "code": m.code,
            "name": m.name,
            "category": m.category.value,
            **_point(m),
            "radius_m": m.radius_m,
            "polygon": json.dumps(m.polygon, separators=(",", ":")) if m.polygon else None,
            "stalls": m.stalls,
            "approximate": m.approximate,
            "address": m.address,
            "branch_code": branch_codes.get(m.branch_id or 0),
        }
        for m in rows
    ]


def merchants(session: Session, actor: Actor) -> list[Record]:
    rows = _all(session, actor, Merchant, "code")
    branch_codes = inventory.codes(session, Branch, {m.branch_id for m in rows})
    market_codes = inventory.codes(session, Market, {m.market_id for m in rows})
    usernames = inventory.codes(session, User, {m.staff_id for m in rows}, "username")
    return [
        {
            "code": m.code,
            "name": m.name,
            "category": m.category,
            "address": m.address,
            **_point(m),
            "opening_hours": m.opening_hours,
            "contact_name": m.contact_name,
            "phone": m.phone,
            "status": m.status.value,
            "branch_code": branch_codes.get(m.branch_id),
            "market_code": market_codes.get(m.market_id or 0),
            "staff_username": usernames.get(m.staff_id or 0),
        }
        for m in rows
    ]


def terminals(session: Session, actor: Actor) -> list[Record]:
    """The current state and merchant, and when the open placement began."""
    rows = _all(session, actor, Terminal, "sn")
    branch_codes = inventory.codes(session, Branch, {t.branch_id for t in rows})
    merchant_codes = inventory.codes(session, Merchant, {t.merchant_id for t in rows})
    open_placements = select(Placement).where(Placement.ended_at.is_(None))  # type: ignore[union-attr]
    open_since = {p.terminal_id: p.started_at for p in session.execute(open_placements).scalars()}
    return [
        {
            "sn": t.sn,
            "model": t.model,
            "branch_code": branch_codes.get(t.branch_id),
            "state": t.state.value,
            "merchant_code": merchant_codes.get(t.merchant_id or 0),
            "deployed_at": local_text(open_since[t.id]) if t.id in open_since else None,
        }
        for t in rows
    ]


# Kinds whose rows hold merchant contacts (phone, contact_name): masked unless asked for.
WITH_CONTACTS = frozenset({"merchants"})
EXPORTERS: dict[str, Callable[[Session, Actor], list[Record]]] = {
    "branches": branches,
    "staff": staff,
    "markets": markets,
    "merchants": merchants,
    "terminals": terminals,
}
