"""`fleet coverage show|set|clear`: from which day each source's feed is complete."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from fleet.cli import lang
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


def _said(source: str) -> str:
    """A source as people read it: the default one as the admin settings page names it, with
    'default' after it to type; a feed source by its name."""
    from fleet.core.names import named
    from fleet.feeds.coverage import DEFAULT_SOURCE

    if source != DEFAULT_SOURCE:
        return source
    return named(lang.texts().gettext("Uploaded files and other ingests"), DEFAULT_SOURCE)


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
    t = lang.texts()
    if not rows:
        typer.echo(t.gettext("no data coverage yet: statuses count from each unit's deployment"))
        return
    for r in rows:
        if r.origin == "admin":
            how = t.gettext("set by {who}", who=r.updated_by_name or t.gettext("an admin"))
        elif r.ingest_id is not None:
            how = t.gettext(
                "derived from ingest #{run} (oldest line {day})", run=r.ingest_id, day=r.oldest_day
            )
        else:
            how = t.gettext("derived")
        typer.echo(
            t.gettext(
                "{source}: complete from {day} ({how})",
                source=_said(r.name),
                day=r.starts_on,
                how=how,
            )
        )
    typer.echo(t.gettext("statuses count from the later of deployment and {day}", day=start))


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
    typer.echo(
        lang.texts().gettext(
            "{source}: complete from {day}; rescore to apply (fleet score)",
            source=_said(row.name),
            day=row.starts_on,
        )
    )


@app.command("clear")
@reports_errors
def clear(source: Source) -> None:
    """Forgets a source's start: its next finished ingest derives it again (admins)."""
    from fleet.core.db import session_scope
    from fleet.feeds import coverage

    with session_scope() as session:
        cleared = coverage.clear(session, cli_actor(), source)
    t = lang.texts()
    typer.echo(
        t.gettext("{source}: cleared", source=_said(source))
        if cleared
        else t.gettext("{source}: had no coverage start", source=_said(source))
    )
