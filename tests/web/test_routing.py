"""Where a route lives: one module answers each path, whatever order the routers are
included in, and each audience's pages sit under its own prefix."""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.routing import Route

AUDIENCES = ("field", "ops", "marketing", "admin")


def _routes(app: FastAPI) -> list[Route]:
    return [r for r in app.routes if isinstance(r, Route)]


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_path_is_answered_by_include_order(app: FastAPI) -> None:
    """A route of one module never matches another module's path: /markets/ranking must not
    depend on being included before /markets/{market_id}."""
    routes = _routes(app)
    clashes = []
    for mine in routes:
        for other in routes:
            same_module = mine.endpoint.__module__ == other.endpoint.__module__
            methods = (mine.methods or set()) & (other.methods or set())
            if mine is other or same_module or not methods:
                continue
            if mine.path_regex.match(_sample(other.path)):
                clashes.append(f"{mine.path} ({mine.endpoint.__module__}) takes {other.path}")
    assert clashes == []


def test_each_audience_pages_are_one_router_under_its_prefix(app: FastAPI) -> None:
    for route in _routes(app):
        module = route.endpoint.__module__
        for audience in AUDIENCES:
            if module.startswith(f"fleet.pages.{audience}."):
                assert route.path == f"/{audience}" or route.path.startswith(f"/{audience}/")
                # A part that still spells the prefix would answer at /ops/ops/...
                assert not route.path.startswith(f"/{audience}/{audience}/"), route.path
            elif route.path.startswith(f"/{audience}/") and module.startswith("fleet.pages"):
                raise AssertionError(f"{route.path} is served by {module}, not its audience")
