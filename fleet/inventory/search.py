"""Finding a unit by what people remember of it: its serial number, or its merchant's name or
code; narrowed by state and market. The actor's branch scope always applies."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from fleet.core.access import Actor, Permission
from fleet.core.paging import fetch_page
from fleet.inventory.models import Merchant, Terminal


def search_terminals(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    state: str | None = None,
    market_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[tuple[Terminal, Merchant | None]], int]:
    """Units whose SN, or whose merchant's name or code, contains `q`, by SN; each with its
    merchant (None in stock)."""
    actor.require(Permission.read_inventory)
    stmt = select(Terminal).outerjoin(Merchant, col(Merchant.id) == col(Terminal.merchant_id))
    if actor.branch_ids is not None:
        stmt = stmt.where(col(Terminal.branch_id).in_(actor.branch_ids))
    if q and q.strip():
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                col(Terminal.sn).ilike(pattern),
                col(Merchant.name).ilike(pattern),
                col(Merchant.code).ilike(pattern),
            )
        )
    if state:
        stmt = stmt.where(col(Terminal.state) == state)
    if market_id is not None:
        stmt = stmt.where(col(Merchant.market_id) == market_id)
    rows, total = fetch_page(
        session, stmt, model=Terminal, sort="sn", sortable={"sn"}, limit=limit, offset=offset
    )
    merchant_ids = {t.merchant_id for t in rows if t.merchant_id is not None}
    merchants = {
        m.id: m
        for m in session.execute(select(Merchant).where(col(Merchant.id).in_(merchant_ids)))
        .scalars()
        .all()
    }
    return [(t, merchants.get(t.merchant_id)) for t in rows], total
