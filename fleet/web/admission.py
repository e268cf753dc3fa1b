"""At most as many requests in progress per worker as the database pool can serve.

Why: sync endpoints and dependencies run in a thread pool (40 threads), one step at a time: a
request checks a connection out in its sign-in step, then waits for a thread to run its
endpoint. Under a burst, every thread can be taken by new requests blocked on checkout while
the requests holding the connections wait for a thread: nothing moves until the pool's
30-second timeout, and those requests fail (seen at 200 concurrent users). Requests past the
limit wait here instead, in the event loop, holding neither a thread nor a connection.
"""

from __future__ import annotations

import anyio
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Receive, Scope, Send

# Without a sized pool (SQLite in memory) requests are not limited.
UNLIMITED = 0


def limit_for(engine: Engine) -> int:
    """Two thirds of the pool's connections: some requests (sign-ins) take a second one."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return UNLIMITED
    # The pool's overflow has no public accessor; size() is the steady part.
    capacity = pool.size() + max(int(getattr(pool, "_max_overflow", 0)), 0)
    return max(1, capacity * 2 // 3)


class InFlightLimit:
    """ASGI middleware: HTTP requests beyond `limit` at once wait for one to finish."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._slots: anyio.Semaphore | None = None  # made in the worker's own event loop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit == UNLIMITED:
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = anyio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
