"""Test data built through the same services that users call."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from fleet.auth import service as auth
from fleet.auth.models import User, UserCreate
from fleet.core.access import Role, system_actor
from fleet.inventory import service as inventory
from fleet.inventory.models import (
    Branch,
    BranchCreate,
    Market,
    MarketCreate,
    Merchant,
    MerchantCreate,
    Terminal,
    TerminalCreate,
)

SYSTEM = system_actor("tests")
PASSWORD = "correct-horse-42"


def branch(
    session: Session,
    code: str,
    parent: str | None = None,
    level: str = "outlet",
    lat: float = 35.05,
    lng: float = 118.35,
) -> Branch:
    return inventory.create_branch(
        session,
        SYSTEM,
        BranchCreate(
            code=code, name=f"网点{code}", level=level, parent_code=parent, lat=lat, lng=lng
        ),
    )  # type: ignore[arg-type]


def user(session: Session, username: str, role: Role, branch_code: str) -> User:
    return auth.create_user(
        session,
        SYSTEM,
        UserCreate(
            username=username,
            full_name=username.title(),
            role=role,
            branch_code=branch_code,
            password=PASSWORD,
        ),
    )


def market(
    session: Session,
    code: str,
    branch_code: str | None,
    lat: float = 35.06,
    lng: float = 118.36,
    radius_m: float = 400,
    category: str = "hardware",
) -> Market:
    return inventory.create_market(
        session,
        SYSTEM,
        MarketCreate(
            code=code,
            name=f"市场{code}",
            category=category,
            lat=lat,
            lng=lng,
            radius_m=radius_m,  # type: ignore[arg-type]
            branch_code=branch_code,
        ),
    )


def merchant(
    session: Session,
    code: str,
    branch_code: str,
    lat: float = 35.07,
    lng: float = 118.37,
    **extra: object,
) -> Merchant:
    return inventory.create_merchant(
        session,
        SYSTEM,
        MerchantCreate(
            code=code, name=f"商户{code}", branch_code=branch_code, lat=lat, lng=lng, **extra
        ),
    )  # type: ignore[arg-type]


def terminal(
    session: Session, sn: str, branch_code: str, merchant_code: str | None = None
) -> Terminal:
    return inventory.create_terminal(
        session,
        SYSTEM,
        TerminalCreate(sn=sn, model="T100", branch_code=branch_code, merchant_code=merchant_code),
    )


@dataclass
class TwoBranches:
    """City LY with counties A (outlet A1) and B (outlet B1), a user of each role in A,
    an ops user in B, and in each outlet a market, a merchant, a deployed terminal."""

    branches: dict[str, Branch] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    markets: dict[str, Market] = field(default_factory=dict)
    merchants: dict[str, Merchant] = field(default_factory=dict)
    terminals: dict[str, Terminal] = field(default_factory=dict)


def two_branches(session: Session) -> TwoBranches:
    world = TwoBranches()
    world.branches["LY"] = branch(session, "LY", level="city")
    for county, lat in (("A", 35.0), ("B", 35.5)):
        world.branches[county] = branch(session, county, "LY", level="county", lat=lat)
        outlet = f"{county}1"
        world.branches[outlet] = branch(session, outlet, county, lat=lat)
        world.markets[outlet] = market(session, f"MK{outlet}", outlet, lat=lat + 0.01)
        world.merchants[outlet] = merchant(
            session, f"C{outlet}", outlet, lat=lat + 0.01, lng=118.36
        )
        world.terminals[outlet] = terminal(session, f"SN{outlet}", outlet, f"C{outlet}")
    world.users["admin"] = user(session, "admin", Role.admin, "LY")
    for role in (Role.branch_ops, Role.field, Role.marketing):
        world.users[f"{role.value}_a"] = user(session, f"{role.value}_a", role, "A")
    world.users["branch_ops_b"] = user(session, "branch_ops_b", Role.branch_ops, "B")
    session.flush()
    return world
