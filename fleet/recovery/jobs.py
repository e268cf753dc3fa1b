"""Recovery jobs: the sweep that keeps requests in step with the units, and the daily count
of approvals waiting too long (recorded in the job run; no message leaves fleet)."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.config import Settings, get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Reason
from fleet.core.jobs import Job, JobResult
from fleet.inventory.models import Branch
from fleet.recovery import completion
from fleet.recovery.models import RecoveryRequest, RequestStatus
from fleet.recovery.service import local_day, today

log = logging.getLogger(__name__)


def sweep(engine: Engine) -> JobResult:
    """Closes requests whose unit moved elsewhere, adopts orphans, cancels used-again ones."""
    # Two short transactions, not one long one: the second's reads do not hold the first's
    # write lock (SQLite), and requests decided meanwhile wait for neither.
    with session_scope(engine) as session:
        counts = completion.sync(session)
    with session_scope(engine) as session:
        counts["used_again"] = len(completion.cancel_if_used_again(session))
    return JobResult(dict(counts))


def overdue(engine: Engine) -> JobResult:
    """Counts pending requests older than recovery_overdue_days, per branch, as a reminder."""
    wait = get_settings().recovery_overdue_days
    limit = today() - timedelta(days=wait)
    with Session(engine) as session:
        rows = session.execute(
            select(RecoveryRequest.id, RecoveryRequest.raised_at, Branch.code)
            .join(Branch, col(Branch.id) == col(RecoveryRequest.branch_id))
            .where(col(RecoveryRequest.status) == RequestStatus.pending)
        ).all()
    late = [(rid, code) for rid, raised_at, code in rows if local_day(raised_at) < limit]
    by_branch = Counter(code for _, code in late)
    message = ", ".join(f"{code}: {n}" for code, n in sorted(by_branch.items()))
    if late:
        log.warning("recovery approvals overdue (> %d days): %s", wait, message)
    return JobResult(
        {"overdue": len(late), "by_branch": dict(by_branch), "ids": [r for r, _ in late][:200]},
        f"{len(late)} pending longer than {wait} days" + (f" ({message})" if message else ""),
    )


def jobs(settings: Settings, engine: Engine) -> list[Job]:
    return [
        Job("recovery.sweep", sweep, settings.job_sweep_schedule, Reason("recovery sweep")),
        Job(
            "recovery.overdue", overdue, settings.job_overdue_schedule, Reason("overdue approvals")
        ),
    ]
