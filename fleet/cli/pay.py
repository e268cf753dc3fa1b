"""`fleet fees show|set|example|class|rebuild` on the command line."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import cli_actor, cli_lang, display_width, fail, pad, reports_errors
from fleet.core.i18n import N_, Texts

if TYPE_CHECKING:
    from fleet.pay.scorecard import Scorecard

fees_app = typer.Typer(
    help="The fee schedule (费率表): what each transaction earns the bank.", no_args_is_help=True
)
revenue_app = typer.Typer(help="What units earn (收益) and 收益率.")
scorecard_app = typer.Typer(help="The 五提升 scorecard: figures, plans, weights, imported rates.")
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
# `fleet revenue`'s heading by what it groups by (yields.By), in the reader's language.
REVENUE_HEADINGS = {
    "unit": N_("收益率 by unit, {period} ({start} – {end}):"),
    "staff": N_("收益率 by staff member, {period} ({start} – {end}):"),
    "branch": N_("收益率 by branch, {period} ({start} – {end}):"),
    "market": N_("收益率 by market, {period} ({start} – {end}):"),
}


def _print_schedule(rows: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1, default=str))
        return
    for line in schedule_lines(rows, lang.texts()):
        typer.echo(line)


def schedule_lines(rows: list[dict[str, object]], t: Texts) -> list[str]:
    """The fee schedule as text in `t`'s language: a line per type, class and dates."""
    from fleet.core.words import FEE_TYPE, MERCHANT_CLASS

    if not rows:
        return [t.gettext("no fee schedule: every transaction earns 0")]
    types = [t.gettext(FEE_TYPE.get(str(r["txn_type"]), str(r["txn_type"]))) for r in rows]
    classes = [
        t.gettext(MERCHANT_CLASS.get(str(r["merchant_class"]), str(r["merchant_class"])))
        for r in rows
    ]
    type_width = max(display_width(x) for x in types)
    class_width = max(display_width(x) for x in classes)
    lines = []
    for r, kind, klass in zip(rows, types, classes, strict=True):
        cap = "" if r["cap_fen"] is None else t.gettext(" cap {cap} fen", cap=r["cap_fen"])
        lines.append(
            f"{pad(kind, type_width)} {pad(klass, class_width)} "
            + t.gettext(
                "{start} → {until}: {fixed} fen + {rate} ppm, min {least} fen{cap}; "
                "network {network} ppm{example}",
                start=r["effective_from"],
                until=r["effective_to"] or "…",
                fixed=r["fixed_fen"],
                rate=r["rate_ppm"],
                least=r["min_fen"],
                cap=cap,
                network=r["network_ppm"],
                example=t.gettext("  (example rates)") if r["example"] else "",
            )
        )
    return lines


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
    except (ValueError, TypeError, ValidationError) as exc:  # (a path: said with its fix)
        raise fail(
            "{file} is not a JSON list of fee rows: {problem}",
            file=file,
            problem=str(exc).splitlines()[0],
        ) from None
    with session_scope() as session:
        made = fees.set_schedule(session, cli_actor(), rules)
    typer.echo(lang.texts().gettext("fee schedule set: {n} rows", n=len(made)))


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
    from fleet.core.words import MERCHANT_CLASS

    t = lang.texts()
    typer.echo(
        t.gettext(
            "merchant {merchant}: {fee_class}",
            merchant=merchant,
            fee_class=t.gettext(MERCHANT_CLASS[chosen.value]),
        )
    )


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
    typer.echo(lang.texts().gettext("priced {n} transactions", n=priced))


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
    from fleet.core.names import named
    from fleet.inventory import service as inventory
    from fleet.pay import periods, yields
    from fleet.scoring.service import today_local

    try:
        grouping = yields.By(by)
    except ValueError:
        raise fail("--by {by!r} is not unit, staff, branch or market", by=by) from None
    chosen = periods.parse(period) if period else periods.this_month(today_local())
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, cli_actor(), branch).id if branch else None
        rows = yields.yields(session, cli_actor(), by=grouping, period=chosen, branch_id=branch_id)
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows], ensure_ascii=False, indent=1))
        return
    t = lang.texts()
    typer.echo(
        t.gettext(
            REVENUE_HEADINGS[grouping.value],
            period=chosen.text,
            start=chosen.start,
            end=chosen.last,
        )
    )
    keys = [named(r.name, r.key) for r in rows]  # a branch, person or market by name first
    width = max([20, *(display_width(k) for k in keys)])
    for r, key in zip(rows, keys, strict=True):
        typer.echo(
            pad(key, width)
            + t.gettext(
                " units {units:>6}  txns {txns:>8}  net {net:>12}  cost {cost:>12}  收益率 {rate}",
                units=r.units,
                txns=r.txn_count,
                net=f"{r.net_fen / 100:,.2f}",
                cost=f"{r.cost_fen / 100:,.2f}",
                rate="-" if r.yield_rate is None else f"{r.yield_rate:.1%}",
            )
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
        written = sheet.write(card, out, cli_lang())  # HR's workbook in the reader's language
        typer.echo(lang.texts().gettext("{path}: {n} rows", path=out, n=written))
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
        typer.echo(
            lang.texts().gettext(
                "plan {number}: {period} {branch} (k = {k}), draft",
                number=made.id,
                period=made.period,
                branch=branch,
                k=made.k,
            )
        )


@scorecard_app.command("approve")
@reports_errors
def approve(plan_id: Annotated[int, typer.Argument(help="The plan's id.")]) -> None:
    """Approves a plan and freezes its baseline (the units and cohort at the period's start)."""
    from fleet.core.db import session_scope
    from fleet.pay import plans

    with session_scope() as session:
        done = plans.approve(session, cli_actor(), plan_id)
        typer.echo(
            lang.texts().gettext(
                "plan {number}: {period} approved, baseline frozen",
                number=done.id,
                period=done.period,
            )
        )


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
    from fleet.core.words import ROLE
    from fleet.pay.sheet import MEASURE_NAMES

    t = lang.texts()
    shown = {name: t.gettext(ROLE.get(name, name)) for name in table if role in (None, name)}
    width = max((display_width(w) for w in shown.values()), default=0)
    for name, said in shown.items():
        measures = "  ".join(
            f"{t.gettext(MEASURE_NAMES.get(m, m))} {w}" for m, w in table[name].items()
        )
        typer.echo(f"{pad(said, width)}  {measures}")


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
    typer.echo(lang.texts().gettext("{path}: {n} rates imported", path=file, n=stored))
