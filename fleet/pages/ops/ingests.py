"""Feed import history: each run's file, hash, counts, who and when; the lines a run refused,
on a page or as a CSV download streamed in chunks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from fleet.auth.browser import PageCallerDep
from fleet.core.db import get_engine
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.feeds import history
from fleet.feeds.models import IngestRun, RejectedRow
from fleet.pages.names import Names
from fleet.pages.ops.common import PAGE_SIZE, offset_of, render_ops, require_ops
from fleet.pages.render import texts_of

router = APIRouter(include_in_schema=False)
REJECTS_PAGE = 50


@router.get("/ingests")
def ingests_page(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    offset = offset_of(request.query_params.get("offset"))
    runs, total = history.list_runs(session, caller.actor, limit=PAGE_SIZE, offset=offset)
    return render_ops(
        request,
        "ops/ingests.html",
        caller,
        title=texts_of(request, caller).gettext("Feed imports"),
        page=Page[IngestRun](items=runs, total=total, limit=PAGE_SIZE, offset=offset),
        names=Names(session).know(people=[r.actor_name for r in runs]),
    )


@router.get("/ingests/{run_id}")
def ingest_page(
    request: Request, caller: PageCallerDep, session: SessionDep, run_id: int
) -> Response:
    require_ops(request, caller)
    run = history.get_run(session, caller.actor, run_id)
    offset = offset_of(request.query_params.get("offset"))
    rows, total = history.rejected_page(
        session, caller.actor, run_id, limit=REJECTS_PAGE, offset=offset
    )
    return render_ops(
        request,
        "ops/ingest.html",
        caller,
        title=texts_of(request, caller).gettext("Feed import #{id}", id=run_id),
        run=run,
        rejects_hidden=not history.may_see_rejects(session, caller.actor, run_id),
        names=Names(session),
        page=Page[RejectedRow](items=rows, total=total, limit=REJECTS_PAGE, offset=offset),
    )


@router.get("/ingests/{run_id}/rejects.csv")
def rejects_csv(
    request: Request, caller: PageCallerDep, session: SessionDep, run_id: int
) -> Response:
    """Every refused line of a run (line number, reason, detail, raw text), streamed."""
    require_ops(request, caller)
    history.get_run(session, caller.actor, run_id)  # 404 outside the user's scope
    history.require_rejects(session, caller.actor, run_id)
    return StreamingResponse(
        history.rejected_csv(get_engine(), run_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="ingest-{run_id}-rejects.csv"'},
    )
