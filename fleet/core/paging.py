"""Lists: filters are the caller's; pagination and sorting are done the same way everywhere.

A list that shows fewer than it has says so, everywhere: the API's pages carry `total` and
`shown`, the command line heads a cut list "20 of 380 …" and says how to see the rest
(`counted`, `--all`), the pages say "显示 20 / 共 380" with a way on (the `pager` and
`shown_of` macros). `cut` makes the Page of a list that was computed whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from fastapi import Response
from pydantic import BaseModel, computed_field
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

    @computed_field  # type: ignore[prop-decorator]
    @property
    def shown(self) -> int:
        """How many items this page holds (fewer than `total` when the list goes on)."""
        return len(self.items)

    @property
    def is_cut(self) -> bool:
        return self.offset > 0 or len(self.items) < self.total


def cut(rows: Sequence[T], limit: int | None, offset: int = 0) -> Page[T]:
    """`limit` items of `rows` from `offset` (every one when `limit` is None), with the total."""
    shown = list(rows[offset : offset + limit] if limit is not None else rows[offset:])
    return Page[T](items=shown, total=len(rows), limit=limit or len(rows), offset=offset)


# A list the API answers as a plain JSON array (kept so for the clients that read it) says
# how many there are in these headers when it is cut.
TOTAL_HEADER, SHOWN_HEADER = "X-Total-Count", "X-Shown-Count"


# For the routes that answer so (`responses=COUNTED`): the OpenAPI schema documents the headers.
COUNTED: dict[int | str, dict[str, Any]] = {
    200: {
        "headers": {
            TOTAL_HEADER: {
                "description": "How many items there are in all.",
                "schema": {"type": "integer"},
            },
            SHOWN_HEADER: {
                "description": "How many this answer holds (fewer than the total when cut).",
                "schema": {"type": "integer"},
            },
        }
    }
}


def told(response: Response, page: Page[T]) -> list[T]:
    """The page's items, its total and how many are shown set on `response`'s headers."""
    response.headers[TOTAL_HEADER] = str(page.total)
    response.headers[SHOWN_HEADER] = str(page.shown)
    return page.items


def counted(page: Page[Any], noun: str, more: str = "--all shows every one") -> str:
    """A cut list's heading for the command line: "20 of 380 in-stock units (--all shows
    every one)"; a whole list's: "380 in-stock units"."""
    if not page.is_cut:
        return f"{page.total} {noun}"
    return f"{page.shown} of {page.total} {noun} ({more})"


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
