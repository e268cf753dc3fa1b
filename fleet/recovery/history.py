"""What a reviewer needs around recovery requests: the facts of each unit in the queue (state,
usage, revisits), the decisions made lately, one unit's requests, and a request's audit trail.

Read-only; every function applies the actor's branch scope (404 outside it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.core.access import Actor, Permission
from fleet.core.audit import AuditEntry
from fleet.core.paging import Page
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalState
from fleet.recovery.models import RecoveryRequest
from fleet.recovery.service import get_request
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.visits.models import Visit, VisitStatus

RECENT_VISITS = 5


@dataclass
class VisitSeen:
    day: date
    kind: str
    outcome: str | None


@dataclass
class UnitFacts:
    """One unit as the reviewer sees it now: lifecycle state, latest usage, done visits."""

    state: TerminalState
    usage_status: str | None = None
    scored_as_of: date | None = None
    days_since_use: int | None = None
    last_used_on: date | None = None
    count_30: int = 0
    data_from: date | None = None  # the data's start, when later than the deployment
    visits: list[VisitSeen] = field(default_factory=list)  # newest first


def unit_facts(session: Session, requests: list[RecoveryRequest]) -> dict[int, UnitFacts]:
    """{terminal_id: facts} for the units of `requests` (already scoped by the caller)."""
    ids = {r.terminal_id for r in requests}
    if not ids:
        return {}
    terminals = session.execute(select(Terminal).where(col(Terminal.id).in_(ids))).scalars()
    facts = {t.id or 0: UnitFacts(state=t.state) for t in terminals}
    latest = scoring.latest_as_of(session)
    if latest is not None:
        scores = session.execute(
            select(TerminalScore).where(
                col(TerminalScore.as_of) == latest, col(TerminalScore.terminal_id).in_(ids)
            )
        ).scalars()
        for s in scores:
            fact = facts[s.terminal_id]
            fact.usage_status, fact.scored_as_of = s.status.value, s.as_of
            fact.days_since_use, fact.last_used_on = s.days_since_use, s.last_used_on
            fact.count_30, fact.data_from = s.count_30, s.data_later()
    visits = session.execute(
        select(Visit)
        .where(col(Visit.terminal_id).in_(ids), col(Visit.status) == VisitStatus.done)
        .order_by(col(Visit.plan_date).desc(), col(Visit.id).desc())
    ).scalars()
    seen: dict[int, list[VisitSeen]] = defaultdict(list)
    for v in visits:
        tid = v.terminal_id or 0
        if len(seen[tid]) < RECENT_VISITS:
            seen[tid].append(
                VisitSeen(v.plan_date, v.kind.value, v.outcome.value if v.outcome else None)
            )
    for tid, found in seen.items():
        facts[tid].visits = found
    return facts


def recently_decided(
    session: Session, actor: Actor, *, branch_id: int | None = None, limit: int = 10
) -> Page[RecoveryRequest]:
    """The latest decisions (approved or rejected) in the actor's scope, newest first, and how
    many there are."""
    actor.require(Permission.read_inventory)
    stmt = select(RecoveryRequest).where(col(RecoveryRequest.decided_at).is_not(None))
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    if branch_ids is not None:
        stmt = stmt.where(col(RecoveryRequest.branch_id).in_(branch_ids))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    stmt = stmt.order_by(col(RecoveryRequest.decided_at).desc(), col(RecoveryRequest.id).desc())
    rows = list(session.execute(stmt.limit(limit)).scalars())
    return Page[RecoveryRequest](items=rows, total=int(total), limit=limit, offset=0)


def for_terminal(session: Session, actor: Actor, terminal_id: int) -> list[RecoveryRequest]:
    """Every recovery request of one unit, newest first; 404 outside the actor's scope."""
    terminal = inventory.get_terminal(session, actor, terminal_id)
    stmt = (
        select(RecoveryRequest)
        .where(col(RecoveryRequest.terminal_id) == terminal.id)
        .order_by(col(RecoveryRequest.raised_at).desc(), col(RecoveryRequest.id).desc())
    )
    return list(session.execute(stmt).scalars())


def audit_trail(session: Session, actor: Actor, request_id: int) -> list[AuditEntry]:
    """Who raised, decided and changed a request, when and why, oldest first."""
    request = get_request(session, actor, request_id)  # 404 outside the actor's scope
    stmt = (
        select(AuditEntry)
        .where(
            col(AuditEntry.entity) == "recovery_request",
            col(AuditEntry.entity_id) == str(request.id),
        )
        .order_by(col(AuditEntry.at), col(AuditEntry.id))
    )
    return list(session.execute(stmt).scalars())
