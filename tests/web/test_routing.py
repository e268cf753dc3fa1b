"""Where a route lives: one module answers each path, whatever order the routers are
included in, and each audience's pages sit under its own prefix."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, routing

AUDIENCES = ("field", "ops", "marketing", "admin", "service")


def _routes(app: FastAPI) -> list[Any]:
    """Every route the app serves (with its full path), through included routers."""
    contexts = getattr(routing, "iter_route_contexts", None)
    found = list(contexts(app.routes)) if contexts else app.routes
    return [r for r in found if getattr(r, "endpoint", None) is not None and r.methods]


def _sample(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_path_is_answered_by_include_order(app: FastAPI) -> None:
    """A route of one module never matches another module's path: /markets/ranking must not
    depend on being included before /markets/{market_id}."""
    routes = _routes(app)
    assert len(routes) > 100  # the API's and the pages', through their included routers
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


# A domain's view of another domain's object, under that object's path (scoring sits above
# inventory, so the terminal's scores cannot live with the terminal).
SUB_RESOURCES = {"/api/v1/terminals/{terminal_id}/scores": "fleet.scoring"}


def _prefix(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:4]) if path.startswith("/api/v1/") else "/".join(parts[:2])


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:3]) if module.startswith("fleet.pages.") else ".".join(parts[:2])


def test_each_url_prefix_is_served_by_one_package(app: FastAPI) -> None:
    packages: dict[str, set[str]] = {}
    for route in _routes(app):
        if route.path in SUB_RESOURCES:
            assert _package(route.endpoint.__module__) == SUB_RESOURCES[route.path]
            continue
        packages.setdefault(_prefix(route.path), set()).add(_package(route.endpoint.__module__))
    assert {prefix: found for prefix, found in packages.items() if len(found) > 1} == {}
