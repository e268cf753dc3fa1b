"""Feed API: upload a feed, and the ingest history with every rejected line."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel

from fleet.auth.dependencies import ActorDep
from fleet.core import files
from fleet.core.access import Permission
from fleet.core.db import get_engine
from fleet.core.paging import Page
from fleet.core.requests import SessionDep
from fleet.feeds import coverage, history, service, sources

router = APIRouter()
MAX_FEED_BYTES = 2 << 30


class IngestRunPublic(BaseModel):
    id: int
    source_kind: str
    source: str
    sha256: str | None
    size_bytes: int | None
    encoding: str | None
    format: str | None
    status: str
    started_at: datetime
    finished_at: datetime | None
    received: int
    accepted: int
    duplicate: int
    rejected: int
    actor_name: str
    error: str | None


class RejectedRowPublic(BaseModel):
    line_no: int
    reason: str
    detail: str
    raw: str


@router.post("/ingests", tags=["feeds"])
def upload_feed(
    actor: ActorDep,
    file: Annotated[UploadFile, File(description="CSV or NDJSON, optionally gzipped.")],
    mapping: Annotated[UploadFile | None, File(description="Optional JSON/TOML mapping.")] = None,
) -> dict[str, Any]:
    """Ingests an uploaded feed exactly like `fleet ingest FILE`.

    Answers received / accepted / duplicate / rejected and the run id; the rejected lines
    and their reasons are at `/ingests/{id}/rejects`.
    """
    actor.require(Permission.import_data)
    with files.upload_folder() as folder:
        path = files.save_upload(file, folder, limit=MAX_FEED_BYTES, default_name="feed.csv")
        mapping_path = (
            files.save_upload(mapping, folder, limit=1 << 20, default_name="feed.csv")
            if mapping
            else None
        )
        report = service.ingest_file(
            path,
            actor=actor,
            mapping_path=mapping_path,
            source_kind="upload",
            source_name=file.filename or path.name,
        )
    # A feed taken but failed (all or too many lines refused) says why; its counts stand.
    failure = {"error": report.failure.message} if report.failure else {}
    return report.counts() | {"run_id": report.run_id} | failure


@router.get("/ingests", response_model=Page[IngestRunPublic], tags=["feeds"])
def list_ingests(
    session: SessionDep,
    actor: ActorDep,
    status: str | None = None,
    sort: str | None = "-started_at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[IngestRunPublic]:
    """Ingest history: file or URL, content hash, counts, who and when."""
    rows, total = history.list_runs(
        session, actor, status=status, sort=sort, limit=limit, offset=offset
    )
    return Page(
        items=[IngestRunPublic.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


@router.get("/ingests/{run_id}", response_model=IngestRunPublic, tags=["feeds"])
def get_ingest(session: SessionDep, actor: ActorDep, run_id: int) -> IngestRunPublic:
    """One ingest run."""
    run = history.get_run(session, actor, run_id)
    return IngestRunPublic.model_validate(run, from_attributes=True)


@router.get("/ingests/{run_id}/rejects", tags=["feeds"], response_model=None)
def ingest_rejects(
    session: SessionDep,
    actor: ActorDep,
    run_id: int,
    format: Literal["json", "csv"] = "json",
    reason: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[RejectedRowPublic] | Response:
    """The lines a run refused, with line number, reason and raw text; `format=csv` downloads
    them all."""
    history.get_run(session, actor, run_id)  # 404 outside the caller's scope
    if format == "csv":
        history.require_rejects(session, actor, run_id)
        return StreamingResponse(
            history.rejected_csv(get_engine(), run_id, reason=reason),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ingest-{run_id}-rejects.csv"'},
        )
    rows, total = history.rejected_page(
        session, actor, run_id, reason=reason, limit=limit, offset=offset
    )
    return Page(
        items=[
            RejectedRowPublic(line_no=r.line_no, reason=r.reason.value, detail=r.detail, raw=r.raw)
            for r in rows
        ],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- feed sources ----------------------------------------------------------------------------


@router.get("/feed-sources", response_model=Page[sources.FeedSourcePublic], tags=["feeds"])
def list_feed_sources(
    session: SessionDep,
    actor: ActorDep,
    q: str | None = None,
    enabled: bool | None = None,
    sort: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[sources.FeedSourcePublic]:
    """Registered bank endpoints that fleet pulls on a schedule (auth headers masked)."""
    rows, total = sources.list_sources(
        session, actor, q=q, enabled=enabled, sort=sort, limit=limit, offset=offset
    )
    return Page(items=rows, total=total, limit=limit, offset=offset)


@router.post(
    "/feed-sources", response_model=sources.FeedSourcePublic, status_code=201, tags=["feeds"]
)
def create_feed_source(
    session: SessionDep, actor: ActorDep, data: sources.FeedSourceCreate
) -> sources.FeedSourcePublic:
    """Registers an endpoint: URL, Authorization header, cron schedule (admins only)."""
    return sources.create_source(session, actor, data)


@router.get("/feed-sources/{source_id}", response_model=sources.FeedSourcePublic, tags=["feeds"])
def get_feed_source(
    session: SessionDep, actor: ActorDep, source_id: int
) -> sources.FeedSourcePublic:
    """One feed source."""
    return sources.get_source(session, actor, source_id)


@router.patch("/feed-sources/{source_id}", response_model=sources.FeedSourcePublic, tags=["feeds"])
def update_feed_source(
    session: SessionDep, actor: ActorDep, source_id: int, data: sources.FeedSourceUpdate
) -> sources.FeedSourcePublic:
    """Changes a feed source (admins only)."""
    return sources.update_source(session, actor, source_id, data)


@router.delete("/feed-sources/{source_id}", status_code=204, tags=["feeds"])
def delete_feed_source(session: SessionDep, actor: ActorDep, source_id: int) -> Response:
    """Removes a feed source; its past runs stay in the history (admins only)."""
    sources.delete_source(session, actor, source_id)
    return Response(status_code=204)


@router.post("/feed-sources/{source_id}/pull", tags=["feeds"])
def pull_feed_source(actor: ActorDep, source_id: int) -> dict[str, Any]:
    """Pulls the source now, from its saved cursor, page by page."""
    report = sources.pull_source(get_engine(), actor, source_id)
    # A feed taken but failed (all or too many lines refused) says why; its counts stand.
    failure = {"error": report.failure.message} if report.failure else {}
    return report.counts() | {"run_id": report.run_id} | failure


# --- data coverage -----------------------------------------------------------------------------


class DataCoveragePublic(BaseModel):
    start: date | None  # the fleet's: the earliest source's start
    sources: list[coverage.CoveragePublic]


@router.get("/data-coverage", response_model=DataCoveragePublic, tags=["feeds"])
def get_data_coverage(session: SessionDep, actor: ActorDep) -> DataCoveragePublic:
    """From which day each source's feed is complete (`default`: files, uploads and URLs
    without a registered source), set by an admin or derived from the source's first finished
    ingest. Statuses and reasons count from the later of a unit's deployment and `start`."""
    rows = coverage.list_coverage(session, actor)
    return DataCoveragePublic(start=coverage.start(session), sources=rows)


@router.put("/data-coverage/{source}", response_model=coverage.CoveragePublic, tags=["feeds"])
def set_data_coverage(
    session: SessionDep, actor: ActorDep, source: str, data: coverage.CoverageSet
) -> coverage.CoveragePublic:
    """Sets the first complete day of a source (`default` or a feed source's name; admins
    only). Takes effect at the next scoring."""
    return coverage.set_start(session, actor, source, data.starts_on)


@router.delete("/data-coverage/{source}", status_code=204, tags=["feeds"])
def clear_data_coverage(session: SessionDep, actor: ActorDep, source: str) -> Response:
    """Forgets a source's start: its next finished ingest derives it again (admins only)."""
    coverage.clear(session, actor, source)
    return Response(status_code=204)
