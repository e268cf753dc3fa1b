"""The unit of work of a request: one session, committed by `session_scope` when the endpoint
returns (or rolled back when it raises). Every router's handlers take it as `SessionDep`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from fleet.core.db import session_scope


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


# Committed when the endpoint returns, before the answer is sent: a client that has its
# answer can rely on the write (and a failed commit answers as an error, not a success).
# (FastAPI >= 0.121.1: a function-scoped dependency's exit runs before the response.)
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
