"""The audit log, read-only, for branch operations and admins (the query is core.audit's)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from fleet.auth.dependencies import ActorDep
from fleet.core import audit
from fleet.core.paging import Page
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
    rows, total = audit.list_entries(
        session,
        actor,
        entity=entity,
        entity_id=entity_id,
        actor_name=actor_name,
        since=since,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return Page(
        items=[AuditEntryPublic.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )
