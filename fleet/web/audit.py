"""The audit log, read-only, for branch operations and admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlmodel import select

from fleet.auth.dependencies import ActorDep
from fleet.core.access import Permission
from fleet.core.audit import AuditEntry
from fleet.core.paging import Page, fetch_page
from fleet.core.requests import SessionDep

router = APIRouter()


class AuditEntryPublic(BaseModel):
    id: int
    at: datetime
    actor_name: str
    action: str
    entity: str
    entity_id: str
    branch_id: int | None
    changes: dict[str, Any]


@router.get("/audit", response_model=Page[AuditEntryPublic], tags=["audit"])
def list_audit(
    session: SessionDep,
    actor: ActorDep,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    sort: str | None = "-at",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AuditEntryPublic]:
    """Every write in your subtree: who, when, what, and the values before and after."""
    actor.require(Permission.read_audit)
    stmt = select(AuditEntry)
    if actor.branch_ids is not None:
        stmt = stmt.where(AuditEntry.branch_id.in_(actor.branch_ids))  # type: ignore[union-attr]
    for column, value in (
        (AuditEntry.entity, entity),
        (AuditEntry.entity_id, entity_id),
        (AuditEntry.actor_name, actor_name),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    rows, total = fetch_page(
        session,
        stmt,
        model=AuditEntry,
        sort=sort,
        sortable={"at", "entity", "action"},
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
