"""Contracts (承包): drafted and approved by branch operations, run over their period, settled.

draft → approved (terms and baseline locked; approved by operations of a branch at or above
the contractor's, never by a member) → running (the period has begun) → settled (the final
settlement stored line by line). Two contracts may not share a merchant (or a branch subtree)
in overlapping periods. Operations see the contracts of their subtree; staff their own; only
roles that may see pay see amounts (`public`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Conflict, Forbidden, Invalid, Listed, NotFound
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Market, Merchant
from fleet.inventory.scope import subtree_ids
from fleet.pay import carry, periods, settlement
from fleet.pay.contract_models import (
    Contract,
    ContractCreate,
    ContractLine,
    ContractMember,
    ContractMerchant,
    ContractPublic,
    ContractStatus,
    ContractTerm,
    ContractUpdate,
    MemberPublic,
    MerchantNamed,
    PortfolioKind,
    Progress,
    Statement,
    StatementLine,
)
from fleet.scoring.service import today_local

LOCKED = frozenset({ContractStatus.approved, ContractStatus.running, ContractStatus.settled})
MAX_CAP_PCT = 1000


def _audit(session: Session, actor: Actor, contract: Contract, action: str, **changes: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        entity="contract",
        entity_id=contract.id,
        branch_id=contract.branch_id,
        changes=changes,
    )


def member_ids(session: Session, contract_id: int) -> list[int]:
    return list(
        session.exec(
            select(ContractMember.user_id)
            .where(col(ContractMember.contract_id) == contract_id)
            .order_by(col(ContractMember.user_id))
        )
    )


def _check_terms(
    *,
    target_active_rate: float | None,
    target_revenue_fen: int | None,
    commission_ppm: int,
    threshold_pct: int,
    cap_pct: int,
) -> None:
    """Refuses negative or impossible terms, naming each."""
    wrong: list[ContractTerm] = []
    if target_active_rate is not None and not 0 < target_active_rate <= 1:
        wrong.append(ContractTerm.target_active_rate)
    if target_revenue_fen is not None and target_revenue_fen <= 0:
        wrong.append(ContractTerm.target_revenue_fen)
    if not 0 <= commission_ppm <= 1_000_000:
        wrong.append(ContractTerm.commission_ppm)
    if threshold_pct < 0 or threshold_pct > cap_pct:
        wrong.append(ContractTerm.threshold_pct)
    if not 100 <= cap_pct <= MAX_CAP_PCT:
        wrong.append(ContractTerm.cap_pct)
    if wrong:
        raise Invalid(
            "these terms cannot be: {fields} (rates 0–100%, amounts above 0, a threshold "
            "from 0 up to the cap, a cap from 100% to 1000%)",
            fields=Listed(wrong),
        )


def create(session: Session, actor: Actor, data: ContractCreate) -> Contract:
    """A draft contract for one staff member or a team, refused when its portfolio overlaps
    another contract's in the same days."""
    actor.require(Permission.manage_contracts)
    _check_terms(
        target_active_rate=data.target_active_rate,
        target_revenue_fen=data.target_revenue_fen,
        commission_ppm=data.commission_ppm,
        threshold_pct=data.threshold_pct,
        cap_pct=data.cap_pct,
    )
    period = periods.parse(data.period)
    members = [inventory.staff_by_username(session, actor, name) for name in data.members]
    if len({m.id for m in members}) != len(members):
        raise Invalid("a staff member is listed twice: {members}", members=Listed(data.members))
    contract = Contract(
        name=data.name.strip(),
        branch_id=members[0].branch_id,
        portfolio_kind=data.portfolio_kind,
        period=period.text,
        period_start=period.start,
        period_end=period.end,
        target_active_rate=data.target_active_rate,
        target_revenue_fen=data.target_revenue_fen,
        commission_ppm=data.commission_ppm,
        above_baseline=data.above_baseline,
        threshold_pct=data.threshold_pct,
        cap_pct=data.cap_pct,
        created_by_name=actor.username,
    )
    merchants: list[Merchant] = []
    if data.portfolio_kind is PortfolioKind.branch:
        if not data.branch_code:
            raise Invalid("a branch portfolio needs its branch")
        contract.portfolio_branch_id = inventory.branch_by_code(session, actor, data.branch_code).id
    elif data.portfolio_kind is PortfolioKind.market:
        if not data.market_code:
            raise Invalid("a market portfolio needs its market")
        contract.portfolio_market_id = inventory.market_by_code(session, actor, data.market_code).id
    else:
        codes = list(dict.fromkeys(c.strip() for c in data.merchant_codes if c.strip()))
        if not codes:
            raise Invalid("a list portfolio needs at least one merchant")
        merchants = [inventory.merchant_by_code(session, actor, code) for code in codes]
    session.add(contract)
    session.flush()
    assert contract.id is not None
    session.add_all(ContractMember(contract_id=contract.id, user_id=m.id or 0) for m in members)
    session.add_all(
        ContractMerchant(contract_id=contract.id, merchant_id=m.id or 0) for m in merchants
    )
    session.flush()
    refuse_overlaps(session, contract)
    _audit(session, actor, contract, "create_contract", **data.model_dump(mode="json"))
    return contract


def _branch_label(session: Session, branch_id: int | None) -> str:
    branch = session.get(Branch, branch_id) if branch_id else None
    return f"{branch.name} ({branch.code})" if branch else ""


def refuse_overlaps(session: Session, contract: Contract) -> None:
    """Conflict, listing each other contract and what they share, when another contract's
    days overlap this one's and its portfolio shares a merchant (or a branch subtree)."""
    others = session.exec(
        select(Contract)
        .where(col(Contract.id) != contract.id)
        .where(col(Contract.period_start) < contract.period_end)
        .where(col(Contract.period_end) > contract.period_start)
        .order_by(col(Contract.id))
    ).all()
    if not others:
        return
    mine = settlement.merchant_ids(session, contract)
    my_branches = _subtree(session, contract)
    clashes = []
    for other in others:
        shared = mine & settlement.merchant_ids(session, other)
        theirs = _subtree(session, other)
        nested = bool(my_branches and theirs and (my_branches & theirs))
        if shared or nested:
            codes = sorted(
                session.exec(select(Merchant.code).where(col(Merchant.id).in_(shared))).all()
            )
            what = ", ".join(codes[:5]) + (" …" if len(codes) > 5 else "")
            clashes.append(f"#{other.id} {other.name} ({other.period}: {what or '—'})")
    if clashes:
        raise Conflict(
            "another contract covers this portfolio in these days: {contracts}",
            contracts=Listed(clashes),
        )


def _subtree(session: Session, contract: Contract) -> frozenset[int]:
    if contract.portfolio_kind is PortfolioKind.branch and contract.portfolio_branch_id:
        return subtree_ids(session, contract.portfolio_branch_id)
    return frozenset()


def get(session: Session, actor: Actor, contract_id: int) -> Contract:
    """The contract if the actor may see it (ops: their subtree; others: their own)."""
    contract = session.get(Contract, contract_id)
    if contract is not None and _sees(session, actor, contract):
        return contract
    raise NotFound("contract {id} not found", id=contract_id)


def _sees(session: Session, actor: Actor, contract: Contract) -> bool:
    if actor.can(Permission.manage_contracts) and actor.sees_branch(contract.branch_id):
        return True
    return actor.user_id is not None and actor.user_id in member_ids(session, contract.id or 0)


def list_contracts(
    session: Session,
    actor: Actor,
    *,
    status: ContractStatus | None = None,
    mine: bool = False,
) -> list[Contract]:
    """The contracts the actor may see, newest period first; `mine`: those they hold."""
    query = select(Contract)
    if mine or not actor.can(Permission.manage_contracts):
        held = select(ContractMember.contract_id).where(
            col(ContractMember.user_id) == (actor.user_id or 0)
        )
        query = query.where(col(Contract.id).in_(held))
    elif actor.branch_ids is not None:
        query = query.where(col(Contract.branch_id).in_(actor.branch_ids))
    if status is not None:
        query = query.where(col(Contract.status) == status)
    return list(
        session.exec(query.order_by(col(Contract.period_start).desc(), col(Contract.id).desc()))
    )


def update(session: Session, actor: Actor, contract_id: int, data: ContractUpdate) -> Contract:
    """Changes a draft's terms; an approved contract's are locked (Conflict, nothing changed)."""
    actor.require(Permission.manage_contracts)
    contract = get(session, actor, contract_id)
    if contract.status in LOCKED:
        raise Conflict(
            "contract {id} is {status}: its terms are locked",
            id=contract.id,
            status=contract.status,
        )
    updates = data.model_dump(exclude_unset=True)
    merged = {
        key: updates.get(key, getattr(contract, key))
        for key in (
            "target_active_rate",
            "target_revenue_fen",
            "commission_ppm",
            "threshold_pct",
            "cap_pct",
        )
    }
    _check_terms(**merged)
    changed = audit.diff(
        contract,
        {k: v for k, v in updates.items() if v is not None or k.startswith("target_")},
    )
    if changed:
        session.add(contract)
        session.flush()
        _audit(session, actor, contract, "update_contract", **changed)
    return contract


def approve(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    today: date | None = None,
    settings: Settings | None = None,
) -> Contract:
    """Locks the terms and the baseline (the net revenue of the period before, 动户率 at the
    start). Only operations of a branch at or above the contractor's, never a member."""
    actor.require(Permission.manage_contracts)
    contract = get(session, actor, contract_id)
    assert contract.id is not None
    if contract.status is not ContractStatus.draft:
        raise Conflict(
            "contract {id} is {status}: only a draft can be approved",
            id=contract.id,
            status=contract.status,
        )
    members = member_ids(session, contract.id)
    if actor.user_id is not None and actor.user_id in members:
        raise Forbidden("a contract is approved by someone who does not hold it")
    for user in session.exec(select(User).where(col(User.id).in_(members))):
        if not actor.sees_branch(user.branch_id):
            raise Forbidden("a contract is approved by operations above the contractor's branch")
    refuse_overlaps(session, contract)
    s = settings or get_settings()
    before = periods.parse(contract.period).previous()
    net, rate = settlement.net_revenue(session, contract, before.start, before.end, s)
    contract.baseline_net_fen = net
    contract.baseline_active_rate = rate
    day = today or today_local(s)
    contract.status = (
        ContractStatus.running if day >= contract.period_start else ContractStatus.approved
    )
    contract.approved_at = utcnow()
    contract.approved_by_id = actor.user_id
    contract.approved_by_name = actor.username
    session.add(contract)
    session.flush()
    _audit(
        session,
        actor,
        contract,
        "approve_contract",
        status=["draft", contract.status],
        baseline_net_fen=net,
        baseline_active_rate=rate,
    )
    return contract


def start_due(session: Session, actor: Actor, today: date | None = None) -> list[Contract]:
    """Approved contracts whose period has begun become running (an audit entry each)."""
    day = today or today_local()
    due = session.exec(
        select(Contract)
        .where(col(Contract.status) == ContractStatus.approved)
        .where(col(Contract.period_start) <= day)
    ).all()
    for contract in due:
        contract.status = ContractStatus.running
        session.add(contract)
        _audit(session, actor, contract, "start_contract", status=["approved", "running"])
    session.flush()
    return list(due)


def _stored(session: Session, contract: Contract) -> Statement:
    lines = session.exec(
        select(ContractLine)
        .where(col(ContractLine.contract_id) == contract.id)
        .order_by(col(ContractLine.id))
    ).all()
    summary: dict[str, Any] = dict(contract_summary(contract))
    return Statement(
        **summary,
        lines=[StatementLine.model_validate(line, from_attributes=True) for line in lines],
    )


def contract_summary(contract: Contract) -> dict[str, Any]:
    return dict(contract.settlement or {})


def progress(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    today: date | None = None,
    settings: Settings | None = None,
) -> Progress | None:
    """Attainment so far (the whole period to date), without money: for the contract's own
    staff as for operations. None for a draft."""
    contract = get(session, actor, contract_id)
    if contract.status is ContractStatus.draft:
        return None
    s = settings or get_settings()
    day = today or today_local(s)
    if contract.status is ContractStatus.settled:
        figures = _stored(session, contract)
    else:
        figures = settlement.statement(
            session,
            contract,
            contract.period_start,
            contract.period_end,
            final=False,
            today=day,
            settings=s,
        )
    return Progress(
        contract_id=figures.contract_id,
        units=figures.units,
        active_units=figures.active_units,
        active_rate=figures.active_rate,
        attainment=figures.attainment,
        revenue_attainment=figures.revenue_attainment,
        active_attainment=figures.active_attainment,
        paid=figures.factor > 0,
    )


def statement(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    month: str | None = None,
    today: date | None = None,
    settings: Settings | None = None,
) -> Statement:
    """A month's accrual (`month`, within the period), else the final settlement: the stored
    one once settled, else as it stands. Amounts only for roles that may see pay."""
    actor.require(Permission.read_pay)
    contract = get(session, actor, contract_id)
    s = settings or get_settings()
    day = today or today_local(s)
    if contract.status is ContractStatus.draft:
        raise Conflict("contract {id} is a draft: approve it first", id=contract.id)
    if month is None:
        if contract.status is ContractStatus.settled:
            stored = carry.add_later(session, contract, _stored(session, contract), day, s)
            return _branches_named(session, stored)
        final = _final_as_it_stands(session, contract, day, s)
        return _branches_named(session, carry.add_later(session, contract, final, day, s))
    chosen = periods.parse(month)
    if len(chosen.text) != 7 or "Q" in chosen.text:
        raise Invalid("{period} is not a month: write it as 2026-11", period=month)
    if not contract.period_start <= chosen.start < contract.period_end:
        raise Invalid(
            "{period} is outside the contract's period {contract_period}",
            period=chosen.text,
            contract_period=contract.period,
        )
    made = settlement.statement(
        session, contract, chosen.start, chosen.end, final=False, today=day, settings=s
    )
    return _branches_named(session, carry.add_carried(session, contract, made, day, s))


def _branches_named(session: Session, made: Statement) -> Statement:
    """The statement with each line's branch name beside its code (names lead: core.names)."""
    names = inventory.branch_names(session, (line.branch_code for line in made.lines))
    for line in made.lines:
        line.branch_name = names.get(line.branch_code, "")
    return made


def settle(
    session: Session,
    actor: Actor,
    contract_id: int,
    *,
    today: date | None = None,
    settings: Settings | None = None,
) -> Statement:
    """Stores the final settlement, line by line, once the period is over; its total is the
    sum of its lines. Refused before the period ends, for a draft, or when settled already."""
    actor.require(Permission.manage_contracts)
    contract = get(session, actor, contract_id)
    s = settings or get_settings()
    day = today or today_local(s)
    if contract.status is ContractStatus.settled:
        raise Conflict("contract {id} is settled already", id=contract.id)
    if contract.status is ContractStatus.draft:
        raise Conflict("contract {id} is a draft: approve it first", id=contract.id)
    if day < contract.period_end:
        raise Invalid(
            "contract {id} runs until {end}: settle it after its period",
            id=contract.id,
            end=contract.period_end.isoformat(),
        )
    final = _final_as_it_stands(session, contract, day, s)
    assert contract.id is not None
    session.execute(delete(ContractLine).where(col(ContractLine.contract_id) == contract.id))
    session.add_all(
        ContractLine(contract_id=contract.id, **line.model_dump()) for line in final.lines
    )
    final.settled = True
    contract.settlement = final.model_dump(
        mode="json", exclude={"lines", "later", "outstanding_fen"}
    )
    contract.settled_total_fen = sum(line.commission_fen for line in final.lines)
    contract.status = ContractStatus.settled
    contract.settled_at = utcnow()
    contract.settled_by_name = actor.username
    session.add(contract)
    session.flush()
    _audit(
        session,
        actor,
        contract,
        "settle_contract",
        total_fen=contract.settled_total_fen,
        lines=len(final.lines),
    )
    return carry.add_later(session, contract, final, day, s)


def _final_as_it_stands(
    session: Session, contract: Contract, day: date, settings: Settings
) -> Statement:
    """The whole period's statement with what earlier contracts carried into it: what the
    settlement stores, and what is shown until then."""
    final = settlement.statement(
        session,
        contract,
        contract.period_start,
        contract.period_end,
        final=True,
        today=day,
        settings=settings,
    )
    return carry.add_carried(session, contract, final, day, settings)


# A named-merchant portfolio's label names this many; where it is shown, "5 of 66" and a way
# to every one follow (ContractPublic.merchants).
LABEL_NAMES = 5


def portfolio_label(session: Session, contract: Contract, comma: str = "、") -> str:
    if contract.portfolio_kind is PortfolioKind.branch:
        return _branch_label(session, contract.portfolio_branch_id)
    if contract.portfolio_kind is PortfolioKind.market:
        market = session.get(Market, contract.portfolio_market_id)
        return f"{market.name} ({market.code})" if market else ""
    named = _merchants(session, contract)
    shown = comma.join(f"{m.name} ({m.code})" for m in named[:LABEL_NAMES])
    return shown + (" …" if len(named) > LABEL_NAMES else "")


def _merchants(session: Session, contract: Contract) -> list[MerchantNamed]:
    """The contract's named merchants, by code."""
    return [
        MerchantNamed(code=code, name=name)
        for name, code in session.exec(
            select(Merchant.name, Merchant.code)
            .join(ContractMerchant, col(ContractMerchant.merchant_id) == Merchant.id)
            .where(col(ContractMerchant.contract_id) == contract.id)
            .order_by(col(Merchant.code))
        )
    ]


def public(session: Session, actor: Actor, contract: Contract, comma: str = "、") -> ContractPublic:
    """The contract as the API shows it; amounts hidden from roles that may not see pay. A
    page passes its language's list comma for the portfolio's label (Texts.comma)."""
    assert contract.id is not None
    pay = actor.can(Permission.read_pay)
    branch = session.get(Branch, contract.branch_id)
    users = session.exec(
        select(User)
        .where(col(User.id).in_(member_ids(session, contract.id)))
        .order_by(col(User.username))
    ).all()
    market = (
        session.get(Market, contract.portfolio_market_id) if contract.portfolio_market_id else None
    )
    scope = (
        session.get(Branch, contract.portfolio_branch_id) if contract.portfolio_branch_id else None
    )
    approver = session.get(User, contract.approved_by_id) if contract.approved_by_id else None
    merchants = _merchants(session, contract)
    return ContractPublic(
        id=contract.id,
        name=contract.name,
        status=contract.status,
        branch_code=branch.code if branch else "",
        branch_name=branch.name if branch else "",
        members=[MemberPublic(username=u.username, full_name=u.full_name) for u in users],
        portfolio_kind=contract.portfolio_kind,
        portfolio_branch_code=scope.code if scope else None,
        portfolio_market_code=market.code if market else None,
        merchant_codes=[m.code for m in merchants],
        merchants=merchants,
        label_names=min(len(merchants), LABEL_NAMES),
        portfolio_label=portfolio_label(session, contract, comma),
        period=contract.period,
        period_start=contract.period_start,
        period_end=contract.period_end,
        target_active_rate=contract.target_active_rate,
        target_revenue_fen=contract.target_revenue_fen if pay else None,
        commission_ppm=contract.commission_ppm,
        above_baseline=contract.above_baseline,
        threshold_pct=contract.threshold_pct,
        cap_pct=contract.cap_pct,
        clawback_days=contract.clawback_days,
        baseline_net_fen=contract.baseline_net_fen if pay else None,
        baseline_active_rate=contract.baseline_active_rate,
        created_by_name=contract.created_by_name,
        approved_by_name=contract.approved_by_name,
        approved_by_full_name=approver.full_name if approver else None,
        approved_at=contract.approved_at,
        settled_at=contract.settled_at,
        settled_total_fen=contract.settled_total_fen if pay else None,
    )
