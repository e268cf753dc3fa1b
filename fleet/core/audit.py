"""The audit log: one row for every write, with who, when, what and the changed values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, SQLModel, select

from fleet.core.access import Actor, Permission
from fleet.core.db import UTCDateTime, utcnow
from fleet.core.errors import Invalid
from fleet.core.paging import fetch_page


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    actor_name: str = Field(max_length=100)
    action: str = Field(max_length=40)
    entity: str = Field(max_length=40, index=True)
    entity_id: str = Field(max_length=100, index=True)
    branch_id: int | None = Field(default=None, foreign_key="branch.id", index=True)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


def _jsonable(value: Any) -> Any:
    """`value` as the JSON column holds it: datetimes as ISO text (as always), enums by their
    value, and anything else pydantic can say in JSON (dates, decimals, lists of those)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return to_jsonable_python(value)


def record(
    session: Session,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    branch_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Adds an audit entry to the current unit of work."""
    entry = AuditEntry(
        actor_id=actor.user_id,
        actor_name=actor.username,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        branch_id=branch_id,
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
    )
    session.add(entry)
    return entry


def diff(obj: SQLModel, updates: dict[str, Any]) -> dict[str, Any]:
    """Applies `updates` to `obj` and returns {field: [old, new]} for the fields that changed."""
    changed: dict[str, Any] = {}
    columns = obj.__table__.columns  # type: ignore[attr-defined]
    for key, new in updates.items():
        if new is None and key in columns and not columns[key].nullable:
            # An explicit null for a field the record cannot be without: the caller's mistake.
            raise Invalid("{field} cannot be empty", field=key)
        old = getattr(obj, key)
        if old != new:
            changed[key] = [_jsonable(old), _jsonable(new)]
            setattr(obj, key, new)
    return changed


def apply_update(
    session: Session,
    *,
    actor: Actor,
    obj: SQLModel,
    updates: dict[str, Any],
    entity: str,
    key: str,
    branch_id: int | None = None,
    shown: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Applies `updates`; when anything changed, stamps updated_at, flushes and audits it.

    `shown` turns the changes into what the audit log may hold (e.g. secrets masked).
    """
    changed = diff(obj, updates)
    if changed:
        obj.updated_at = utcnow()
        session.add(obj)
        session.flush()
        record(
            session,
            actor=actor,
            action="update",
            entity=entity,
            entity_id=key,
            branch_id=branch_id,
            changes=shown(changed) if shown else changed,
        )
    return changed


def list_entries(
    session: Session,
    actor: Actor,
    *,
    entity: str | None = None,
    entity_id: str | None = None,
    actor_name: str | None = None,
    since: datetime | None = None,
    sort: str | None = "-at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """Every write in the actor's subtree, filtered: (one page of entries, their total)."""
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
    return fetch_page(
        session,
        stmt,
        model=AuditEntry,
        sort=sort,
        sortable={"at", "entity", "action"},
        limit=limit,
        offset=offset,
    )
