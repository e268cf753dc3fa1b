"""Recovery suggestions: every deployed unit in scope run through the rules, with its facts
(latest score, merchant status, done visits) and its branch's effective rule parameters."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlmodel import Session, col, select

from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.core.i18n import texts_for
from fleet.feeds import coverage
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Merchant, Terminal, TerminalState
from fleet.recovery import rules
from fleet.recovery.models import RecoveryRequest, Suggestion
from fleet.recovery.service import raise_request
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.visits import candidates
from fleet.visits.models import Visit, VisitStatus

S = TerminalState


def done_visits(session: Session, terminal_ids: list[int]) -> dict[int, list[rules.VisitFact]]:
    """Done visits per terminal, oldest first."""
    found: dict[int, list[rules.VisitFact]] = defaultdict(list)
    for start in range(0, len(terminal_ids), 500):
        chunk = terminal_ids[start : start + 500]
        stmt = (
            select(
                col(Visit.terminal_id), col(Visit.plan_date), col(Visit.kind), col(Visit.outcome)
            )
            .where(col(Visit.terminal_id).in_(chunk), col(Visit.status) == VisitStatus.done)
            .order_by(col(Visit.plan_date), col(Visit.id))
        )
        for terminal_id, day, kind, outcome in session.execute(stmt):
            found[terminal_id].append(
                rules.VisitFact(
                    day, getattr(kind, "value", kind), getattr(outcome, "value", outcome)
                )
            )
    return found


def _quiet(session: Session, terminal_ids: list[int]) -> set[int]:
    """Units whose request was rejected recently: the rules leave them alone for a while."""
    since = utcnow() - timedelta(days=get_settings().recovery_quiet_days)
    stmt = select(RecoveryRequest.terminal_id).where(
        col(RecoveryRequest.terminal_id).in_(terminal_ids),
        col(RecoveryRequest.decision) == "rejected",
        col(RecoveryRequest.decided_at) >= since,
    )
    return set(session.execute(stmt).scalars())


def suggest(
    session: Session, actor: Actor, *, branch_id: int | None = None, limit: int | None = None
) -> list[Suggestion]:
    """Deployed units in scope that a rule says to recover, most telling reasons first."""
    english = texts_for("en")
    actor.require(Permission.read_inventory)
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    stmt = select(Terminal, Merchant).join(Merchant, col(Merchant.id) == col(Terminal.merchant_id))
    stmt = stmt.where(col(Terminal.state) == S.deployed)
    if branch_ids is not None:
        stmt = stmt.where(col(Terminal.branch_id).in_(branch_ids))
    units = list(session.execute(stmt.order_by(col(Terminal.sn))).all())
    ids = [t.id or 0 for t, _ in units]
    as_of = scoring.latest_as_of(session)
    scores = {
        s.terminal_id: s
        for s in session.execute(
            select(TerminalScore).where(col(TerminalScore.as_of) == as_of)
        ).scalars()
    }
    visits = done_visits(session, ids)
    data_from = coverage.start(session)
    quiet = _quiet(session, ids) if ids else set()
    # Under repair or just restored (after-sales): its idle days are the fault's.
    quiet |= candidates.held(session, as_of or scoring.today_local())
    overrides = rules.Overrides(session)
    branches = inventory.codes(session, Branch, {t.branch_id for t, _ in units})
    found: list[Suggestion] = []
    for terminal, merchant in units:
        if terminal.id in quiet:
            continue
        score = scores.get(terminal.id or 0)
        facts = rules.Facts(as_of=as_of, merchant_status=merchant.status.value, data_from=data_from)
        if score is not None:
            facts.status, facts.deployed_on = score.status.value, score.deployed_on
            facts.last_used_on, facts.days_since_use = score.last_used_on, score.days_since_use
            facts.count_30, facts.count_90 = score.count_30, score.count_90
            # The start the score counted from, so that its status and the reason agree.
            facts.data_from = score.data_from if score.data_from is not None else data_from
        facts.visits = visits.get(terminal.id or 0, [])
        finding = rules.evaluate(facts, overrides.for_branch(terminal.branch_id))
        if finding is None:
            continue
        found.append(
            Suggestion(
                terminal_id=terminal.id or 0,
                sn=terminal.sn,
                branch_id=terminal.branch_id,
                branch_code=branches.get(terminal.branch_id),
                merchant_id=merchant.id or 0,
                merchant_code=merchant.code,
                merchant_name=merchant.name,
                rule=finding.rule,
                why=finding.why,
                reason=english.phrase(finding.why),
                evidence=finding.evidence,
            )
        )
    order = list(rules.RULES)

    def idle_days(s: Suggestion) -> int:
        # Days without use: since the last use, or since deployment for a unit never used.
        usage = s.evidence["usage"]
        if usage["days_since_use"] is not None:
            return int(usage["days_since_use"])
        if as_of is None or usage["deployed_on"] is None:
            return 0
        since = max(usage["deployed_on"], s.evidence.get("data_from") or "")
        return (as_of - date.fromisoformat(since)).days

    found.sort(key=lambda s: (order.index(s.rule), -idle_days(s), s.sn))
    return found[:limit] if limit else found


def raise_suggestions(
    session: Session, actor: Actor, *, branch_id: int | None = None, limit: int | None = None
) -> list[RecoveryRequest]:
    """Turns every current suggestion in scope (or the `limit` most telling) into a pending
    request."""
    # Checked up front: with nothing to suggest, no request would check it.
    actor.require(Permission.request_recovery)
    # Computed before anything is written (a change the caller has pending, too): on SQLite
    # the write lock is then held for the requests only, not for the rules over every unit.
    with session.no_autoflush:
        found = suggest(session, actor, branch_id=branch_id, limit=limit)
    return [
        raise_request(
            session,
            actor,
            inventory.get_terminal(session, actor, s.terminal_id),
            why=s.why,
            source="rule",
            rule=s.rule,
            evidence=s.evidence,
        )
        for s in found
    ]
