"""Feed sources: the bank endpoints fleet pulls on a schedule. Admins write, operations read.

The auth header is a secret: it is stored as given, sent as `Authorization`, and shown,
returned and audited only masked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from apscheduler.triggers.cron import CronTrigger
from pydantic import field_validator
from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import separate_transaction
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.paging import fetch_page
from fleet.feeds.models import FeedSource, IngestRun
from fleet.feeds.pull import ingest_url
from fleet.feeds.service import IngestReport

# Written by admins only: the same permission that guards the branch tree.
WRITE = Permission.write_branches
READ = Permission.import_data
_NUMERIC_WEEKDAY = re.compile(r"\d")

# --- schemas ----------------------------------------------------------------------------------


def cron_trigger(schedule: str) -> CronTrigger:
    """The APScheduler trigger for a 5-field cron line, in the feed's timezone."""
    fields = schedule.split()
    # APScheduler counts weekdays from Monday = 0, cron from Sunday = 0: a number would
    # silently move the pull by a day, so only names are taken.
    if len(fields) == 5 and _NUMERIC_WEEKDAY.search(fields[4]):
        raise ValueError(
            f"day of week {fields[4]!r}: use names (mon, tue, … sun), not numbers, "
            "which cron and the scheduler count differently"
        )
    return CronTrigger.from_crontab(schedule, timezone=get_settings().feed_timezone)


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parsed = httpx.URL(value.strip())
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError("must be an http:// or https:// URL")
    return value.strip()


def _check_schedule(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    cron_trigger(value)  # raises ValueError with the field at fault
    return value


def mask_header(header: str | None) -> str | None:
    """'Bearer ****abcd': the scheme, and the last 4 characters of a long enough secret."""
    if not header:
        return header
    head, space, rest = header.strip().partition(" ")
    # Only a word like Bearer or Basic is shown whole; anything else is secret.
    scheme, secret = (
        (head, rest.strip()) if space and head.isalpha() and len(head) <= 20 else ("", header)
    )
    if secret.startswith("****"):  # already masked
        return header
    tail = secret[-4:] if len(secret) >= 12 else ""
    return f"{scheme} ****{tail}" if scheme else f"****{tail}"


class FeedSourceBase(SQLModel):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=1, max_length=500)
    schedule: str = Field(default="0 2 * * *", max_length=100)  # cron, in the feed's timezone
    page_size: int = Field(default=1000, ge=1, le=10_000)
    enabled: bool = True


class FeedSourceCreate(FeedSourceBase):
    auth_header: str | None = Field(default=None, max_length=500)

    _url = field_validator("url")(_check_url)
    _schedule = field_validator("schedule")(_check_schedule)


class FeedSourceUpdate(SQLModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, min_length=1, max_length=500)
    # A new value replaces the secret; null removes it.
    auth_header: str | None = Field(default=None, max_length=500)
    schedule: str | None = Field(default=None, max_length=100)
    page_size: int | None = Field(default=None, ge=1, le=10_000)
    enabled: bool | None = None
    # Null starts the next pull from the first page again.
    cursor: str | None = Field(default=None, max_length=500)

    _url = field_validator("url")(_check_url)
    _schedule = field_validator("schedule")(_check_schedule)


class FeedSourcePublic(FeedSourceBase):
    id: int
    auth_header: str | None = None  # masked
    cursor: str | None = None
    last_run_at: datetime | None = None
    last_status: str | None = None
    created_at: datetime
    updated_at: datetime

    @field_validator("auth_header", mode="before")
    @classmethod
    def _masked(cls, value: str | None) -> str | None:
        return mask_header(value)


def public(source: FeedSource) -> FeedSourcePublic:
    """The source as shown to users: the auth header masked."""
    return FeedSourcePublic.model_validate(source, from_attributes=True)


# --- service ----------------------------------------------------------------------------------


def _get(session: Session, source_id: int) -> FeedSource:
    source = session.get(FeedSource, source_id)
    if source is None:
        raise NotFound("feed source {source_id} not found", source_id=source_id)
    return source


def _name_taken(session: Session, name: str, but: int | None = None) -> bool:
    stmt = select(FeedSource.id).where(col(FeedSource.name) == name)
    if but is not None:
        stmt = stmt.where(col(FeedSource.id) != but)
    return session.execute(stmt).first() is not None


def _masked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Audit values with the auth header masked: the log must never hold the secret."""
    if "auth_header" not in changes:
        return changes
    value = changes["auth_header"]
    masked = [mask_header(v) for v in value] if isinstance(value, list) else mask_header(value)
    return changes | {"auth_header": masked}


def create_source(session: Session, actor: Actor, data: FeedSourceCreate) -> FeedSourcePublic:
    """Registers a feed source (admin only)."""
    actor.require(WRITE)
    if _name_taken(session, data.name):
        raise Conflict("feed source {name} already exists", name=data.name)
    source = FeedSource(**data.model_dump())
    session.add(source)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        entity="feed_source",
        entity_id=source.name,
        changes=_masked_changes(data.model_dump()),
    )
    return public(source)


def get_source(session: Session, actor: Actor, source_id: int) -> FeedSourcePublic:
    """One feed source, its auth header masked."""
    actor.require(READ)
    return public(_get(session, source_id))


def list_sources(
    session: Session,
    actor: Actor,
    *,
    q: str | None = None,
    enabled: bool | None = None,
    sort: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[FeedSourcePublic], int]:
    """Feed sources matching `q` (name or URL), with the total; auth headers masked."""
    actor.require(READ)
    stmt = select(FeedSource)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(col(FeedSource.name).ilike(pattern), col(FeedSource.url).ilike(pattern))
        )
    if enabled is not None:
        stmt = stmt.where(col(FeedSource.enabled) == enabled)
    rows, total = fetch_page(
        session,
        stmt,
        model=FeedSource,
        sort=sort,
        sortable={"name", "last_run_at", "created_at"},
        limit=limit,
        offset=offset,
    )
    return [public(r) for r in rows], total


def update_source(
    session: Session, actor: Actor, source_id: int, data: FeedSourceUpdate
) -> FeedSourcePublic:
    """Changes a feed source (admin only); a new URL starts again from its first page."""
    actor.require(WRITE)
    source = _get(session, source_id)
    updates = data.model_dump(exclude_unset=True)
    for key in ("name", "url", "schedule", "page_size", "enabled"):
        if key in updates and updates[key] is None:
            raise Invalid("{field} cannot be empty", field=key)
    if "name" in updates and _name_taken(session, updates["name"], but=source.id):
        raise Conflict("feed source {name} already exists", name=updates["name"])
    if "url" in updates and updates["url"] != source.url and "cursor" not in updates:
        updates["cursor"] = None  # a cursor means nothing to another endpoint
    audit.apply_update(
        session,
        actor=actor,
        obj=source,
        updates=updates,
        entity="feed_source",
        key=source.name,
        shown=_masked_changes,
    )
    return public(source)


def delete_source(session: Session, actor: Actor, source_id: int) -> None:
    """Removes a feed source (admin only); its past runs stay, no longer linked to it."""
    actor.require(WRITE)
    source = _get(session, source_id)
    detached = session.execute(
        update(IngestRun)
        .where(col(IngestRun.feed_source_id) == source.id)
        .values(feed_source_id=None)
    ).rowcount  # type: ignore[attr-defined]
    session.delete(source)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="delete",
        entity="feed_source",
        entity_id=source.name,
        changes={"url": source.url, "runs_detached": detached},
    )


def pull_source(
    db: Session | Engine,
    actor: Actor,
    source_id: int,
    *,
    rejects_path: Path | None = None,
    mapping_path: Path | None = None,
    resume: bool = True,
    client: httpx.Client | None = None,
    retries: int = 5,
    backoff: float = 0.5,
    timeout: float = 30.0,
    progress: Callable[[int], object] | None = None,
) -> IngestReport:
    """Pulls a registered source from its saved cursor; commits page by page on its own.

    Given a session, it must have nothing uncommitted: the pull writes on other connections.
    """
    actor.require(READ)
    if isinstance(db, Session):
        source = _get(db, source_id)
        engine = db.get_bind().engine
    else:
        engine = db
        with separate_transaction(engine) as session:
            source = _get(session, source_id)
    if not source.enabled:
        raise Invalid("feed source {name} is disabled; enable it to pull", name=source.name)
    url, auth_header, page_size = source.url, source.auth_header, source.page_size
    try:
        return ingest_url(
            url,
            actor=actor,
            rejects_path=rejects_path,
            mapping_path=mapping_path,
            auth_header=auth_header,
            page_size=page_size,
            feed_source_id=source_id,
            resume=resume,
            engine=engine,
            client=client,
            retries=retries,
            backoff=backoff,
            timeout=timeout,
            progress=progress,
        )
    finally:
        if isinstance(db, Session):
            db.expire(source)  # the pull moved its cursor and status on another connection
