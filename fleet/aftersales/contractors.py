"""Contractors (外包售后): who covers which branches, on what terms, and their technicians.

A contractor's technicians are service users linked to it; they see tickets of the branches
it covers only (and of those, like any service user, their own and the open pool).

Terms are kept by the month they start from: a renewal at new rates adds terms from its month,
so the statements of earlier months keep the rates they were made with. Terms may start in any
month after the last statement operations signed off, never in or before it.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlmodel import Session, col, delete, func, select

from fleet.aftersales.models import (
    Contractor,
    ContractorBranch,
    ContractorKind,
    ContractorStaff,
    ContractorTerms,
    StatementSignOff,
)
from fleet.core import audit
from fleet.core.access import Actor, Permission, Role
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.i18n import local_day
from fleet.inventory import service as inventory
from fleet.inventory.scope import subtree_ids

MONTH = r"^\d{4}-\d{2}$"


class Rates(BaseModel):
    annual_fee_per_outlet: float = Field(default=4000.0, ge=0)
    fee_per_ticket: float = Field(default=0.0, ge=0)
    penalty_per_breach: float = Field(default=0.0, ge=0)


class Who(BaseModel):
    """Who the contractor is, where it works and with whom: changeable at any time."""

    name: str = Field(min_length=1, max_length=200)
    kind: ContractorKind = ContractorKind.company
    branch_codes: list[str] = Field(default_factory=list)
    staff_usernames: list[str] = Field(default_factory=list)


class ContractorCreate(Who, Rates):
    code: str = Field(min_length=1, max_length=40)
    # The first terms' month; they cover the months before it too. None: this month.
    from_month: str | None = Field(default=None, pattern=MONTH)


class TermsChange(Rates):
    from_month: str = Field(pattern=MONTH)


class TermsPublic(Rates):
    from_month: str
    set_by_name: str
    set_at: datetime


class ContractorPublic(Who, Rates):
    """A contractor with the terms in force this month (the rates) and all its terms."""

    id: int
    code: str
    terms: list[TermsPublic]


def month_start(month: str) -> date:
    """The first day of `month` (YYYY-MM)."""
    try:
        if len(month) == 7:
            return date.fromisoformat(f"{month}-01")
    except ValueError:
        pass
    raise Invalid("month must look like 2026-11, not {month}", month=month)


def next_month_start(month: str) -> date:
    """The first day of the month after `month` (YYYY-MM)."""
    first = month_start(month)
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def this_month() -> str:
    return local_day(utcnow()).strftime("%Y-%m")


def create(session: Session, actor: Actor, data: ContractorCreate) -> Contractor:
    """A contractor with its terms, the branches it covers and its technicians (admins)."""
    actor.require(Permission.manage_contractors)
    if session.execute(select(Contractor).where(col(Contractor.code) == data.code)).first():
        raise Conflict("contractor {code} exists already", code=data.code)
    contractor = Contractor(code=data.code, name=data.name, kind=data.kind)
    session.add(contractor)
    session.flush()
    from_month = data.from_month or this_month()
    month_start(from_month)
    session.add(
        ContractorTerms(
            contractor_id=contractor.id or 0,
            from_month=from_month,
            set_by_name=actor.username,
            **Rates.model_validate(data.model_dump()).model_dump(),
        )
    )
    _link(session, actor, contractor, data)
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="contractor",
        entity_id=contractor.code,
        changes={**data.model_dump(), "from_month": from_month},
    )
    session.flush()
    return contractor


def _link(session: Session, actor: Actor, contractor: Contractor, who: Who) -> None:
    """The branches the contractor covers and its technicians, as `who` names them."""
    for code in dict.fromkeys(who.branch_codes):
        branch = inventory.branch_by_code(session, actor, code)
        session.add(ContractorBranch(contractor_id=contractor.id or 0, branch_id=branch.id or 0))
    for username in dict.fromkeys(who.staff_usernames):
        user = inventory.staff_by_username(session, actor, username)
        if user.role is not Role.service:
            raise Invalid(
                "{username} is {role}; a contractor's technicians have the service role",
                username=username,
                role=user.role.value,
            )
        other = session.execute(
            select(Contractor.code)
            .join(ContractorStaff, col(ContractorStaff.contractor_id) == col(Contractor.id))
            .where(col(ContractorStaff.user_id) == user.id, col(Contractor.id) != contractor.id)
        ).scalar()
        if other is not None:
            raise Conflict(
                "{username} works for contractor {contractor} already",
                username=username,
                contractor=other,
            )
        session.add(ContractorStaff(user_id=user.id or 0, contractor_id=contractor.id or 0))
    session.flush()


def change(session: Session, actor: Actor, code: str, who: Who) -> Contractor:
    """A contractor's name, kind, covered branches and technicians as `who` says (admins);
    its terms change only by set_terms."""
    actor.require(Permission.manage_contractors)
    contractor = by_code(session, actor, code)
    before = public(session, contractor)
    contractor.name, contractor.kind = who.name, who.kind
    for link in (ContractorBranch, ContractorStaff):
        session.execute(delete(link).where(col(link.contractor_id) == contractor.id))
    session.flush()
    _link(session, actor, contractor, who)
    after = public(session, contractor)
    changed = {
        key: [getattr(before, key), getattr(after, key)]
        for key in Who.model_fields
        if getattr(before, key) != getattr(after, key)
    }
    if changed:
        audit.record(
            session,
            actor=actor,
            action="update",
            entity="contractor",
            entity_id=contractor.code,
            changes=changed,
        )
    session.flush()
    return contractor


def last_signed_month(session: Session, contractor: Contractor) -> str | None:
    return session.execute(
        select(func.max(StatementSignOff.month)).where(
            col(StatementSignOff.contractor_id) == contractor.id
        )
    ).scalar()


def set_terms(session: Session, actor: Actor, code: str, data: TermsChange) -> ContractorTerms:
    """New rates from `data.from_month` on (admins): a renewal, or a correction of terms whose
    months no statement was signed off for."""
    actor.require(Permission.manage_contractors)
    contractor = by_code(session, actor, code)
    month_start(data.from_month)
    signed = last_signed_month(session, contractor)
    if signed is not None and data.from_month <= signed:
        raise Conflict(
            "the statement for {month} is signed off already: new terms can start from the "
            "month after it",
            month=signed,
        )
    rates = Rates.model_validate(data.model_dump()).model_dump()
    terms = session.get(ContractorTerms, (contractor.id, data.from_month))
    old = Rates.model_validate(terms, from_attributes=True).model_dump() if terms else None
    if terms is None:
        terms = ContractorTerms(
            contractor_id=contractor.id or 0,
            from_month=data.from_month,
            set_by_name=actor.username,
            **rates,
        )
        session.add(terms)
    else:
        for key, value in rates.items():
            setattr(terms, key, value)
        terms.set_by_name, terms.set_at = actor.username, utcnow()
    audit.record(
        session,
        actor=actor,
        action="set_terms",
        entity="contractor",
        entity_id=contractor.code,
        changes={"from_month": data.from_month, "before": old, "after": rates},
    )
    session.flush()
    return terms


def terms_of(session: Session, contractor: Contractor) -> list[ContractorTerms]:
    """The contractor's terms, oldest first."""
    return list(
        session.execute(
            select(ContractorTerms)
            .where(col(ContractorTerms.contractor_id) == contractor.id)
            .order_by(col(ContractorTerms.from_month))
        ).scalars()
    )


def terms_for(session: Session, contractor: Contractor, month: str) -> ContractorTerms:
    """The terms a month's statement follows: the latest from that month or before, else the
    first (they cover the months before theirs)."""
    return _in_force(terms_of(session, contractor), month)


def _in_force(kept: list[ContractorTerms], month: str) -> ContractorTerms:
    earlier = [t for t in kept if t.from_month <= month]
    return earlier[-1] if earlier else kept[0]


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
    kept = terms_of(session, contractor)
    now = _in_force(kept, this_month())
    return ContractorPublic(
        id=contractor.id or 0,
        code=contractor.code,
        name=contractor.name,
        kind=contractor.kind,
        **Rates.model_validate(now, from_attributes=True).model_dump(),
        branch_codes=sorted(codes),
        staff_usernames=sorted(names),
        terms=[TermsPublic.model_validate(t, from_attributes=True) for t in kept],
    )


def list_all(session: Session, actor: Actor) -> list[Contractor]:
    actor.require(Permission.dispatch_tickets)
    rows = session.execute(select(Contractor).order_by(col(Contractor.code))).scalars()
    return [c for c in rows if _seen(session, actor, c)]
