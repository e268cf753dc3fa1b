"""Recovery KPIs by branch and month: requests raised, approved, rejected, recovered and
redeployed; median days from request to recovery and from recovery to redeployment; and the
units in stock now, with how long they have waited."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import median

from sqlmodel import Session, SQLModel, col, select

from fleet.core.access import Actor, Permission
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch, Terminal, TerminalState
from fleet.recovery.models import RecoveryRequest
from fleet.recovery.service import local_day, today
from fleet.scoring import service as scoring


class RecoveryKpiRow(SQLModel):
    branch_code: str
    month: str  # YYYY-MM, by the local day each thing happened
    raised: int = 0
    raised_by_rules: int = 0
    approved: int = 0
    rejected: int = 0
    recovered: int = 0
    redeployed: int = 0
    median_days_to_recovery: float | None = None
    median_days_to_redeploy: float | None = None


class StockRow(SQLModel):
    branch_code: str
    units: int
    median_days: float | None
    max_days: int | None


class RecoveryKpis(SQLModel):
    rows: list[RecoveryKpiRow]
    stock: list[StockRow]


def _month(at: datetime) -> str:
    return local_day(at).strftime("%Y-%m")


def recovery_kpis(session: Session, actor: Actor, *, branch_id: int | None = None) -> RecoveryKpis:
    """The counts and medians per owning branch and month, and the stock now, in scope."""
    actor.require(Permission.read_inventory)
    branch_ids = scoring.scope_branch_ids(session, actor, branch_id)
    stmt = select(RecoveryRequest)
    if branch_ids is not None:
        stmt = stmt.where(col(RecoveryRequest.branch_id).in_(branch_ids))
    requests = list(session.execute(stmt).scalars())
    stock_stmt = select(Terminal).where(col(Terminal.state) == TerminalState.in_stock)
    if branch_ids is not None:
        stock_stmt = stock_stmt.where(col(Terminal.branch_id).in_(branch_ids))
    stock = list(session.execute(stock_stmt).scalars())
    codes = inventory.codes(
        session, Branch, {r.branch_id for r in requests} | {t.branch_id for t in stock}
    )

    rows: dict[tuple[str, str], RecoveryKpiRow] = {}
    to_recovery: dict[tuple[str, str], list[int]] = defaultdict(list)
    to_redeploy: dict[tuple[str, str], list[int]] = defaultdict(list)

    def row(r: RecoveryRequest, at: datetime) -> RecoveryKpiRow:
        key = (codes.get(r.branch_id, "?"), _month(at))
        return rows.setdefault(key, RecoveryKpiRow(branch_code=key[0], month=key[1]))

    for r in requests:
        raised = row(r, r.raised_at)
        raised.raised += 1
        raised.raised_by_rules += r.source == "rule"
        if r.decided_at is not None and r.decision == "approved":
            row(r, r.decided_at).approved += 1
        if r.decided_at is not None and r.decision == "rejected":
            row(r, r.decided_at).rejected += 1
        if r.completed_at is not None:
            row(r, r.completed_at).recovered += 1
            days = (local_day(r.completed_at) - local_day(r.raised_at)).days
            to_recovery[(codes.get(r.branch_id, "?"), _month(r.completed_at))].append(days)
        if r.redeployed_at is not None and r.completed_at is not None:
            row(r, r.redeployed_at).redeployed += 1
            days = (local_day(r.redeployed_at) - local_day(r.completed_at)).days
            to_redeploy[(codes.get(r.branch_id, "?"), _month(r.redeployed_at))].append(days)
    for key, entry in rows.items():
        if to_recovery.get(key):
            entry.median_days_to_recovery = float(median(to_recovery[key]))
        if to_redeploy.get(key):
            entry.median_days_to_redeploy = float(median(to_redeploy[key]))

    day = today()
    waits: dict[str, list[int]] = defaultdict(list)
    for t in stock:
        waits[codes.get(t.branch_id, "?")].append((day - local_day(t.state_since)).days)
    return RecoveryKpis(
        rows=sorted(rows.values(), key=lambda r: (r.branch_code, r.month)),
        stock=[
            StockRow(
                branch_code=code,
                units=len(days),
                median_days=float(median(days)) if days else None,
                max_days=max(days) if days else None,
            )
            for code, days in sorted(waits.items())
        ],
    )
