"""`fleet fees show|set|example|class|rebuild` on the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fleet.cli.common import cli_actor, fail, reports_errors

fees_app = typer.Typer(
    help="The fee schedule (费率表): what each transaction earns the bank.", no_args_is_help=True
)
revenue_app = typer.Typer(help="What units earn (收益) and 收益率.")
scorecard_app = typer.Typer(help="The 五提升 scorecard (so far its activation rate).")
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _print_schedule(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    if not rows:
        typer.echo("no fee schedule: every transaction earns 0")
        return
    for r in rows:
        until = r["effective_to"] or "…"
        cap = "" if r["cap_fen"] is None else f" cap {r['cap_fen']} fen"
        mark = "  (示例费率 example)" if r["example"] else ""
        typer.echo(
            f"{r['txn_type']:<13} {r['merchant_class']:<13} {r['effective_from']} → {until}: "
            f"{r['fixed_fen']} fen + {r['rate_ppm']} ppm, min {r['min_fen']} fen{cap}; "
            f"network {r['network_ppm']} ppm{mark}"
        )


@fees_app.command("show")
@reports_errors
def show(as_json: AsJson = False) -> None:
    """The schedule in force and to come, by type, merchant class and date."""
    from fleet.core.db import session_scope
    from fleet.pay import fees
    from fleet.pay.models import FeeRulePublic

    with session_scope() as session:
        rows = [
            FeeRulePublic.model_validate(r, from_attributes=True).model_dump(mode="json")
            for r in fees.schedule(session)
        ]
    _print_schedule(rows, as_json)


@fees_app.command("set")
@reports_errors
def set_(
    file: Annotated[Path, typer.Argument(help="A JSON list of fee rows (as `show --json`).")],
) -> None:
    """Replaces the whole schedule from FILE; refused with the rows listed, nothing changed,
    on a negative fee or a gap or overlap in one type and class's dates."""
    from pydantic import ValidationError

    from fleet.core.db import session_scope
    from fleet.pay import fees
    from fleet.pay.models import FeeRuleIn

    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
        rules = [FeeRuleIn.model_validate(row) for row in raw]
    except (OSError, ValueError, TypeError, ValidationError) as exc:
        raise fail(f"{file} is not a JSON list of fee rows: {str(exc).splitlines()[0]}") from None
    with session_scope() as session:
        made = fees.set_schedule(session, cli_actor(), rules)
    typer.echo(f"fee schedule set: {len(made)} rows")


@fees_app.command("example")
@reports_errors
def example(
    start: Annotated[
        str, typer.Option("--from", help="First day of the example schedule (YYYY-MM-DD).")
    ] = "2021-09-30",
    apply: Annotated[
        bool, typer.Option("--apply", help="Set it as the schedule (else only print it).")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """The example schedule (示例费率) from China's card-fee rules; replace it by the bank's."""
    from fleet.core.db import session_scope
    from fleet.pay import fees

    try:
        first = date.fromisoformat(start)
    except ValueError:
        raise fail(f"--from {start!r} is not a date (YYYY-MM-DD)") from None
    rules = fees.example_schedule(first)
    if apply:
        with session_scope() as session:
            fees.set_schedule(session, cli_actor(), rules)
    _print_schedule([r.model_dump(mode="json") for r in rules], as_json)


@fees_app.command("class")
@reports_errors
def set_class(
    merchant: Annotated[str, typer.Argument(help="The merchant's code.")],
    merchant_class: Annotated[str, typer.Argument(help="standard, preferential or non_profit.")],
) -> None:
    """Sets a merchant's fee class (standard unless set)."""
    from fleet.core.db import session_scope
    from fleet.pay import fees
    from fleet.pay.models import MerchantClass

    try:
        chosen = MerchantClass(merchant_class)
    except ValueError:
        raise fail(f"{merchant_class!r} is not standard, preferential or non_profit") from None
    with session_scope() as session:
        fees.set_merchant_class(session, cli_actor(), merchant, chosen)
    typer.echo(f"merchant {merchant}: {chosen.value}")


@fees_app.command("rebuild")
@reports_errors
def rebuild(
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="First day not re-priced.")] = None,
) -> None:
    """Prices stored transactions again by the current schedule and classes."""
    from fleet.core.db import session_scope
    from fleet.pay import fees

    try:
        first = date.fromisoformat(since) if since else None
        stop = date.fromisoformat(until) if until else None
    except ValueError:
        raise fail("--since and --until are dates (YYYY-MM-DD)") from None
    with session_scope() as session:
        priced = fees.rebuild(session, cli_actor(), since=first, until=stop)
    typer.echo(f"priced {priced} transactions")


@revenue_app.callback(invoke_without_command=True)
@reports_errors
def revenue(
    by: Annotated[str, typer.Option(help="unit, staff, branch or market.")] = "unit",
    period: Annotated[
        str | None,
        typer.Option(
            help="A month 2026-11, a quarter 2026-Q4 or a year 2026; default: this month."
        ),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Only this branch (code) and below.")] = None,
    as_json: AsJson = False,
) -> None:
    """收益率 per unit or portfolio: net revenue over the units' cost, best first."""
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from fleet.pay import periods, yields

    try:
        grouping = yields.By(by)
    except ValueError:
        raise fail(f"--by {by!r} is not unit, staff, branch or market") from None
    chosen = periods.parse(period or date.today().strftime("%Y-%m"))
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, cli_actor(), branch).id if branch else None
        rows = yields.yields(session, cli_actor(), by=grouping, period=chosen, branch_id=branch_id)
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows], ensure_ascii=False, indent=1))
        return
    typer.echo(f"收益率 by {grouping.value}, {chosen.text} ({chosen.start} – {chosen.end}):")
    for r in rows:
        rate = "-" if r.yield_rate is None else f"{r.yield_rate:.1%}"
        typer.echo(
            f"{r.key:<20} units {r.units:>6}  txns {r.txn_count:>8}  "
            f"net {r.net_fen / 100:>12,.2f}  cost {r.cost_fen / 100:>12,.2f}  收益率 {rate}"
        )


@scorecard_app.callback(invoke_without_command=True)
@reports_errors
def scorecard(
    period: Annotated[str, typer.Option(help="A month 2026-11, a quarter 2026-Q4 or a year 2026.")],
    by: Annotated[str, typer.Option(help="staff or branch.")] = "staff",
    branch: Annotated[str | None, typer.Option(help="Only this branch (code) and below.")] = None,
    k: Annotated[int, typer.Option(help="Transactions in 30 days that make an activation.")] = 3,
    as_json: AsJson = False,
) -> None:
    """Activation of idle, dormant and never-used units (转账电话存量客户激活率提升) per staff
    member or branch, against the previous period; under 30 units by the Wilson bound."""
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from fleet.pay import activation, periods

    try:
        group = activation.Group(by)
    except ValueError:
        raise fail(f"--by {by!r} is not staff or branch") from None
    if k < 1:
        raise fail("--k must be at least 1")
    chosen = periods.parse(period)
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, cli_actor(), branch).id if branch else None
        rows = activation.activation(
            session, cli_actor(), period=chosen, group=group, branch_id=branch_id, k=k
        )
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows], ensure_ascii=False, indent=1))
        return
    typer.echo(f"激活率 by {group.value}, {chosen.text} (k = {k}; * = Wilson lower bound):")
    for r in rows:
        score = "-" if r.score is None else f"{r.score:.1%}{'*' if r.wilson else ''}"
        change = "-" if r.change is None else f"{r.change:+.1%}"
        typer.echo(
            f"{r.key:<20} cohort {r.cohort:>5}  activated {r.activated:>5}  "
            f"score {score:>7}  change {change}"
        )
