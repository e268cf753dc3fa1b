"""`fleet tickets list|open|suspect` and `fleet service ...`: after-sales on the command line."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from fleet.cli import lang
from fleet.cli.common import cli_actor, cli_lang, display_width, fail, pad, reports_errors
from fleet.core.i18n import N_, local_moment
from fleet.core.names import named
from fleet.core.phrases import phrase

app = typer.Typer(help="Fault tickets (故障工单) of after-sales.", no_args_is_help=True)
service_app = typer.Typer(
    help="After-sales service (售后): contractors' statements, KPIs.", no_args_is_help=True
)

# `fleet service kpi`'s heading by --by.
KPI_HEADINGS = {
    "branch": N_("{n} groups by branch, last {days} days"),
    "contractor": N_("{n} groups by contractor, last {days} days"),
    "model": N_("{n} groups by model, last {days} days"),
    "age": N_("{n} groups by age, last {days} days"),
}
Branch = Annotated[str | None, typer.Option(help="Only this branch (its code) and those below it.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _dump(items: list[Any]) -> str:
    return json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False, indent=1)


# A ticket's priority and area, in words (the pages' words for the priority).
PRIORITY = {"high": N_("High"), "normal": N_("Normal"), "low": N_("Low")}
AREA = {"town": N_("town"), "rural": N_("rural")}


def _line(t: Any, branches: dict[str, str] | None = None) -> str:
    """One ticket on a line, in the terminal's language; its branch by name (from `branches`,
    code -> name) when known."""
    from fleet.core.words import BREACH, SYMPTOM, TICKET

    said = lang.texts()
    where = named((branches or {}).get(t.branch_code or ""), t.branch_code)
    left = (
        ""
        if t.hours_left is None
        else "  " + said.gettext("{hours} h left", hours=f"{t.hours_left:+.1f}")
    )
    comma = "、" if said.lang == "zh" else ", "
    late = (
        "  "
        + said.gettext(
            "LATE: {what}", what=comma.join(said.gettext(BREACH.get(b, b)) for b in t.breached)
        )
        if t.breached
        else ""
    )
    paused = "  " + said.gettext("(paused)") if t.paused else ""
    return (
        f"#{t.id}  {t.sn}  {where}  {t.merchant_name or '-'}  "
        f"{said.gettext(TICKET[t.state.value])}  {said.gettext(SYMPTOM[t.symptom.value])}  "
        f"{said.gettext(PRIORITY[t.priority.value])}/{said.gettext(AREA[t.area.value])}"
        f"{left}{paused}{late}"
    )


@app.command("list")
@reports_errors
def list_(
    branch: Branch = None,
    state: Annotated[
        str | None,
        typer.Option(
            help="suspected, open, assigned, on_site, awaiting_parts, at_vendor, "
            "restored, closed, cancelled; default: every ticket not closed or cancelled."
        ),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Fault tickets, the earliest restore deadline first, with SLA hours left."""
    from fleet.aftersales import present, service
    from fleet.aftersales.models import TicketState
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory

    if state is not None and state not in TicketState.__members__:
        raise fail(
            "--state {state!r}: use one of {choices}", state=state, choices=", ".join(TicketState)
        )
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, cli_actor(), branch).id if branch else None
        tickets = service.list_tickets(
            session,
            cli_actor(),
            branch_id=branch_id,
            state=TicketState(state) if state else None,
            live_only=state is None,
        )
        shown = present.public(session, tickets)
        branches = inventory.branch_names(session, {t.branch_code for t in shown})
    if as_json:
        typer.echo(_dump(shown))
        return
    typer.echo(lang.texts().gettext("{n} tickets", n=len(shown)))
    for t in shown:
        typer.echo(_line(t, branches))


@app.command("open")
@reports_errors
def open_(
    sn: Annotated[str, typer.Argument(help="The unit's serial number.")],
    symptom: Annotated[
        str,
        typer.Option(
            help="phone_line, card_reader, printer, keypad, display, power, "
            "key_injection, tampering, other."
        ),
    ],
    note: Annotated[str, typer.Option(help="What the merchant said.")] = "",
    priority: Annotated[str, typer.Option(help="high, normal or low.")] = "normal",
    as_json: AsJson = False,
) -> None:
    """Opens a ticket for a unit at a merchant (taken on the phone): the unit becomes faulty
    and the SLA clock starts."""
    from fleet.aftersales import present, service
    from fleet.aftersales.models import Priority, Symptom, TicketSource
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory

    if symptom not in Symptom.__members__:
        raise fail(
            "--symptom {symptom!r}: use one of {choices}",
            symptom=symptom,
            choices=", ".join(Symptom),
        )
    if priority not in Priority.__members__:
        raise fail("--priority {priority!r}: use high, normal or low", priority=priority)
    with session_scope() as session:
        unit = inventory.terminal_by_sn(session, cli_actor(), sn)
        ticket = service.open_ticket(
            session,
            cli_actor(),
            unit,
            Symptom(symptom),
            source=TicketSource.phone,
            priority=Priority(priority),
            description=note,
        )
        shown = present.public(session, [ticket])
    if as_json:
        typer.echo(_dump(shown))
        return
    typer.echo(_line(shown[0]))

    def when(moment: datetime | None) -> str:
        return "-" if moment is None else f"{local_moment(moment):%Y-%m-%d %H:%M}"

    typer.echo(
        "  "
        + lang.texts().gettext(
            "respond by {respond}, restore by {restore} (Beijing time)",
            respond=when(shown[0].respond_by),
            restore=when(shown[0].restore_by),
        )
    )


@app.command("suspect")
@reports_errors
def suspect(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD; default: yesterday.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Suspected faults from the feed, each with why: opens a *suspected* ticket for each (for
    operations to confirm or dismiss), verifies restores by their first transaction, flags
    call-backs. Re-running changes nothing."""
    from datetime import timedelta

    from fleet.aftersales import present, watch
    from fleet.core.db import session_scope
    from fleet.scoring.service import today_local

    try:
        day = date.fromisoformat(as_of) if as_of else today_local() - timedelta(days=1)
    except ValueError:
        raise fail("--as-of {as_of!r}: use YYYY-MM-DD", as_of=as_of) from None
    with session_scope() as session:
        raised = watch.raise_suspicions(session, cli_actor(), day)
        counts = watch.verify_restored(session)
        shown = present.public(session, raised)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "as_of": day.isoformat(),
                    "suspected": [t.model_dump(mode="json") for t in shown],
                    **counts,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    said = lang.texts()
    typer.echo(
        said.gettext(
            "as of {day}: {n} suspected, {verified} restores verified, {due} call-backs due",
            day=day,
            n=len(shown),
            verified=counts["verified"],
            due=counts["callback_due"],
        )
    )
    for t in shown:
        typer.echo(f"{_line(t)}\n  {said.phrase((t.suspicion or {}).get('why'))}")


@service_app.command("statement")
@reports_errors
def statement_(
    contractor: Annotated[str, typer.Argument(help="The contractor's code.")],
    month: Annotated[str, typer.Option(help="YYYY-MM.")],
    out: Annotated[Path, typer.Option(help="The workbook to write (.xlsx).")],
    as_json: AsJson = False,
) -> None:
    """A contractor's monthly statement as XLSX: tickets, SLA breaches, penalties, amount due
    (provisional while the month is not over)."""
    from fleet.aftersales import statement
    from fleet.core.db import session_scope

    if out.suffix.lower() != ".xlsx":
        raise fail("--out {out}: the statement is written as .xlsx", out=out)
    with session_scope() as session:
        made = statement.build(session, cli_actor(), contractor, month)
    statement.write_xlsx(made, out, cli_lang())
    if as_json:
        typer.echo(json.dumps(made.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    t = lang.texts()
    typer.echo(
        t.gettext(
            "{contractor} {month} ({state}): {n} tickets, base {base} + fees {fees} - penalties "
            "{penalties} = {due} yuan; written to {path}",
            contractor=made.contractor_code,
            month=made.month,
            state=t.gettext("provisional") if made.provisional else t.gettext("final"),
            n=len(made.lines),
            base=f"{made.base_fee:.2f}",
            fees=f"{made.ticket_fees:.2f}",
            penalties=f"{made.penalties:.2f}",
            due=f"{made.amount_due:.2f}",
            path=out,
        )
    )


@service_app.command("kpi")
@reports_errors
def kpi_(
    branch: Branch = None,
    by: Annotated[str, typer.Option(help="branch, contractor, model or age.")] = "branch",
    days: Annotated[int, typer.Option(help="The window, in days up to today.")] = 365,
    as_json: AsJson = False,
) -> None:
    """After-sales KPIs: time to restore (mean, p90, business hours), SLA met, first-time fix,
    repeats, downtime and faults per 100 units, cost per ticket and per outlet against the
    4,000-yuan budget; by branch, contractor, model or the units' years in service."""
    from fleet.aftersales import kpi
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory

    if by not in ("branch", "contractor", "model", "age"):
        raise fail("--by {by!r}: use branch, contractor, model or age", by=by)
    if days < 1:
        raise fail("--days must be at least 1")
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, cli_actor(), branch).id if branch else None
        rows = kpi.kpis(session, cli_actor(), by=by, branch_id=branch_id, days=days)  # type: ignore[arg-type]
    if as_json:
        typer.echo(_dump(rows))
        return

    def shown(value: float | None, unit: str = "") -> str:
        return "-" if value is None else f"{value:g}{unit}"

    t = lang.texts()
    typer.echo(t.gettext(KPI_HEADINGS[by], n=len(rows), days=days))
    for r in rows:
        typer.echo(
            t.gettext(
                "{group}: {tickets} tickets, restore mean {mean} p90 {p90}, SLA met {sla}, "
                "first-time fix {ftf}, repeats {r30}/{r90}, downtime {down} days/100 units, "
                "faults {faults}/100 units/year, cost per ticket {per_ticket}, "
                "cost per outlet {per_outlet} / {budget} yuan",
                group=r.group,
                tickets=r.tickets,
                mean=shown(r.mean_restore_hours, " h"),
                p90=shown(r.p90_restore_hours, " h"),
                sla=shown(r.sla_met_pct, "%"),
                ftf=shown(r.first_time_fix_pct, "%"),
                r30=r.repeats_30,
                r90=r.repeats_90,
                down=shown(r.downtime_days_per_100_units),
                faults=shown(r.failures_per_100_units_year),
                per_ticket=shown(r.cost_per_ticket),
                per_outlet=shown(r.cost_per_outlet_year),
                budget=f"{r.budget_per_outlet_year:g}",
            )
        )


@service_app.command("plan")
@reports_errors
def plan_(
    branch: Annotated[str, typer.Option(help="Branch code: plans its whole subtree.")],
    day: Annotated[str, typer.Option("--date", help="The service day, YYYY-MM-DD.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Write the plan to FILE.xlsx, .csv, .json or .html (printable)."),
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Solver budget in seconds (FLEET_SERVICE_SOLVER_SECONDS).")
    ] = None,
    with_contacts: Annotated[
        bool, typer.Option(help="Merchant phones and contact names in clear in --out.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Plans the service day: the subtree's open and assigned tickets routed for its service
    staff (restore deadlines of the day as time windows, swaps with a spare of the staff
    member's branch), checked and stored. Prints a summary, or writes it with --out, as
    `fleet revisits` does."""
    from fleet.aftersales import dayplan
    from fleet.core.db import session_scope
    from fleet.visits import exports

    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise fail("--date {value!r} is not a date; write it as YYYY-MM-DD", value=day) from None
    if seconds is not None and seconds <= 0:
        raise fail("--seconds must be positive")
    if out is not None and out.suffix.lower().lstrip(".") not in exports.FORMATS:
        raise fail("--out {file}: use a .xlsx, .csv, .json or .html file", file=out.name)
    with session_scope() as session:
        plan = dayplan.plan_service_day(
            session, cli_actor(), branch_code=branch, plan_date=when, seconds=seconds
        )
        shown = dayplan.plan_public(session, plan)
    if out is not None:
        exports.write(shown, out, contacts_in_clear=with_contacts)
    if as_json:
        typer.echo(exports.json_text(exports.with_contacts_masked(shown)))
        return
    from fleet.cli.visits import travel_said

    t = lang.texts()
    if out is not None:
        typer.echo(
            t.gettext(
                "service plan for {branch} on {day}: {n} tickets written to {path}",
                branch=branch,
                day=when,
                n=shown.planned,
                path=out,
            )
        )
        return
    typer.echo(
        t.gettext(
            "{branch} {day}: {planned} of {candidates} tickets planned for {staff} service "
            "staff, {km} km ({travel})",
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
    width = max([18, *(display_width(p) for p in people)])
    for route, person in zip(shown.routes, people, strict=True):
        first = route.stops[0].arrival.strftime("%H:%M") if route.stops else "-"
        typer.echo(
            f"  {pad(person, width)} "
            + t.gettext(
                "{stops:>3} tickets  {km:>6} km  {minutes:>4} min  first arrival {first}",
                stops=len(route.stops),
                km=f"{route.distance_km:.1f}",
                minutes=route.working_minutes,
                first=first,
            )
        )
        for stop in route.stops:
            typer.echo(
                f"    {stop.seq:>2}. {stop.arrival:%H:%M}  {stop.merchant_name}  "
                f"{t.phrase(stop.why)}"
            )
    for u in shown.unplanned:
        typer.echo(
            "  "
            + t.gettext(
                "not planned: {what} ({merchant}): {why}",
                what=t.phrase(u.why),
                merchant=u.merchant_name,
                why=t.phrase(phrase(f"unplanned_{u.reason_code}")),
            )
        )
    for note in shown.note_phrases:
        typer.echo("  " + t.gettext("note: {note}", note=t.phrase(note)))


@service_app.command("qr-sheet")
@reports_errors
def qr_sheet(
    branch: Annotated[str, typer.Option(help="The branch (its code); units below it count.")],
    out: Annotated[Path, typer.Option(help="The sheet to write (.html, ready to print).")],
    units: Annotated[int, typer.Option(help="How many units (at merchants, by SN).")] = 10,
    as_json: AsJson = False,
) -> None:
    """A printable sheet of QR stickers, one per unit at a merchant: the merchant scans it to
    report a fault (FLEET_PUBLIC_URL/qr/<code>, no account). A unit keeps its code across
    sheets."""
    from fleet.aftersales import qr, qrsheet
    from fleet.core.db import session_scope

    if out.suffix.lower() not in (".html", ".htm"):
        raise fail("--out {out}: the sheet is written as .html", out=out)
    if units < 1:
        raise fail("--units must be at least 1")
    with session_scope() as session:
        stickers = qr.stickers(session, cli_actor(), branch, units)
    if not stickers:
        raise fail("branch {branch} has no unit at a merchant", branch=branch)
    qrsheet.write_sheet(stickers, branch, out)
    if as_json:
        rows = [
            {"sn": s.sn, "merchant": s.merchant_name, "url": qrsheet.report_url(s.token)}
            for s in stickers
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    typer.echo(
        lang.texts().gettext(
            "{n} QR stickers for branch {branch} written to {path}",
            n=len(stickers),
            branch=branch,
            path=out,
        )
    )
