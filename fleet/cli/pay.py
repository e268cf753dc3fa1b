"""`fleet fees show|set|example|class|rebuild` on the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import cli_actor, display_width, fail, pad, reports_errors
from fleet.core.i18n import N_, Texts

if TYPE_CHECKING:
    from fleet.pay.scorecard import Scorecard

fees_app = typer.Typer(
    help="The fee schedule (费率表): what each transaction earns the bank.", no_args_is_help=True
)
revenue_app = typer.Typer(help="What units earn (收益) and 收益率.")
scorecard_app = typer.Typer(help="The 五提升 scorecard: figures, plans, weights, imported rates.")
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
        raise fail(
            "{file} is not a JSON list of fee rows: {problem}",
            file=file,
            problem=str(exc).splitlines()[0],
        ) from None
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
        raise fail("--from {start!r} is not a date (YYYY-MM-DD)", start=start) from None
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
        raise fail(
            "{merchant_class!r} is not standard, preferential or non_profit",
            merchant_class=merchant_class,
        ) from None
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
        raise fail("--by {by!r} is not unit, staff, branch or market", by=by) from None
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
    ctx: typer.Context,
    period: Annotated[
        str | None, typer.Option(help="A month 2026-11, a quarter 2026-Q4 or a year 2026.")
    ] = None,
    by: Annotated[str, typer.Option(help="staff or branch.")] = "staff",
    branch: Annotated[str | None, typer.Option(help="Only this branch (code) and below.")] = None,
    k: Annotated[
        int | None,
        typer.Option(
            help="Transactions in 30 days that make an activation (default: the plan's, else 3)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write HR's workbook (.xlsx, or .csv) to this file.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The 五提升 scorecard per staff member or branch: activation of idle, dormant and
    never-used units (under 30 by the Wilson bound) and its change, 动户率, 使用率, revenue
    and 收益率, placements, recoveries, visits, SLA, the four imported rates and the points."""
    if ctx.invoked_subcommand is not None:
        return
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from fleet.pay import periods, sheet
    from fleet.pay.scorecard import scorecard as make

    if period is None:
        raise fail("--period is needed: a month 2026-11, a quarter 2026-Q4 or a year 2026")
    if by not in ("staff", "branch"):
        raise fail("--by {by!r} is not staff or branch", by=by)
    if k is not None and k < 1:
        raise fail("--k must be at least 1")
    chosen = periods.parse(period)
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, cli_actor(), branch).id if branch else None
        card = make(session, cli_actor(), period=chosen, by=by, branch_id=branch_id, k=k)
    if out is not None:
        written = sheet.write(card, out)
        typer.echo(f"{out}: {written} rows")
        return
    if as_json:
        typer.echo(json.dumps(card.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    for line in scorecard_lines(card, chosen.text, lang.texts()):
        typer.echo(line)


def scorecard_lines(card: Scorecard, period: str, t: Texts) -> list[str]:
    """The scorecard as text in the terminal's language: each person (or branch) by name, the
    code second."""
    frozen = (
        t.gettext("baseline frozen by the approved plan")
        if card.frozen
        else t.gettext("baseline not frozen")
    )
    heading = (
        N_("五提升 by staff, {period} (k = {k}; * = Wilson lower bound; {frozen}):")
        if card.by == "staff"
        else N_("五提升 by branch, {period} (k = {k}; * = Wilson lower bound; {frozen}):")
    )
    lines = [t.gettext(heading, period=period, k=card.k, frozen=frozen)]
    who = [f"{r.name} ({r.key})" if r.name and r.name != r.key else r.key for r in card.rows]
    width = max((display_width(w) for w in who), default=0)
    for r, name in zip(card.rows, who, strict=True):
        score = "-" if r.score is None else f"{r.score:.1%}{'*' if r.wilson else ''}"
        change = "-" if r.change is None else f"{r.change:+.1%}"
        active = "-" if r.active_rate is None else f"{r.active_rate:.1%}"
        line = t.gettext(
            "{who}  cohort {cohort:>8.2f}  activated {activated:>8.2f}  score {score:>7}  "
            "change {change:>7}  动户率 {active:>6}",
            who=pad(name, width),
            cohort=r.cohort,
            activated=r.activated,
            score=score,
            change=change,
            active=active,
        )
        if r.points is not None:
            line += t.gettext("  points {points:6.2f}  #{rank}", points=r.points, rank=r.rank)
        lines.append(line)
    return lines


@scorecard_app.command("plan")
@reports_errors
def plan(
    period: Annotated[str, typer.Option(help="A month 2026-11, a quarter 2026-Q4 or a year 2026.")],
    branch: Annotated[str, typer.Option(help="The branch (code) whose subtree it covers.")],
    k: Annotated[int, typer.Option(help="Transactions in 30 days that make an activation.")] = 3,
) -> None:
    """A draft plan for a period and a branch; `approve` freezes its baseline."""
    from fleet.core.db import session_scope
    from fleet.pay import plans

    with session_scope() as session:
        made = plans.create_plan(session, cli_actor(), period=period, branch_code=branch, k=k)
        typer.echo(f"plan {made.id}: {made.period} {branch} (k = {made.k}), draft")


@scorecard_app.command("approve")
@reports_errors
def approve(plan_id: Annotated[int, typer.Argument(help="The plan's id.")]) -> None:
    """Approves a plan and freezes its baseline (the units and cohort at the period's start)."""
    from fleet.core.db import session_scope
    from fleet.pay import plans

    with session_scope() as session:
        done = plans.approve(session, cli_actor(), plan_id)
        typer.echo(f"plan {done.id}: {done.period} approved, baseline frozen")


@scorecard_app.command("weights")
@reports_errors
def set_weights(
    role: Annotated[str | None, typer.Option(help="The role whose weights to set.")] = None,
    assign: Annotated[
        list[str] | None,
        typer.Option("--set", help="measure=weight (0..100), e.g. activation=40; repeatable."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Shows the weights of the five measures per role, or sets some of one role's."""
    from fleet.core.db import session_scope
    from fleet.pay import weights

    with session_scope() as session:
        if assign:
            if role is None:
                raise fail("--set needs --role")
            pairs: dict[str, int] = {}
            for item in assign:
                name, _, value = item.partition("=")
                if not value.strip().lstrip("-").isdigit():
                    raise fail("--set {item!r} is not measure=weight", item=item)
                pairs[name.strip()] = int(value)
            weights.set_weights(session, cli_actor(), role, pairs)
        table = {
            r: {m.value: w for m, w in ws.items()} for r, ws in weights.all_roles(session).items()
        }
    if as_json:
        typer.echo(json.dumps(table, ensure_ascii=False, indent=1))
        return
    for name, ws in table.items():
        if role is None or name == role:
            typer.echo(f"{name:<12} " + "  ".join(f"{m} {w}" for m, w in ws.items()))


@scorecard_app.command("import")
@reports_errors
def import_rates(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX: 工号, 期间, rates.")],
) -> None:
    """Imports the four other 五提升 rates per staff member and period; refused with the rows
    listed, nothing changed, on an unknown staff member or period."""
    from fleet.core.db import session_scope
    from fleet.pay import rates

    if not file.is_file():
        raise fail("{file} is not a file", file=file)
    with session_scope() as session:
        stored = rates.import_rates(session, cli_actor(), file, file.name)
    typer.echo(f"{file}: {stored} rates imported")
