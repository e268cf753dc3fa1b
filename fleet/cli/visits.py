"""`fleet revisits`: plan a branch's field day and print it, or write it for print or Excel."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import cli_actor, fail, reports_errors


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("--date {value!r} is not a date; write it as YYYY-MM-DD", value=text) from None


@reports_errors
def revisits(
    branch: Annotated[str, typer.Option(help="Branch code: plans its whole subtree.")],
    day: Annotated[str, typer.Option("--date", help="The field day, YYYY-MM-DD.")],
    staff: Annotated[
        int | None, typer.Option(help="Route at most this many field staff (default: all).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the plan to FILE.xlsx, .csv, .json or .html (printable)."),
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Solver budget in seconds (FLEET_REVISIT_SOLVER_SECONDS).")
    ] = None,
    with_contacts: Annotated[
        bool, typer.Option(help="Merchant phones and contact names in clear in --out.")
    ] = False,
) -> None:
    """Plans who visits which idle units on a day, in what order and when: routes for the
    branch subtree's field staff within shop hours, the shift and lunch, stored (re-planning
    keeps visits already done). Prints a summary, or writes the plan with --out."""
    from fleet.core.db import session_scope
    from fleet.visits import exports, present
    from fleet.visits import plan as planning

    when = _day(day)
    if staff is not None and staff < 1:
        raise fail("--staff must be at least 1")
    if seconds is not None and seconds <= 0:
        raise fail("--seconds must be positive")
    if out is not None and out.suffix.lower().lstrip(".") not in exports.FORMATS:
        raise fail("--out {file}: use a .xlsx, .csv, .json or .html file", file=out.name)
    with session_scope() as session:
        plan = planning.plan_day(
            session,
            cli_actor(),
            branch_code=branch,
            plan_date=when,
            staff_limit=staff,
            seconds=seconds,
        )
        shown = present.plan_public(session, plan)
    if out is not None:
        exports.write(shown, out, contacts_in_clear=with_contacts)
        typer.echo(f"plan for {branch} on {when}: {shown.planned} visits written to {out}")
        return
    typer.echo(
        f"{shown.branch_name} ({shown.branch_code}) {shown.date}: {shown.planned} of "
        f"{shown.candidates} candidates planned for {len(shown.routes)} staff, "
        f"{shown.distance_km:.1f} km ({shown.travel_source})"
    )
    for route in shown.routes:
        first = route.stops[0].arrival.strftime("%H:%M") if route.stops else "-"
        typer.echo(
            f"  {route.username:<16} {len(route.stops):>3} stops  {route.distance_km:6.1f} km  "
            f"{route.working_minutes:>4} min  first arrival {first}"
        )
    if shown.unplanned:
        typer.echo(f"  not planned: {len(shown.unplanned)} (see --out for the list)")
    for note in shown.note_phrases:
        typer.echo(f"  note: {lang.texts().phrase(note)}")
