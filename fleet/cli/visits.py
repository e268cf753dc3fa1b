"""`fleet revisits`: plan a branch's field day and print it, or write it for print or Excel."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import cli_actor, display_width, fail, pad, reports_errors
from fleet.core.i18n import N_, Texts
from fleet.core.names import named

# How a plan's travel times were found (its travel_source).
TRAVEL = {
    "geodesic": N_("straight-line distances"),
    "osrm": N_("road distances"),
}


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
    t = lang.texts()
    if out is not None:
        exports.write(shown, out, contacts_in_clear=with_contacts)
        typer.echo(
            t.gettext(
                "plan for {branch} on {day}: {n} visits written to {path}",
                branch=branch,
                day=when,
                n=shown.planned,
                path=out,
            )
        )
        return
    typer.echo(
        t.gettext(
            "{branch} {day}: {planned} of {candidates} candidates planned for {staff} staff, "
            "{km} km ({travel})",
            branch=named(shown.branch_name, shown.branch_code),
            day=shown.date,
            planned=shown.planned,
            candidates=shown.candidates,
            staff=len(shown.routes),
            km=f"{shown.distance_km:.1f}",
            travel=travel_said(t, shown.travel_source),
        )
    )
    people = [named(r.full_name, r.username) for r in shown.routes]
    width = max([16, *(display_width(p) for p in people)])
    for route, person in zip(shown.routes, people, strict=True):
        first = route.stops[0].arrival.strftime("%H:%M") if route.stops else "-"
        typer.echo(
            f"  {pad(person, width)} "
            + t.gettext(
                "{stops:>3} stops  {km:>6} km  {minutes:>4} min  first arrival {first}",
                stops=len(route.stops),
                km=f"{route.distance_km:.1f}",
                minutes=route.working_minutes,
                first=first,
            )
        )
    if shown.unplanned:
        typer.echo(
            "  " + t.gettext("not planned: {n} (see --out for the list)", n=len(shown.unplanned))
        )
    for note in shown.note_phrases:
        typer.echo("  " + t.gettext("note: {note}", note=t.phrase(note)))


def travel_said(t: Texts, source: str) -> str:
    """How a plan's travel times were found, in words."""
    return t.gettext(TRAVEL[source]) if source in TRAVEL else source
