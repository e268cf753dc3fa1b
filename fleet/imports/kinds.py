"""What each import kind is keyed by, which services write it, and what it refers to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlmodel import Session, SQLModel

from fleet.auth import service as auth
from fleet.auth.models import User, UserCreate, UserUpdate
from fleet.core.access import Actor, Permission
from fleet.core.errors import BadValue, Forbidden, NotFound, Reason
from fleet.imports.values import local_text
from fleet.inventory import contacts
from fleet.inventory import service as inventory
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
    Placement,
    Terminal,
    TerminalCreate,
    TerminalState,
    TerminalUpdate,
)
from fleet.inventory.scope import visible

# Stored and imported coordinates closer than this (about 1 cm) are the same point; a file
# rounds to 7 decimals, the API may have stored more.
_SAME_POINT = 1e-7
# Exports keep whole seconds of a placement's start.
_SECOND = timedelta(seconds=1)
LIFECYCLE_HINT = "POST /api/v1/terminals/{id}/transitions"


class RowProblem(Exception):
    """One bad cell (or a bad row, when column is None), found while writing the row."""

    def __init__(self, column: str | None, reason: Reason) -> None:
        super().__init__(str(reason))
        self.column = column
        self.reason = reason


@dataclass
class Row:
    """One data row of a file: its cells, what they parse to, and what is wrong with it."""

    number: int
    cells: list[str]
    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    data: Any = None
    fields: set[str] = field(default_factory=set)
    problems: list[tuple[str | None, Reason]] = field(default_factory=list)


Writer = Callable[[Session, Actor, Row], Any]
Updater = Callable[[Session, Actor, Any, Row], Any]


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    table: type[Any]
    key: str
    create_model: type[SQLModel]
    update_model: type[SQLModel]
    permission: Permission
    read_permission: Permission
    create: Writer
    update: Updater
    # column -> (table, its natural-key attribute, label) for the codes a row refers to
    refs: dict[str, tuple[type[Any], str, str]] = field(default_factory=dict)
    # columns that only apply when the row creates something (never sent as an update)
    create_only: frozenset[str] = frozenset()


def update_data(kind: Kind, existing: Any, row: Row) -> Any:
    """The Update model for the row's non-blank fields; unmoved coordinates are left out."""
    allowed = set(kind.update_model.model_fields) - kind.create_only
    updates = {f: getattr(row.data, f) for f in row.fields & allowed}
    for name in ("lat", "lng", "polygon"):
        # Sending an unchanged point would make the merchant service re-derive its market.
        if name in updates and _same(getattr(existing, name, None), updates[name]):
            del updates[name]
    for name in contacts.FIELDS:
        # A masked export edited and imported again must not overwrite the real contacts.
        if name in updates and contacts.is_mask_of(
            name, getattr(existing, name, None), updates[name]
        ):
            del updates[name]
    return kind.update_model(**updates)


def _same(stored: Any, new: Any) -> bool:
    if stored is None or new is None:
        return stored is new
    if isinstance(stored, int | float) and isinstance(new, int | float):
        return abs(stored - new) < _SAME_POINT
    if isinstance(stored, list) and isinstance(new, list) and len(stored) == len(new):
        return all(_same(a, b) for a, b in zip(stored, new, strict=True))
    return False


def reason_of(error: Any) -> Reason:
    """A pydantic error as a short reason, with the offending number if any."""
    ctx = error.get("ctx") or {}
    if isinstance(ctx.get("error"), BadValue):
        return ctx["error"].reason  # one of our validators, with its reason
    value = error.get("input")
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    match error["type"], number:
        case "less_than_equal", float() | int():
            return Reason(
                "input should be less than or equal to {limit:g} (got {value:g})",
                limit=ctx.get("le"),
                value=number,
            )
        case "greater_than_equal", float() | int():
            return Reason(
                "input should be greater than or equal to {limit:g} (got {value:g})",
                limit=ctx.get("ge"),
                value=number,
            )
        case "greater_than", float() | int():
            return Reason(
                "input should be greater than {limit:g} (got {value:g})",
                limit=ctx.get("gt"),
                value=number,
            )
        case "string_too_short", _:
            return Reason("should have at least {n} characters", n=ctx.get("min_length"))
        case "string_too_long", _:
            return Reason("should have at most {n} characters", n=ctx.get("max_length"))
        case "missing", _:
            return Reason("a value is required")
    message = str(error["msg"]).removeprefix("Value error, ")
    if number is not None:
        return Reason("{problem} (got {value:g})", problem=message, value=number)
    return Reason("{problem}", problem=message[:1].lower() + message[1:])


def is_visible(actor: Actor, obj: Any, what: str) -> bool:
    try:
        visible(actor, obj, what=what, key="")
    except NotFound:
        return False
    return True


# --- writers that need more than the plain service call --------------------------------------


def _create_user(session: Session, actor: Actor, row: Row) -> User:
    password = row.values.get("password")
    try:
        data = UserCreate.model_validate({**row.data.model_dump(), "password": password})
    except ValidationError as exc:
        raise RowProblem("password", reason_of(exc.errors()[0])) from None
    try:
        return auth.create_user(session, actor, data)
    except Forbidden as exc:  # the role given is not the importer's to grant
        raise RowProblem("role", Reason.of(exc)) from None


def _update_user(session: Session, actor: Actor, user: User, row: Row) -> User:
    try:
        return auth.update_user(session, actor, user, update_data(KINDS["staff"], user, row))
    except Forbidden as exc:  # a role not the importer's to grant, or an admin's row
        raise RowProblem("role" if row.values.get("role") else "username", Reason.of(exc)) from None


def _create_terminal(session: Session, actor: Actor, row: Row) -> Terminal:
    state = row.values.get("state")
    if state not in (None, TerminalState.in_stock, TerminalState.deployed):
        raise RowProblem(
            "state",
            Reason(
                "a new terminal starts in_stock or deployed; {state} is "
                "reached through the lifecycle after it is registered",
                state=TerminalState(state),
            ),
        )
    return inventory.create_terminal(session, actor, row.data)


def _update_terminal(session: Session, actor: Actor, terminal: Terminal, row: Row) -> None:
    state, merchant = row.values.get("state"), row.values.get("merchant_code")
    hint = LIFECYCLE_HINT.format(id=terminal.id)
    if state is not None and state != terminal.state:
        raise RowProblem(
            "state",
            Reason(
                "terminal {sn} is {state}, not {wanted}; "
                "state changes go through the lifecycle: {hint}",
                sn=terminal.sn,
                state=terminal.state,
                wanted=TerminalState(state),
                hint=hint,
            ),
        )
    stored_merchant = _merchant_code(session, terminal.merchant_id)
    if (state is not None or merchant is not None) and merchant != stored_merchant:
        raise RowProblem(
            "merchant_code",
            Reason(
                "terminal {sn} is at merchant {stored}, not {given}; "
                "moves between merchants go through the lifecycle: {hint}",
                sn=terminal.sn,
                stored=stored_merchant or Reason("(none)"),
                given=merchant or Reason("(none)"),
                hint=hint,
            ),
        )
    deployed_at = row.values.get("deployed_at")
    started = placement_start(session, terminal)
    if deployed_at is not None and (started is None or abs(started - deployed_at) >= _SECOND):
        placed = local_text(started) if started else Reason("(never placed)")
        raise RowProblem(
            "deployed_at",
            Reason(
                "terminal {sn} was placed on {placed}; an import cannot rewrite placement history",
                sn=terminal.sn,
                placed=placed,
            ),
        )
    data = update_data(KINDS["terminals"], terminal, row)
    inventory.update_terminal(session, actor, terminal, data)


def _merchant_code(session: Session, merchant_id: int | None) -> str | None:
    return inventory.codes(session, Merchant, {merchant_id}).get(merchant_id or 0)


def placement_start(session: Session, terminal: Terminal) -> datetime | None:
    """When the terminal's open placement began, or None when it is at no merchant."""
    stmt = select(Placement).where(
        Placement.terminal_id == terminal.id,  # type: ignore[arg-type]
        Placement.ended_at.is_(None),  # type: ignore[union-attr]
    )
    placement = session.execute(stmt).scalar_one_or_none()
    return placement.started_at if placement else None


def _update(service: Callable[..., Any], kind_name: str) -> Updater:
    def update(session: Session, actor: Actor, existing: Any, row: Row) -> Any:
        return service(session, actor, existing, update_data(KINDS[kind_name], existing, row))

    return update


def _create(service: Callable[..., Any]) -> Writer:
    return lambda session, actor, row: service(session, actor, row.data)


_BRANCH = (Branch, "code", "branch")
KINDS: dict[str, Kind] = {
    "branches": Kind(
        name="branches",
        label="branch",
        table=Branch,
        key="code",
        create_model=BranchCreate,
        update_model=BranchUpdate,
        permission=Permission.write_branches,
        read_permission=Permission.read_inventory,
        create=_create(inventory.create_branch),
        update=_update(inventory.update_branch, "branches"),
        refs={"parent_code": _BRANCH},
    ),
    "staff": Kind(
        name="staff",
        label="user",
        table=User,
        key="username",
        create_model=UserCreate,
        update_model=UserUpdate,
        permission=Permission.write_users,
        read_permission=Permission.read_users,
        create=_create_user,
        update=_update_user,
        refs={"branch_code": _BRANCH},
        create_only=frozenset({"password"}),
    ),
    "markets": Kind(
        name="markets",
        label="market",
        table=Market,
        key="code",
        create_model=MarketCreate,
        update_model=MarketUpdate,
        permission=Permission.write_markets,
        read_permission=Permission.read_inventory,
        create=_create(inventory.create_market),
        update=_update(inventory.update_market, "markets"),
        refs={"branch_code": _BRANCH},
    ),
    "merchants": Kind(
        name="merchants",
        label="merchant",
        table=Merchant,
        key="code",
        create_model=MerchantCreate,
        update_model=MerchantUpdate,
        permission=Permission.write_inventory,
        read_permission=Permission.read_inventory,
        create=_create(inventory.create_merchant),
        update=_update(inventory.update_merchant, "merchants"),
        refs={
            "branch_code": _BRANCH,
            "market_code": (Market, "code", "market"),
            "staff_username": (User, "username", "user"),
        },
    ),
    "terminals": Kind(
        name="terminals",
        label="terminal",
        table=Terminal,
        key="sn",
        create_model=TerminalCreate,
        update_model=TerminalUpdate,
        permission=Permission.write_inventory,
        read_permission=Permission.read_inventory,
        create=_create_terminal,
        update=_update_terminal,
        refs={"branch_code": _BRANCH, "merchant_code": (Merchant, "code", "merchant")},
    ),
}
