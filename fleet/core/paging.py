"""Lists: filters are the caller's; pagination and sorting are done the same way everywhere."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from fleet.core.errors import Invalid

T = TypeVar("T")
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def fetch_page(
    session: Session,
    stmt: Select[Any],
    *,
    model: Any,
    sort: str | None,
    sortable: set[str],
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """Rows of `stmt` sorted by `sort` ("name" or "-name"), sliced, with the total count."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Invalid("limit must be between 1 and {most}", most=MAX_LIMIT)
    if offset < 0:
        raise Invalid("offset must not be negative")
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    key = (sort or "id").strip()
    descending = key.startswith("-")
    column_name = key.lstrip("-")
    if column_name not in sortable | {"id"}:
        allowed = ", ".join(sorted(sortable | {"id"}))
        raise Invalid(
            "cannot sort by {column}; choose one of {allowed}",
            column=repr(column_name),
            allowed=allowed,
        )
    column = getattr(model, column_name)
    order = column.desc() if descending else column.asc()
    rows = session.execute(stmt.order_by(order, model.id.asc()).limit(limit).offset(offset))
    return list(rows.scalars().all()), int(total)
