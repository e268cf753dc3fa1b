"""Ingest history: the runs an actor may see, one run, and the lines it refused (a page of
them, or all of them in chunks for a download that never holds the whole list)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core import sheets
from fleet.core.access import Actor, Permission
from fleet.core.db import separate_transaction
from fleet.core.errors import Forbidden, NotFound
from fleet.core.paging import fetch_page
from fleet.feeds.models import IngestRun, IngestRunBranch, RejectedRow

CHUNK = 1000


def _started_in_scope(actor: Actor) -> Any:
    assert actor.branch_ids is not None
    starters = select(User.id).where(col(User.branch_id).in_(actor.branch_ids))
    return col(IngestRun.actor_id).in_(starters)


def scoped_runs(stmt: Any, actor: Actor) -> Any:
    """Runs in the actor's scope: an admin sees all; others the runs that users of their
    subtree started, and the runs (an admin's upload, a nightly pull) that accepted
    transactions for their subtree's units, as recorded at ingest time."""
    if actor.branch_ids is None:
        return stmt
    touched = select(IngestRunBranch.ingest_id).where(
        col(IngestRunBranch.branch_id).in_(actor.branch_ids)
    )
    return stmt.where(_started_in_scope(actor) | col(IngestRun.id).in_(touched))


def may_see_rejects(session: Session, actor: Actor, run_id: int) -> bool:
    """Whether the actor may read a run's refused lines: an admin, or the run was started in
    their subtree. A run seen only because it touched their units keeps its refused lines
    (which carry other branches' units and raw text) to itself; its counts stand."""
    if actor.branch_ids is None:
        return True
    stmt = select(IngestRun.id).where(col(IngestRun.id) == run_id, _started_in_scope(actor))
    return session.execute(stmt).first() is not None


def require_rejects(session: Session, actor: Actor, run_id: int) -> None:
    """Forbidden when the actor sees the run but not its refused lines (`may_see_rejects`)."""
    if not may_see_rejects(session, actor, run_id):
        raise Forbidden(
            "the lines ingest run {run_id} refused are shown only to admins and to the "
            "branch that started it",
            run_id=run_id,
        )


def get_run(session: Session, actor: Actor, run_id: int) -> IngestRun:
    """One run; 404 when missing or outside the actor's scope."""
    actor.require(Permission.import_data)
    stmt = scoped_runs(select(IngestRun).where(col(IngestRun.id) == run_id), actor)
    run = session.execute(stmt).scalar_one_or_none()
    if run is None:
        raise NotFound("ingest run {run_id} not found", run_id=run_id)
    return run


def list_runs(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    sort: str | None = "-started_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[IngestRun], int]:
    """The runs in scope, newest first by default."""
    actor.require(Permission.import_data)
    stmt = scoped_runs(select(IngestRun), actor)
    if status:
        stmt = stmt.where(col(IngestRun.status) == status)
    return fetch_page(
        session,
        stmt,
        model=IngestRun,
        sort=sort,
        sortable={"started_at", "status"},
        limit=limit,
        offset=offset,
    )


def _rejected(run_id: int, reason: str | None) -> Any:
    stmt = select(RejectedRow).where(col(RejectedRow.ingest_id) == run_id)
    return stmt.where(col(RejectedRow.reason) == reason) if reason else stmt


def rejected_page(
    session: Session,
    actor: Actor,
    run_id: int,
    *,
    reason: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[RejectedRow], int]:
    """A page of the lines a run refused, by line number; none for a run the actor sees only
    because it touched their units (`may_see_rejects`)."""
    get_run(session, actor, run_id)
    if not may_see_rejects(session, actor, run_id):
        return [], 0
    return fetch_page(
        session,
        _rejected(run_id, reason),
        model=RejectedRow,
        sort="line_no",
        sortable={"line_no"},
        limit=limit,
        offset=offset,
    )


def iter_rejected(
    engine: Engine, run_id: int, *, reason: str | None = None, chunk: int = CHUNK
) -> Iterator[list[RejectedRow]]:
    """All refused lines of a run (already checked to be in scope), `chunk` at a time, each
    chunk read in its own short transaction (keyset on line number and id)."""
    after: tuple[int, int] = (-1, -1)
    while True:
        with separate_transaction(engine) as session:
            stmt = _rejected(run_id, reason).where(
                (col(RejectedRow.line_no) > after[0])
                | ((col(RejectedRow.line_no) == after[0]) & (col(RejectedRow.id) > after[1]))
            )
            rows = list(
                session.execute(
                    stmt.order_by(col(RejectedRow.line_no), col(RejectedRow.id)).limit(chunk)
                ).scalars()
            )
            session.expunge_all()
        if not rows:
            return
        yield rows
        after = (rows[-1].line_no, rows[-1].id or 0)
        if len(rows) < chunk:
            return


def rejected_csv(engine: Engine, run_id: int, *, reason: str | None = None) -> Iterator[bytes]:
    """The refused lines of a run (already checked to be in scope) as CSV, chunk by chunk:
    line, reason, detail, raw. Starts with a BOM, so that Excel reads it as UTF-8."""
    buffer = io.StringIO()
    writer = sheets.csv_writer(buffer)
    writer.writerow(["line", "reason", "detail", "raw"])
    yield ("\ufeff" + buffer.getvalue()).encode()
    for chunk in iter_rejected(engine, run_id, reason=reason):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([r.line_no, r.reason.value, r.detail, r.raw] for r in chunk)
        yield buffer.getvalue().encode()
