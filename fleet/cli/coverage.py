"""`fleet coverage show|set|clear`: from which day each source's feed is complete."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from fleet.cli.common import cli_actor, fail, reports_errors

app = typer.Typer(
    help="Data coverage: from which day the bank's feed is complete, per source. Statuses and "
    "reasons count from the later of a unit's deployment and this day.",
    no_args_is_help=True,
)
Source = Annotated[
    str,
    typer.Argument(
        help="'default' (files, uploads, URLs without a registered source) or a feed source's name."
    ),
]


@app.command("show")
@reports_errors
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Each source's coverage start, how it was set, and the start statuses count from."""
    from fleet.core.db import session_scope
    from fleet.feeds import coverage

    with session_scope() as session:
        rows = coverage.list_coverage(session, cli_actor())
        start = coverage.start(session)
    if as_json:
        listed = [r.model_dump(mode="json") for r in rows]
        typer.echo(json.dumps({"start": start and start.isoformat(), "sources": listed}))
        return
    if not rows:
        typer.echo("no data coverage yet: statuses count from each unit's deployment")
        return
    for r in rows:
        how = "set by " + (r.updated_by_name or "an admin") if r.origin == "admin" else "derived"
        if r.origin == "derived" and r.ingest_id is not None:
            how += f" from ingest #{r.ingest_id} (oldest line {r.oldest_day})"
        typer.echo(f"{r.name}: complete from {r.starts_on} ({how})")
    typer.echo(f"statuses count from the later of deployment and {start}")


@app.command("set")
@reports_errors
def set_start(
    source: Source,
    starts_on: Annotated[str, typer.Argument(help="The first complete day, YYYY-MM-DD.")],
) -> None:
    """Sets from which day a source's feed is complete (admins)."""
    from fleet.core.db import session_scope
    from fleet.feeds import coverage

    try:
        day = date.fromisoformat(starts_on)
    except ValueError:
        raise fail("{starts_on} is not a date (YYYY-MM-DD)", starts_on=starts_on) from None
    with session_scope() as session:
        row = coverage.set_start(session, cli_actor(), source, day)
    typer.echo(f"{row.name}: complete from {row.starts_on}; rescore to apply (fleet score)")


@app.command("clear")
@reports_errors
def clear(source: Source) -> None:
    """Forgets a source's start: its next finished ingest derives it again (admins)."""
    from fleet.core.db import session_scope
    from fleet.feeds import coverage

    with session_scope() as session:
        cleared = coverage.clear(session, cli_actor(), source)
    typer.echo(f"{source}: " + ("cleared" if cleared else "had no coverage start"))
