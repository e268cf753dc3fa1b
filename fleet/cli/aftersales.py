"""`fleet tickets list|open|suspect` and `fleet service ...`: after-sales on the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from fleet.cli.common import cli_actor, fail, reports_errors

app = typer.Typer(help="Fault tickets (故障工单) of after-sales.", no_args_is_help=True)
service_app = typer.Typer(
    help="After-sales service (售后): contractors' statements, KPIs.", no_args_is_help=True
)

Branch = Annotated[str | None, typer.Option(help="Only this branch (its code) and those below it.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _dump(items: list[Any]) -> str:
    return json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False, indent=1)


def _line(t: Any) -> str:
    left = "" if t.hours_left is None else f"  {t.hours_left:+.1f} h left"
    late = f"  LATE: {', '.join(t.breached)}" if t.breached else ""
    paused = "  (paused)" if t.paused else ""
    return (
        f"#{t.id}  {t.sn}  {t.branch_code}  {t.merchant_name or '-'}  {t.state.value}  "
        f"{t.symptom_zh}  {t.priority.value}/{t.area.value}{left}{paused}{late}"
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
        raise fail(f"--state {state!r}: use one of {', '.join(TicketState)}")
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
    if as_json:
        typer.echo(_dump(shown))
        return
    typer.echo(f"{len(shown)} tickets")
    for t in shown:
        typer.echo(_line(t))


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
        raise fail(f"--symptom {symptom!r}: use one of {', '.join(Symptom)}")
    if priority not in Priority.__members__:
        raise fail(f"--priority {priority!r}: use high, normal or low")
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
    typer.echo(
        f"  respond by {shown[0].respond_by:%Y-%m-%d %H:%M} UTC, "
        f"restore by {shown[0].restore_by:%Y-%m-%d %H:%M} UTC"
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
        raise fail(f"--as-of {as_of!r}: use YYYY-MM-DD") from None
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
    typer.echo(
        f"as of {day}: {len(shown)} suspected, {counts['verified']} restores verified, "
        f"{counts['callback_due']} call-backs due"
    )
    for t in shown:
        typer.echo(f"{_line(t)}\n  {t.description}")
