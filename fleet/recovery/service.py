"""Recovery suggestions, requests and decisions: who may raise, who may decide, and how.

Raising a request moves the unit deployed → recovery_requested; deciding moves it on
(approve → recovery_approved, reject → deployed) or leaves it (defer to a date). Every change
is a compare-and-set on the request's version, inside the same transaction as the lifecycle's
own compare-and-set on the terminal's state: of two people deciding at once, exactly one wins.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core import audit, phrases
from fleet.core.access import Actor, Permission, system_actor
from fleet.core.config import get_settings
from fleet.core.db import attempt, utcnow
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.i18n import texts_for
from fleet.core.paging import fetch_page
from fleet.core.phrases import Phrase
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Merchant, Terminal, TerminalState
from fleet.recovery.models import (
    OPEN,
    RecoveryRequest,
    RecoveryRequestPublic,
    RequestStatus,
)
from fleet.scoring import service as scoring

S = TerminalState


def local_day(at: datetime) -> date:
    """The bank's calendar day of an instant."""
    return at.astimezone(ZoneInfo(get_settings().feed_timezone)).date()


def today() -> date:
    return local_day(datetime.now(UTC))


def mover(actor: Actor) -> Actor:
    """Who performs a lifecycle move: the actor, or for field staff the system in their name."""
    if actor.can(Permission.change_lifecycle):
        return actor
    # Field staff may ask for a recovery and bring a unit back, but may not move units at will.
    # Still theirs: the history names them (fleet.auth.names) and links their account.
    return replace(system_actor(f"field:{actor.username}"), user_id=actor.user_id)


# --- requests ---------------------------------------------------------------------------------


def open_request(session: Session, terminal_id: int) -> RecoveryRequest | None:
    stmt = select(RecoveryRequest).where(
        col(RecoveryRequest.terminal_id) == terminal_id, col(RecoveryRequest.status).in_(OPEN)
    )
    return session.execute(stmt).scalar_one_or_none()


def raise_request(
    session: Session,
    actor: Actor,
    terminal: Terminal,
    *,
    why: Phrase,
    source: str = "manual",
    rule: str | None = None,
    evidence: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> RecoveryRequest:
    """Asks for a deployed unit to be recovered; 409 if it already has an open request.
    `why` is a phrase (fleet.core.phrases): a rule's finding, a visit, or what a person typed."""
    actor.require(Permission.request_recovery)
    existing = open_request(session, terminal.id or 0)
    if existing is not None:
        raise Conflict(
            "terminal {sn} already has an open recovery request #{request} ({status})",
            details={"request_id": existing.id, "status": existing.status.value},
            sn=terminal.sn,
            request=existing.id,
            status=existing.status,
        )
    merchant_id = terminal.merchant_id
    at = at or utcnow()
    lifecycle.transition(session, mover(actor), terminal, S.recovery_requested, reason=why, at=at)
    request = RecoveryRequest(
        terminal_id=terminal.id or 0,
        branch_id=terminal.branch_id,
        merchant_id=merchant_id or 0,
        source=source,
        rule=rule,
        why=why,
        evidence=evidence or {},
        raised_by_id=actor.user_id,
        raised_by_name=actor.username,
        raised_at=at,
    )
    try:
        with attempt(session):
            session.add(request)
            session.flush()
    except IntegrityError:  # a request raised meanwhile by someone else
        raise Conflict(
            "terminal {sn} already has an open recovery request", sn=terminal.sn
        ) from None
    audit.record(
        session,
        actor=actor,
        action="raise",
        entity="recovery_request",
        entity_id=request.id,
        branch_id=request.branch_id,
        changes={"terminal": terminal.sn, "source": source, "rule": rule, "reason": why},
    )
    return request


def get_request(session: Session, actor: Actor, request_id: int) -> RecoveryRequest:
    """One request; 404 when missing or outside the actor's subtree."""
    actor.require(Permission.read_inventory)
    request = session.get(RecoveryRequest, request_id)
    if request is None or not actor.sees_branch(request.branch_id):
        raise NotFound("recovery request {request} not found", request=request_id)
    return request


def _decision_details(request: RecoveryRequest) -> dict[str, Any]:
    return {
        "status": request.status.value,
        "decision": request.decision,
        "decided_by": request.decided_by_name,
        "decided_at": request.decided_at and request.decided_at.isoformat(),
        "note": request.decision_note,
        "deferred_until": request.deferred_until and request.deferred_until.isoformat(),
    }


def _already(session: Session, request: RecoveryRequest) -> Conflict:
    """The 409 for a request someone else has moved on: it says what they decided (its status)
    and who, by name; the details keep the codes (decision, username) for programs."""
    if request.decision:
        decider = session.get(User, request.decided_by_id) if request.decided_by_id else None
        return Conflict(
            "recovery request #{request} is already {status} (decided by {decided_by})",
            details=_decision_details(request),
            request=request.id,
            status=request.status,
            decided_by=(decider.full_name if decider else None) or request.decided_by_name,
        )
    return Conflict(
        "recovery request #{request} is already {status}",
        details=_decision_details(request),
        request=request.id,
        status=request.status,
    )


def claim(session: Session, request: RecoveryRequest, values: dict[str, Any]) -> None:
    """Compare-and-set on the request's version; a loser gets 409 with what was decided."""
    seen = request.version
    changed = session.execute(
        update(RecoveryRequest)
        .where(col(RecoveryRequest.id) == request.id, col(RecoveryRequest.version) == seen)
        .values(version=seen + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(request)
        raise _already(session, request)
    for key, value in {"version": seen + 1, **values}.items():
        setattr(request, key, value)


def decide(
    session: Session,
    actor: Actor,
    request_id: int,
    decision: str,
    *,
    reason: str = "",
    until: date | None = None,
    at: datetime | None = None,
) -> RecoveryRequest:
    """Approves, rejects (with a reason) or defers (to a date) a pending request."""
    request = get_request(session, actor, request_id)
    actor.require(Permission.decide_recovery)
    if request.status is not RequestStatus.pending:
        raise _already(session, request)
    reason = reason.strip()
    now = at or utcnow()
    terminal = inventory.get_terminal(session, actor, request.terminal_id)
    if decision == "defer":
        if until is None or until <= today():
            raise Invalid("deferring needs a date after today (until)")
        claim(session, request, {"deferred_until": until, "decision_note": reason or None})
        # A decision that changes no state is still a lifecycle event, so the history shows it.
        lifecycle.record_event(
            session, actor, terminal, S.recovery_requested, S.recovery_requested,
            reason=phrases.phrase("recovery_deferred_note", until=phrases.day(until), note=reason)
            if reason else phrases.phrase("recovery_deferred", until=phrases.day(until)),
            at=now,
        )  # fmt: skip
    elif decision in ("approve", "reject"):
        if decision == "reject" and not reason:
            raise Invalid("a rejection needs a reason")
        approved = decision == "approve"
        claim(
            session,
            request,
            {
                "status": RequestStatus.approved if approved else RequestStatus.rejected,
                "decision": "approved" if approved else "rejected",
                "decided_at": now,
                "decided_by_id": actor.user_id,
                "decided_by_name": actor.username,
                "decision_note": reason or None,
                "deferred_until": None,
            },
        )
        to = S.recovery_approved if approved else S.deployed
        if approved:
            why = (
                phrases.phrase("recovery_approved_note", note=reason)
                if reason
                else phrases.phrase("recovery_approved")
            )
        else:
            why = phrases.phrase("recovery_rejected", note=reason)
        lifecycle.transition(session, actor, terminal, to, reason=why, at=now)
    else:
        raise Invalid(
            "unknown decision {decision}; use approve, reject or defer", decision=repr(decision)
        )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=decision,
        entity="recovery_request",
        entity_id=request.id,
        branch_id=request.branch_id,
        changes={"status": request.status.value, "reason": reason, "until": until and str(until)},
    )
    return request


def list_requests(
    session: Session,
    actor: Actor,
    *,
    status: RequestStatus | None = RequestStatus.pending,
    branch_id: int | None = None,
    include_deferred: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[RecoveryRequest], int]:
    """The queue: pending requests in scope, deferred ones hidden until their date."""
    actor.require(Permission.read_inventory)
    stmt = select(RecoveryRequest)
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    if branch_ids is not None:
        stmt = stmt.where(col(RecoveryRequest.branch_id).in_(branch_ids))
    if status is not None:
        stmt = stmt.where(col(RecoveryRequest.status) == status)
    if status is RequestStatus.pending and not include_deferred:
        due = col(RecoveryRequest.deferred_until)
        stmt = stmt.where(due.is_(None) | (due <= today()))
    return fetch_page(
        session,
        stmt,
        model=RecoveryRequest,
        sort="raised_at",
        sortable={"raised_at"},
        limit=limit,
        offset=offset,
    )


def approved_requests(session: Session, branch_ids: frozenset[int] | None) -> list[RecoveryRequest]:
    """Approved requests awaiting collection: what the visits planner turns into recover visits."""
    stmt = select(RecoveryRequest).where(col(RecoveryRequest.status) == RequestStatus.approved)
    if branch_ids is not None:
        stmt = stmt.where(col(RecoveryRequest.branch_id).in_(branch_ids))
    return list(session.execute(stmt.order_by(col(RecoveryRequest.decided_at))).scalars())


def public(session: Session, rows: list[RecoveryRequest]) -> list[RecoveryRequestPublic]:
    """Requests with codes and names resolved, and the overdue flag of pending ones."""
    sns = inventory.codes(session, Terminal, {r.terminal_id for r in rows}, column="sn")
    branches = inventory.codes(session, Branch, {r.branch_id for r in rows})
    merchant_ids = {r.merchant_id for r in rows}
    merchants = {
        m.id: m
        for m in session.execute(select(Merchant).where(col(Merchant.id).in_(merchant_ids)))
        .scalars()
        .all()
    }
    overdue_after = get_settings().recovery_overdue_days
    english = texts_for("en")
    day = today()
    out = []
    for r in rows:
        merchant = merchants.get(r.merchant_id)
        out.append(
            RecoveryRequestPublic.model_validate(
                r,
                update={
                    "sn": sns.get(r.terminal_id),
                    "branch_code": branches.get(r.branch_id),
                    "merchant_code": merchant.code if merchant else None,
                    "merchant_name": merchant.name if merchant else None,
                    "overdue": r.status is RequestStatus.pending
                    and (day - local_day(r.raised_at)).days > overdue_after,
                    "reason": english.phrase(r.why),
                },
            )
        )
    return out
