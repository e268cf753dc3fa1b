"""What a map shows, read in the caller's branch scope: one query per layer, plain rows.

Scope is the inventory rule: `branch_ids` None sees every branch, else only those branches;
markets without a branch are visible to all. Nothing here builds ORM objects per row, so a
city of 100,000 terminals reads in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
    type_coerce,
)
from sqlmodel import Session, col

from fleet.core.access import Actor, Permission
from fleet.inventory import service as inventory
from fleet.inventory.models import AT_MERCHANT, Branch, Market, Merchant, MerchantStatus, Terminal
from fleet.inventory.scope import subtree_ids
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.scoring.rules import ACTIVE

_AT_MERCHANT = sorted(s.value for s in AT_MERCHANT)
_ACTIVE = sorted(s.value for s in ACTIVE)


@dataclass(frozen=True)
class Scope:
    """The branches a map covers, and the branch asked for (None: the caller's whole scope)."""

    branch_ids: frozenset[int] | None
    branch: Branch | None = None


def resolve_scope(session: Session, actor: Actor, branch_code: str | None) -> Scope:
    """The caller's scope, narrowed to `branch_code`'s subtree; 404 outside the caller's scope."""
    actor.require(Permission.read_inventory)
    if not branch_code:
        return Scope(actor.branch_ids)
    branch = inventory.branch_by_code(session, actor, branch_code)
    below = subtree_ids(session, branch.id or 0)
    return Scope(below if actor.branch_ids is None else below & actor.branch_ids, branch)


def _within(column: Any, scope: Scope, *, allow_null: bool = False) -> ColumnElement[bool]:
    if scope.branch_ids is None:
        return true()
    inside = col(column).in_(scope.branch_ids)
    return or_(inside, col(column).is_(None)) if allow_null else inside


def _score_join(as_of: date | None) -> ColumnElement[bool]:
    if as_of is None:
        return false()
    return and_(
        col(TerminalScore.terminal_id) == col(Terminal.id), col(TerminalScore.as_of) == as_of
    )


def latest_as_of(session: Session) -> date | None:
    """The scored date maps show: the newest one."""
    return scoring.latest_as_of(session)


def terminals(session: Session, scope: Scope, as_of: date | None) -> list[Any]:
    """Every unit at a merchant in scope, with its merchant and its status as of `as_of`.

    Rows: id, sn, state, branch_id, merchant name, phone, lat, lng, status, days_since_use,
    count_30; state and status as text (status and the rest are None for a unit not scored
    on that date).
    """
    stmt = (
        select(
            col(Terminal.id),
            col(Terminal.sn),
            # Plain text, not enums: 100,000 enum conversions are a third of the query's time.
            type_coerce(col(Terminal.state), String),
            col(Terminal.branch_id),
            col(Merchant.name),
            col(Merchant.phone),
            col(Merchant.lat),
            col(Merchant.lng),
            type_coerce(col(TerminalScore.status), String),
            col(TerminalScore.days_since_use),
            col(TerminalScore.count_30),
        )
        .join(Merchant, col(Merchant.id) == col(Terminal.merchant_id))
        .outerjoin(TerminalScore, _score_join(as_of))
        .where(col(Terminal.state).in_(_AT_MERCHANT), _within(Terminal.branch_id, scope))
        .order_by(col(Terminal.id))
    )
    # Core rows straight from the connection: the ORM layer adds nothing to plain columns.
    return list(session.connection().execute(stmt).all())


def markets(session: Session, scope: Scope) -> list[Any]:
    """Markets in scope with their extent: id, code, name, category, lat, lng, radius_m,
    polygon, stalls, approximate."""
    stmt = (
        select(
            col(Market.id),
            col(Market.code),
            col(Market.name),
            col(Market.category),
            col(Market.lat),
            col(Market.lng),
            col(Market.radius_m),
            col(Market.polygon),
            col(Market.stalls),
            col(Market.approximate),
        )
        .where(_within(Market.branch_id, scope, allow_null=True))
        .order_by(col(Market.code))
    )
    return list(session.execute(stmt).all())


def market_coverage(
    session: Session, scope: Scope, as_of: date | None
) -> dict[int, tuple[int, int, int, int]]:
    """{market id: (open merchants, of them with a terminal, terminals at merchants, active)}
    over the merchants and terminals in scope."""
    active = case((col(TerminalScore.status).in_(_ACTIVE), 1), else_=0)
    per_merchant = (
        select(
            col(Terminal.merchant_id).label("merchant_id"),
            func.count(col(Terminal.id)).label("deployed"),
            func.sum(active).label("active"),
        )
        .outerjoin(TerminalScore, _score_join(as_of))
        .where(col(Terminal.state).in_(_AT_MERCHANT), _within(Terminal.branch_id, scope))
        .group_by(col(Terminal.merchant_id))
        .subquery()
    )
    is_open = col(Merchant.status) == MerchantStatus.open
    stmt = (
        select(
            col(Merchant.market_id),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, per_merchant.c.deployed > 0), 1), else_=0)),
            func.coalesce(func.sum(per_merchant.c.deployed), 0),
            func.coalesce(func.sum(per_merchant.c.active), 0),
        )
        .outerjoin(per_merchant, per_merchant.c.merchant_id == col(Merchant.id))
        .where(col(Merchant.market_id).is_not(None), _within(Merchant.branch_id, scope))
        .group_by(col(Merchant.market_id))
    )
    return {
        int(market_id): (int(merchants or 0), int(covered or 0), int(deployed), int(active_n))
        for market_id, merchants, covered, deployed, active_n in session.execute(stmt)
    }


def branches(session: Session, scope: Scope) -> list[Any]:
    """Branches in scope: id, code, name, level, lat, lng, parent_id."""
    stmt = select(
        col(Branch.id),
        col(Branch.code),
        col(Branch.name),
        col(Branch.level),
        col(Branch.lat),
        col(Branch.lng),
        col(Branch.parent_id),
    ).where(_within(Branch.id, scope))
    return list(session.execute(stmt.order_by(col(Branch.code))).all())


def white_spots(session: Session, scope: Scope) -> list[Any]:
    """Open merchants in scope, placed on the map, that have no terminal: id, code, name,
    phone, lat, lng."""
    has_terminal = exists().where(
        col(Terminal.merchant_id) == col(Merchant.id), col(Terminal.state).in_(_AT_MERCHANT)
    )
    stmt = (
        select(
            col(Merchant.id),
            col(Merchant.code),
            col(Merchant.name),
            col(Merchant.phone),
            col(Merchant.lat),
            col(Merchant.lng),
        )
        .where(
            col(Merchant.status) == MerchantStatus.open,
            col(Merchant.lat).is_not(None),
            col(Merchant.lng).is_not(None),
            _within(Merchant.branch_id, scope),
            ~has_terminal,
        )
        .order_by(col(Merchant.id))
    )
    return list(session.execute(stmt).all())
