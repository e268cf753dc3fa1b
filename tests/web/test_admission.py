"""Requests in progress per worker are capped below the database pool (fleet.web.admission):
past the cap they wait, and none is refused."""

from __future__ import annotations

import anyio
import httpx
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fleet.web.admission import UNLIMITED, InFlightLimit, limit_for


def _app(limit: int) -> tuple[InFlightLimit, dict[str, int]]:
    seen = {"now": 0, "most": 0}

    async def slow(request: Request) -> JSONResponse:
        seen["now"] += 1
        seen["most"] = max(seen["most"], seen["now"])
        await anyio.sleep(0.05)
        seen["now"] -= 1
        return JSONResponse({"ok": True})

    return InFlightLimit(Starlette(routes=[Route("/", slow)]), limit=limit), seen


async def _burst(app: InFlightLimit, n: int) -> list[int]:
    codes: list[int] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:

        async def one() -> None:
            codes.append((await client.get("/")).status_code)

        async with anyio.create_task_group() as group:
            for _ in range(n):
                group.start_soon(one)
    return codes


def test_a_burst_waits_its_turn_and_every_request_is_answered() -> None:
    app, seen = _app(limit=3)
    codes = anyio.run(_burst, app, 12)
    assert codes == [200] * 12
    assert seen["most"] == 3


def test_without_a_limit_the_burst_runs_at_once() -> None:
    app, seen = _app(limit=UNLIMITED)
    anyio.run(_burst, app, 12)
    assert seen["most"] == 12


def test_the_limit_leaves_a_third_of_the_pool_for_second_connections() -> None:
    sized = create_engine("sqlite://", poolclass=QueuePool, pool_size=10, max_overflow=20)
    assert limit_for(sized) == 20
    assert limit_for(create_engine("sqlite://")) == UNLIMITED  # in memory: one shared connection
