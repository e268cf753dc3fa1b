"""Pulls transactions from a paged JSON endpoint, page by page, each page in its own transaction.

Protocol: GET `{url}?cursor=<c>&limit=<n>` (no cursor on the very first page) answers
`{"items": [...], "next_cursor": "..." | null}`; items carry the file feed's fields. A page,
its counts and the cursor after it are committed together, so a crash or kill between pages
keeps exactly the pages taken and the place to resume from; a re-run takes the rest, and
what it sees again is counted as duplicate.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import polars as pl
from sqlalchemy import Connection, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import get_engine, separate_transaction, utcnow
from fleet.core.errors import FleetError, Invalid, NotFound, Unavailable
from fleet.feeds import service, store
from fleet.feeds.formats import Mapping
from fleet.feeds.models import FeedSource, IngestRun, RunStatus
from fleet.feeds.service import Batch, IngestReport, Rejects
from fleet.feeds.validate import records_frame

MAX_CURSOR = 500  # the width of ingest_run.cursor and feed_source.cursor
MAX_DELAY = 30.0  # seconds; the cap on one backoff wait
RETRY_STATUS = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def ingest_url(
    url: str,
    *,
    actor: Actor,
    rejects_path: Path | None = None,
    mapping_path: Path | None = None,
    auth_header: str | None = None,
    page_size: int = 1000,
    feed_source_id: int | None = None,
    resume: bool = True,
    engine: Engine | None = None,
    client: httpx.Client | None = None,
    retries: int = 5,
    backoff: float = 0.5,
    timeout: float = 30.0,
    progress: Callable[[int], object] | None = None,
    max_rejected_share: float | None = None,
) -> IngestReport:
    """Pulls every page of a paged JSON feed, committing each page with the cursor after it.

    Where it starts, when `resume` is true: a registered source (`feed_source_id`) starts at
    the source's saved cursor, which only ever advances, so a nightly pull takes only the new
    pages. A plain URL resumes from the cursor of its latest earlier run when that run did not
    succeed (failed, interrupted, or left running by a dead process); after a run that
    succeeded it starts again from the first page. With `resume=False` it always starts from
    the first page. `retries` is the number of attempts per page; waits double from `backoff`.
    """
    actor.require(Permission.import_data)
    _check_options(url, page_size, retries)
    engine = engine or get_engine()
    settings = get_settings()
    if max_rejected_share is None:
        max_rejected_share = settings.feed_max_rejected_share
    mapping = Mapping.load(mapping_path)
    started = time.perf_counter()
    if feed_source_id is not None:
        _require_source(engine, feed_source_id)
    run_id = service._start_run(
        engine, actor, kind="url", source=url, feed_source_id=feed_source_id
    )
    report = IngestReport(run_id=run_id, rejects_path=str(rejects_path) if rejects_path else None)
    rejects: Rejects | None = None
    own_client = client is None
    http = client or httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), follow_redirects=True
    )
    headers = {"Accept": "application/json"}
    if auth_header:
        headers["Authorization"] = auth_header
    try:
        rejects = Rejects(rejects_path)
        position = _start_cursor(engine, run_id, url, feed_source_id) if resume else None
        _save_start(engine, run_id, position)
        with engine.connect() as conn:
            ctx = store.load_context(conn, settings, mapping)
        seen: set[str | None] = {position}
        while True:
            params = {"limit": str(page_size)} | ({"cursor": position} if position else {})
            page = _fetch(http, url, params, headers, retries=retries, backoff=backoff)
            # null ends the feed; the same cursor again means "nothing newer yet". Either way
            # the cursor kept is one the server will answer, so the next pull picks up there.
            done = page.next_cursor is None or page.next_cursor == position
            after = position if page.next_cursor is None else page.next_cursor
            first = report.received + 1
            with separate_transaction(engine) as own:
                conn = own.connection()
                # The placements are read once; `now` moves on, for a pull that takes hours.
                batch = Batch(conn, report, replace(ctx, now=datetime.now(UTC)), settings, rejects)
                _take(batch, page.items, first)
                _save_position(
                    conn, report, after, feed_source_id, done=done, max_share=max_rejected_share
                )
            if progress:
                progress(report.received)
            if done:
                break
            if after in seen:  # a server that cycles would be pulled forever
                raise Invalid(
                    "not a paged feed: next_cursor {cursor} came back again", cursor=repr(after)
                )
            seen.add(after)
            position = after
    except FleetError as exc:
        _fail(engine, run_id, exc.message, feed_source_id)
        raise
    except Exception as exc:
        _fail(engine, run_id, f"{type(exc).__name__}: {exc}", feed_source_id)
        raise
    except BaseException:
        _fail(engine, run_id, "stopped", feed_source_id, status=RunStatus.interrupted)
        raise
    finally:
        if rejects:
            rejects.close()
        if own_client:
            http.close()
    report.seconds = time.perf_counter() - started
    return report


def _check_options(url: str, page_size: int, retries: int) -> None:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise Invalid("feed URL {url} is not a URL: {problem}", url=repr(url), problem=exc) from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise Invalid("feed URL {url} is not an http(s) URL", url=repr(url))
    if page_size < 1:
        raise Invalid("page size must be at least 1")
    if retries < 1:
        raise Invalid("retries must be at least 1 (the number of attempts per page)")


def _require_source(engine: Engine, source_id: int) -> None:
    with Session(engine) as session:
        if session.get(FeedSource, source_id) is None:
            raise NotFound("feed source {source_id} not found", source_id=source_id)


def _start_cursor(engine: Engine, run_id: int, url: str, feed_source_id: int | None) -> str | None:
    """Where to resume: the source's cursor, or that of an unfinished earlier run of the URL."""
    with Session(engine) as session:
        if feed_source_id is not None:
            source = session.get(FeedSource, feed_source_id)
            return source.cursor if source else None
        latest = session.execute(
            select(IngestRun)
            .where(
                col(IngestRun.source_kind) == "url",
                col(IngestRun.source) == url[:500],
                col(IngestRun.feed_source_id).is_(None),
                col(IngestRun.id) != run_id,
            )
            .order_by(col(IngestRun.id).desc())
            .limit(1)
        ).scalar_one_or_none()
    if latest is None or latest.status == RunStatus.succeeded:
        return None
    return latest.cursor


def _save_start(engine: Engine, run_id: int, cursor: str | None) -> None:
    # A run that fails before its first page still names where it started, so the run
    # after it resumes from there and not from the beginning.
    if cursor is None:
        return
    with separate_transaction(engine) as own:
        conn = own.connection()
        conn.execute(update(IngestRun).where(col(IngestRun.id) == run_id).values(cursor=cursor))


def _fetch(
    client: httpx.Client,
    url: str,
    params: dict[str, str],
    headers: dict[str, str],
    *,
    retries: int,
    backoff: float,
) -> Page:
    """One page, retrying connection errors, timeouts, 429 and 5xx with exponential backoff."""
    problem = ""
    for attempt in range(retries):
        wait = min(backoff * 2**attempt, MAX_DELAY)
        try:
            response = client.get(url, params=params, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, closed early, timed out
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        else:
            status = response.status_code
            if 200 <= status < 300:
                return _parse(url, response)
            if status not in RETRY_STATUS and status < 500:
                raise Invalid(
                    "feed endpoint {url} answered HTTP {status}: {body}",
                    url=url,
                    status=status,
                    body=_excerpt(response.text),
                )
            problem = f"HTTP {status} {_excerpt(response.text, 100)}".rstrip()
            wait = max(wait, _retry_after(response))
        if attempt + 1 < retries:
            time.sleep(wait)
    raise Unavailable(
        "feed endpoint {url} unreachable after {retries} attempts: {problem}",
        url=url,
        retries=retries,
        problem=problem,
    )


def _retry_after(response: httpx.Response) -> float:
    """The server's own Retry-After in seconds (capped), or 0."""
    try:
        return min(float(response.headers.get("Retry-After", "0")), MAX_DELAY)
    except ValueError:
        return 0.0


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _parse(url: str, response: httpx.Response) -> Page:
    try:
        # Decimal text stays text ("12.50"), so an amount keeps its exact digits.
        body = json.loads(response.content, parse_float=str)
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise Invalid(
            "not a paged feed: {url} answered {kind}, not JSON: {body}",
            url=url,
            kind=kind,
            body=_excerpt(response.text, 100),
        ) from None
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise Invalid("not a paged feed: {url} answered JSON without an 'items' list", url=url)
    cursor = body.get("next_cursor")
    if cursor is not None and not isinstance(cursor, str | int):
        raise Invalid(
            "not a paged feed: next_cursor is {kind}, not text", kind=type(cursor).__name__
        )
    if cursor is not None and len(str(cursor)) > MAX_CURSOR:
        raise Invalid(
            "not a paged feed: next_cursor is longer than {most} characters", most=MAX_CURSOR
        )
    # An empty cursor would read as "no cursor": the first page again, so it ends the feed too.
    return Page(items=body["items"], next_cursor=None if cursor in (None, "") else str(cursor))


def _take(batch: Batch, items: list[Any], first: int) -> None:
    """Checks and stores one page; line numbers are positions in the whole pull."""
    if not items:
        return
    raw = pl.Series("raw", [json.dumps(item, ensure_ascii=False) for item in items])
    numbers = pl.int_range(first, first + len(items), dtype=pl.Int64, eager=True)
    batch.take(records_frame(items), numbers, raw)


def _save_position(
    conn: Connection,
    report: IngestReport,
    cursor: str | None,
    feed_source_id: int | None,
    *,
    done: bool,
    max_share: float,
) -> None:
    """The run's counts and cursor (and the source's), in the page's own transaction."""
    if done:
        service._finish(conn, report, max_share, cursor=cursor)
    else:
        conn.execute(
            update(IngestRun)
            .where(col(IngestRun.id) == report.run_id)
            .values(
                cursor=cursor,
                received=report.received,
                accepted=report.accepted,
                duplicate=report.duplicate,
                rejected=report.rejected,
                rejects_path=report.rejects_path,
            )
        )
    if feed_source_id is not None:
        values: dict[str, Any] = {"cursor": cursor}
        if done:
            status = RunStatus.failed if report.failure else RunStatus.succeeded
            values |= {"last_run_at": utcnow(), "last_status": status.value}
        conn.execute(update(FeedSource).where(col(FeedSource.id) == feed_source_id).values(values))


def _fail(
    engine: Engine,
    run_id: int,
    error: str,
    feed_source_id: int | None,
    *,
    status: RunStatus = RunStatus.failed,
) -> None:
    """Ends the run as failed (or interrupted); the pages already committed stay."""
    error = f"{error[:800]}; the pages taken before this were kept, to resume after"
    service._fail_run(engine, run_id, error)
    with separate_transaction(engine) as own:
        conn = own.connection()
        if status is not RunStatus.failed:
            conn.execute(update(IngestRun).where(col(IngestRun.id) == run_id).values(status=status))
        if feed_source_id is not None:
            conn.execute(
                update(FeedSource)
                .where(col(FeedSource.id) == feed_source_id)
                .values(last_run_at=utcnow(), last_status=status.value)
            )
