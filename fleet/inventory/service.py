"""Inventory services: look up, list, create and update branches, markets, merchants, terminals.

Every function takes the acting user and applies their branch scope; writes are audited.
Services flush, never commit: the caller's session_scope() owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlalchemy.sql import Select
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core import audit, phrases
from fleet.core.access import Actor, Permission
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid
from fleet.core.paging import fetch_page
from fleet.inventory import extent, holders, membership
from fleet.inventory.models import (
    Branch,
    BranchCreate,
    BranchUpdate,
    Market,
    MarketCreate,
    MarketUpdate,
    Merchant,
    MerchantCreate,
    MerchantUpdate,
    Terminal,
    TerminalCreate,
    TerminalState,
    TerminalUpdate,
)
from fleet.inventory.scope import subtree_ids, visible

# --- look-ups by id and natural key -----------------------------------------------------------


def get_branch(session: Session, actor: Actor, branch_id: int) -> Branch:
    return visible(actor, session.get(Branch, branch_id), what="branch", key=branch_id)


def branch_by_code(session: Session, actor: Actor, code: str) -> Branch:
    found = session.execute(select(Branch).where(Branch.code == code)).scalar_one_or_none()
    return visible(actor, found, what="branch", key=code)


def get_market(session: Session, actor: Actor, market_id: int) -> Market:
    return visible(actor, session.get(Market, market_id), what="market", key=market_id)


def market_by_code(session: Session, actor: Actor, code: str) -> Market:
    found = session.execute(select(Market).where(Market.code == code)).scalar_one_or_none()
    return visible(actor, found, what="market", key=code)


def get_merchant(session: Session, actor: Actor, merchant_id: int) -> Merchant:
    return visible(actor, session.get(Merchant, merchant_id), what="merchant", key=merchant_id)


def merchant_by_code(session: Session, actor: Actor, code: str) -> Merchant:
    found = session.execute(select(Merchant).where(Merchant.code == code)).scalar_one_or_none()
    return visible(actor, found, what="merchant", key=code)


def get_terminal(session: Session, actor: Actor, terminal_id: int) -> Terminal:
    return visible(actor, session.get(Terminal, terminal_id), what="terminal", key=terminal_id)


def terminal_by_sn(session: Session, actor: Actor, sn: str) -> Terminal:
    found = session.execute(select(Terminal).where(Terminal.sn == sn)).scalar_one_or_none()
    return visible(actor, found, what="terminal", key=sn)


def staff_by_username(session: Session, actor: Actor, username: str) -> User:
    found = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    return visible(actor, found, what="user", key=username)


def codes(
    session: Session, model: Any, ids: set[int | None], column: str = "code"
) -> dict[int, str]:
    """{id: natural key} for the given ids, in one query (for API and export views)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    key = getattr(model, column)
    return {i: c for i, c in session.execute(select(model.id, key).where(model.id.in_(wanted)))}


# --- lists ------------------------------------------------------------------------------------


def _scoped(
    stmt: Select[Any], actor: Actor, column: Any, *, allow_null: bool = False
) -> Select[Any]:
    if actor.branch_ids is None:
        return stmt
    condition = column.in_(actor.branch_ids)
    return stmt.where(or_(condition, column.is_(None)) if allow_null else condition)


def _search(stmt: Select[Any], q: str | None, *columns: Any) -> Select[Any]:
    if not q:
        return stmt
    pattern = f"%{q.strip()}%"
    return stmt.where(or_(*(c.ilike(pattern) for c in columns)))


def list_branches(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    parent_id: int | None = None,
    level: str | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Branch], int]:
    stmt = _search(_scoped(select(Branch), actor, Branch.id), q, Branch.code, Branch.name)
    if parent_id is not None:
        stmt = stmt.where(col(Branch.parent_id) == parent_id)
    if level:
        stmt = stmt.where(col(Branch.level) == level)
    return fetch_page(
        session,
        stmt,
        model=Branch,
        sort=sort,
        sortable={"code", "name", "level"},
        limit=limit,
        offset=offset,
    )


def list_markets(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    category: str | None = None,
    branch_id: int | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Market], int]:
    stmt = _scoped(select(Market), actor, Market.branch_id, allow_null=True)
    stmt = _search(stmt, q, Market.code, Market.name)
    if category:
        stmt = stmt.where(col(Market.category) == category)
    if branch_id is not None:
        stmt = stmt.where(col(Market.branch_id) == branch_id)
    return fetch_page(
        session,
        stmt,
        model=Market,
        sort=sort,
        sortable={"code", "name", "category", "stalls"},
        limit=limit,
        offset=offset,
    )


def list_merchants(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    category: str | None = None,
    status: str | None = None,
    branch_id: int | None = None,
    market_id: int | None = None,
    staff_id: int | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Merchant], int]:
    stmt = _scoped(select(Merchant), actor, Merchant.branch_id)
    stmt = _search(stmt, q, Merchant.code, Merchant.name, Merchant.address)
    for column, value in (
        (Merchant.category, category),
        (Merchant.status, status),
        (Merchant.branch_id, branch_id),
        (Merchant.market_id, market_id),
        (Merchant.staff_id, staff_id),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    return fetch_page(
        session,
        stmt,
        model=Merchant,
        sort=sort,
        sortable={"code", "name", "category", "status", "updated_at"},
        limit=limit,
        offset=offset,
    )


def list_terminals(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    state: str | None = None,
    branch_id: int | None = None,
    merchant_id: int | None = None,
    model: str | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[Terminal], int]:
    stmt = _scoped(select(Terminal), actor, Terminal.branch_id)
    stmt = _search(stmt, q, Terminal.sn)
    for column, value in (
        (Terminal.state, state),
        (Terminal.branch_id, branch_id),
        (Terminal.merchant_id, merchant_id),
        (Terminal.model, model),
    ):
        if value is not None:
            stmt = stmt.where(col(column) == value)
    return fetch_page(
        session,
        stmt,
        model=Terminal,
        sort=sort,
        sortable={"sn", "state", "model", "state_since", "updated_at"},
        limit=limit,
        offset=offset,
    )


# --- branches ---------------------------------------------------------------------------------


def branch_tree(session: Session, actor: Actor) -> list[tuple[Branch, int]]:
    """The branches the actor sees, depth first (children by code), each with its depth below
    the top of the actor's scope."""
    stmt = _scoped(select(Branch), actor, Branch.id).order_by(col(Branch.code))
    rows = list(session.execute(stmt).scalars())
    seen = {b.id for b in rows}
    children: dict[int | None, list[Branch]] = {}
    for b in rows:  # a branch whose parent is out of scope heads its own tree
        children.setdefault(b.parent_id if b.parent_id in seen else None, []).append(b)
    ordered: list[tuple[Branch, int]] = []
    stack = [(b, 0) for b in reversed(children.get(None, []))]
    while stack:
        branch, depth = stack.pop()
        ordered.append((branch, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(branch.id, [])))
    return ordered


def _parent_for(session: Session, actor: Actor, parent_code: str | None) -> Branch | None:
    if not parent_code:
        if actor.branch_ids is not None:
            raise Invalid("only an admin may create a top-level branch; give parent_code")
        return None
    return branch_by_code(session, actor, parent_code)


def create_branch(session: Session, actor: Actor, data: BranchCreate) -> Branch:
    actor.require(Permission.write_branches)
    if session.execute(select(Branch.id).where(Branch.code == data.code)).first():
        raise Conflict("branch {code} already exists", code=data.code)
    parent = _parent_for(session, actor, data.parent_code)
    branch = Branch(
        **data.model_dump(exclude={"parent_code"}), parent_id=parent.id if parent else None
    )
    session.add(branch)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="branch",
        entity_id=branch.code,
        branch_id=branch.id,
        changes=data.model_dump(),
    )
    return branch


def update_branch(session: Session, actor: Actor, branch: Branch, data: BranchUpdate) -> Branch:
    actor.require(Permission.write_branches)
    updates = data.model_dump(exclude_unset=True, exclude={"parent_code"})
    if "parent_code" in data.model_fields_set:
        parent = _parent_for(session, actor, data.parent_code)
        if parent is not None and parent.id in subtree_ids(session, branch.id or 0):
            raise Invalid("branch {code} cannot sit below itself", code=branch.code)
        updates["parent_id"] = parent.id if parent else None
    _apply(session, actor, branch, updates, entity="branch", key=branch.code, branch_id=branch.id)
    return branch


def _apply(
    session: Session,
    actor: Actor,
    obj: Any,
    updates: dict[str, Any],
    *,
    entity: str,
    key: str,
    branch_id: int | None,
) -> dict[str, Any]:
    return audit.apply_update(
        session, actor=actor, obj=obj, updates=updates, entity=entity, key=key, branch_id=branch_id
    )


# --- markets ----------------------------------------------------------------------------------


def _check_extent(
    lat: float | None, lng: float | None, radius_m: float | None, polygon: list[list[float]] | None
) -> None:
    if polygon is not None:
        extent.check_polygon(polygon)
    elif lat is None or lng is None:
        raise Invalid("a market needs a location: lat and lng (with radius_m) or a polygon")


def create_market(session: Session, actor: Actor, data: MarketCreate) -> Market:
    actor.require(Permission.write_markets)
    if session.execute(select(Market.id).where(Market.code == data.code)).first():
        raise Conflict("market {code} already exists", code=data.code)
    _check_extent(data.lat, data.lng, data.radius_m, data.polygon)
    branch = branch_by_code(session, actor, data.branch_code) if data.branch_code else None
    market = Market(
        **data.model_dump(exclude={"branch_code"}), branch_id=branch.id if branch else None
    )
    session.add(market)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="market",
        entity_id=market.code,
        branch_id=market.branch_id,
        changes=data.model_dump(),
    )
    # Merchants already inside the new extent belong to it.
    membership.reassign_members(session, actor, market)
    return market


def update_market(session: Session, actor: Actor, market: Market, data: MarketUpdate) -> Market:
    actor.require(Permission.write_markets)
    updates = data.model_dump(exclude_unset=True, exclude={"branch_code"})
    if "branch_code" in data.model_fields_set:
        branch = branch_by_code(session, actor, data.branch_code) if data.branch_code else None
        updates["branch_id"] = branch.id if branch else None
    merged = {**market.model_dump(), **updates}
    _check_extent(merged["lat"], merged["lng"], merged["radius_m"], merged["polygon"])
    previous = membership.Extent.of(market)
    changed = _apply(
        session,
        actor,
        market,
        updates,
        entity="market",
        key=market.code,
        branch_id=market.branch_id,
    )
    if changed.keys() & membership.EXTENT_FIELDS:
        # A moved or resized extent takes in merchants now inside it and lets go of the rest.
        membership.reassign_members(session, actor, market, previous=previous)
    return market


def market_at(session: Session, lat: float | None, lng: float | None) -> Market | None:
    """The market whose extent holds the point (the smallest, where extents overlap)."""
    if lat is None or lng is None:
        return None
    holding = [m for m in session.execute(select(Market)).scalars() if extent.contains(m, lat, lng)]
    return min(holding, key=extent.area_m2, default=None)


# --- merchants --------------------------------------------------------------------------------


def _merchant_links(
    session: Session,
    actor: Actor,
    data: MerchantCreate | MerchantUpdate,
    lat: float | None,
    lng: float | None,
) -> dict[str, Any]:
    """branch_id, market_id and staff_id from the codes given; the market from the location."""
    links: dict[str, Any] = {}
    fields = data.model_fields_set
    if "branch_code" in fields and data.branch_code:
        links["branch_id"] = branch_by_code(session, actor, data.branch_code).id
    if "staff_username" in fields:
        links["staff_id"] = (
            staff_by_username(session, actor, data.staff_username).id
            if data.staff_username
            else None
        )
    if "market_code" in fields and data.market_code:
        links["market_id"] = market_by_code(session, actor, data.market_code).id
    elif "lat" in fields or "lng" in fields or "market_code" in fields:
        found = market_at(session, lat, lng)
        links["market_id"] = found.id if found else None
    return links


def create_merchant(session: Session, actor: Actor, data: MerchantCreate) -> Merchant:
    actor.require(Permission.write_inventory)
    if session.execute(select(Merchant.id).where(Merchant.code == data.code)).first():
        raise Conflict("merchant {code} already exists", code=data.code)
    links = _merchant_links(session, actor, data, data.lat, data.lng)
    fields = data.model_dump(exclude={"branch_code", "market_code", "staff_username"})
    merchant = Merchant(**fields, **links)
    session.add(merchant)
    session.flush()
    assert merchant.id is not None
    holders.record_change(session, merchant.id, merchant.staff_id, holders.SINCE_EVER)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="merchant",
        entity_id=merchant.code,
        branch_id=merchant.branch_id,
        changes=data.model_dump(),
    )
    return merchant


def update_merchant(
    session: Session, actor: Actor, merchant: Merchant, data: MerchantUpdate
) -> Merchant:
    actor.require(Permission.write_inventory)
    updates = data.model_dump(
        exclude_unset=True, exclude={"branch_code", "market_code", "staff_username"}
    )
    lat, lng = updates.get("lat", merchant.lat), updates.get("lng", merchant.lng)
    updates.update(_merchant_links(session, actor, data, lat, lng))
    held_by = merchant.staff_id
    _apply(
        session,
        actor,
        merchant,
        updates,
        entity="merchant",
        key=merchant.code,
        branch_id=merchant.branch_id,
    )
    if merchant.staff_id != held_by:  # the portfolio moved: pay counts days held
        assert merchant.id is not None
        holders.record_change(session, merchant.id, merchant.staff_id, holders.local_day(utcnow()))
    return merchant


# --- terminals --------------------------------------------------------------------------------


def create_terminal(session: Session, actor: Actor, data: TerminalCreate) -> Terminal:
    """A new unit in stock, or deployed at `merchant_code` from `deployed_at` (two events)."""
    from fleet.inventory import lifecycle  # lifecycle builds on this module

    actor.require(Permission.write_inventory)
    if session.execute(select(Terminal.id).where(Terminal.sn == data.sn)).first():
        raise Conflict("terminal {sn} already exists", sn=data.sn)
    branch = branch_by_code(session, actor, data.branch_code)
    if data.deployed_at and not data.merchant_code:
        raise Invalid("deployed_at needs merchant_code")
    since: datetime = data.deployed_at or utcnow()
    terminal = Terminal(
        sn=data.sn,
        model=data.model,
        branch_id=branch.id or 0,
        state=TerminalState.in_stock,
        state_since=since,
        created_at=since,
    )
    session.add(terminal)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="terminal",
        entity_id=terminal.sn,
        branch_id=terminal.branch_id,
        changes=data.model_dump(),
    )
    lifecycle.record_event(
        session,
        actor,
        terminal,
        None,
        TerminalState.in_stock,
        reason=phrases.phrase("registered"),
        at=since,
    )
    if data.merchant_code:
        lifecycle.transition(
            session,
            actor,
            terminal,
            TerminalState.deployed,
            merchant_code=data.merchant_code,
            reason=phrases.phrase("registered_deployed"),
            at=since,
        )
    return terminal


def update_terminal(
    session: Session, actor: Actor, terminal: Terminal, data: TerminalUpdate
) -> Terminal:
    actor.require(Permission.write_inventory)
    updates = data.model_dump(exclude_unset=True, exclude={"branch_code"})
    if data.branch_code:
        updates["branch_id"] = branch_by_code(session, actor, data.branch_code).id
    _apply(
        session,
        actor,
        terminal,
        updates,
        entity="terminal",
        key=terminal.sn,
        branch_id=terminal.branch_id,
    )
    return terminal


def get_or_none(session: Session, model: Any, **where: Any) -> Any:
    """The one row of `model` matching `where`, or None; no scope applied (internal use)."""
    stmt = select(model)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.execute(stmt).scalar_one_or_none()


def branch_names(session: Session, branch_codes: Iterable[str | None]) -> dict[str, str]:
    """{code: name} of the given branches, in one query (names lead on every list:
    `core.names`)."""
    wanted = {c for c in branch_codes if c}
    if not wanted:
        return {}
    stmt = select(Branch.code, Branch.name).where(col(Branch.code).in_(wanted))
    return {code: name for code, name in session.execute(stmt)}
