"""What every command shares: one-line errors, the acting user, the database in use."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from fleet.core.access import Actor, system_actor
from fleet.core.config import get_settings
from fleet.core.errors import FleetError

F = TypeVar("F", bound=Callable[..., Any])
KINDS_HELP = "branches, staff, markets, merchants or terminals"


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def reports_errors(func: F) -> F:
    """Turns a FleetError into one line on stderr and a non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FleetError as exc:
            typer.echo(f"error: {exc.message}", err=True)
            for problem in _row_errors(exc.details):
                typer.echo(f"  {problem}", err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _row_errors(details: Any) -> list[str]:
    if not isinstance(details, dict):
        return []
    listed = details.get("errors", [])
    lines = [
        f"row {e['row']}"
        + (f", column {e['column']}" if e.get("column") else "")
        + f": {e['reason']}"
        for e in listed
    ]
    more = details.get("errors_total", len(listed)) - len(listed)
    return lines + ([f"... and {more} more"] if more > 0 else [])


def use_database(url: str) -> None:
    """Points every later get_engine()/get_settings() call at `url`."""
    os.environ["FLEET_DATABASE_URL"] = url
    get_settings.cache_clear()


def cli_actor() -> Actor:
    return system_actor(f"cli:{os.environ.get('USER') or 'local'}")
