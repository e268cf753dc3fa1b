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
from fleet.core.errors import NotFound
from fleet.core.paging import fetch_page
from fleet.feeds.models import IngestRun, RejectedRow

CHUNK = 1000


def scoped_runs(stmt: Any, actor: Actor) -> Any:
    """Runs in the actor's scope: an admin sees all; others the runs that users of their
    subtree started (a nightly pull, started by nobody, is the admins'), since rejected lines
    carry other branches' terminals."""
    if actor.branch_ids is None:
        return stmt
    starters = select(User.id).where(col(User.branch_id).in_(actor.branch_ids))
    return stmt.where(col(IngestRun.actor_id).in_(starters))


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
    """A page of the lines a run refused, by line number."""
    get_run(session, actor, run_id)
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
