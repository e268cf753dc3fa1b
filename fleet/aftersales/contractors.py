"""Contractors (外包售后): who covers which branches, on what terms, and their technicians.

A contractor's technicians are service users linked to it; they see tickets of the branches
it covers only (and of those, like any service user, their own and the open pool).
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import Session, col, select

from fleet.aftersales.models import Contractor, ContractorBranch, ContractorKind, ContractorStaff
from fleet.core import audit
from fleet.core.access import Actor, Permission, Role
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.inventory import service as inventory
from fleet.inventory.scope import subtree_ids


class ContractorCreate(BaseModel):
    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    kind: ContractorKind = ContractorKind.company
    annual_fee_per_outlet: float = Field(default=4000.0, ge=0)
    fee_per_ticket: float = Field(default=0.0, ge=0)
    penalty_per_breach: float = Field(default=0.0, ge=0)
    branch_codes: list[str] = Field(default_factory=list)
    staff_usernames: list[str] = Field(default_factory=list)


class ContractorPublic(BaseModel):
    id: int
    code: str
    name: str
    kind: ContractorKind
    annual_fee_per_outlet: float
    fee_per_ticket: float
    penalty_per_breach: float
    branch_codes: list[str]
    staff_usernames: list[str]


def create(session: Session, actor: Actor, data: ContractorCreate) -> Contractor:
    """A contractor with its terms, the branches it covers and its technicians (admins)."""
    actor.require(Permission.manage_contractors)
    if session.execute(select(Contractor).where(col(Contractor.code) == data.code)).first():
        raise Conflict("contractor {code} exists already", code=data.code)
    contractor = Contractor(**data.model_dump(exclude={"branch_codes", "staff_usernames"}))
    session.add(contractor)
    session.flush()
    for code in data.branch_codes:
        branch = inventory.branch_by_code(session, actor, code)
        session.add(ContractorBranch(contractor_id=contractor.id or 0, branch_id=branch.id or 0))
    for username in data.staff_usernames:
        user = inventory.staff_by_username(session, actor, username)
        if user.role is not Role.service:
            raise Invalid(
                "{username} is {role}; a contractor's technicians have the service role",
                username=username,
                role=user.role.value,
            )
        session.add(ContractorStaff(user_id=user.id or 0, contractor_id=contractor.id or 0))
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="contractor",
        entity_id=contractor.code,
        changes=data.model_dump(),
    )
    session.flush()
    return contractor


def by_code(session: Session, actor: Actor, code: str) -> Contractor:
    """The contractor; operations see those covering a branch of their subtree."""
    actor.require(Permission.dispatch_tickets)
    found = session.execute(select(Contractor).where(col(Contractor.code) == code)).scalar()
    if found is None or not _seen(session, actor, found):
        raise NotFound("contractor {code} not found", code=code)
    return found


def _seen(session: Session, actor: Actor, contractor: Contractor) -> bool:
    roots = covered_roots(session, contractor)
    return actor.branch_ids is None or any(actor.sees_branch(b) for b in roots)


def covered_roots(session: Session, contractor: Contractor) -> list[int]:
    return list(
        session.execute(
            select(ContractorBranch.branch_id).where(
                col(ContractorBranch.contractor_id) == contractor.id
            )
        ).scalars()
    )


def covered(session: Session, contractor: Contractor) -> frozenset[int]:
    """Every branch the contractor covers: the subtrees of its branches."""
    found: set[int] = set()
    for root in covered_roots(session, contractor):
        found |= subtree_ids(session, root)
    return frozenset(found)


def covered_for_user(session: Session, user_id: int | None) -> frozenset[int] | None:
    """The branches a contractor's technician may work in; None for anyone else."""
    if user_id is None:
        return None
    link = session.get(ContractorStaff, user_id)
    if link is None:
        return None
    contractor = session.get(Contractor, link.contractor_id)
    return covered(session, contractor) if contractor else frozenset()


def public(session: Session, contractor: Contractor) -> ContractorPublic:
    from fleet.auth.models import User
    from fleet.inventory.models import Branch

    codes = session.execute(
        select(Branch.code)
        .join(ContractorBranch, col(ContractorBranch.branch_id) == col(Branch.id))
        .where(col(ContractorBranch.contractor_id) == contractor.id)
    ).scalars()
    names = session.execute(
        select(User.username)
        .join(ContractorStaff, col(ContractorStaff.user_id) == col(User.id))
        .where(col(ContractorStaff.contractor_id) == contractor.id)
    ).scalars()
    return ContractorPublic(
        **contractor.model_dump(exclude={"created_at"}),
        branch_codes=sorted(codes),
        staff_usernames=sorted(names),
    )


def list_all(session: Session, actor: Actor) -> list[Contractor]:
    actor.require(Permission.dispatch_tickets)
    rows = session.execute(select(Contractor).order_by(col(Contractor.code))).scalars()
    return [c for c in rows if _seen(session, actor, c)]
