"""`fleet contracts list|show|draft|approve|settle`: contracts (承包), their progress and
statements. Drafting and approving go through the same service functions as the API
(fleet.pay.contracts.create and approve), so the rules live in one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlmodel import Session

from fleet.cli.common import cli_actor, cli_lang, fail, reports_errors
from fleet.core.access import Actor

app = typer.Typer(
    help="Contracts (承包): targets for a portfolio, paid as a share of its net revenue.",
    no_args_is_help=True,
)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
AS_HELP = "The user who does it (their role and branch decide what they may do)."


def _as_user(session: Session, username: str | None) -> Actor:
    """The actor for `--as USER` (their role and subtree), else the command line's own."""
    if username is None:
        return cli_actor()
    from fleet.auth import service as auth
    from fleet.inventory import service as inventory

    return auth.actor_for(session, inventory.staff_by_username(session, cli_actor(), username))


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else f"{fen / 100:,.2f}"


@app.command("list")
@reports_errors
def list_(
    status: Annotated[str | None, typer.Option(help="draft, approved, running or settled.")] = None,
    as_json: AsJson = False,
) -> None:
    """Every contract, newest period first (approved ones whose period began become running)."""
    from fleet.core.db import session_scope
    from fleet.pay import contracts
    from fleet.pay.contract_models import ContractStatus

    try:
        chosen = ContractStatus(status) if status else None
    except ValueError:
        raise fail(
            "--status {status!r} is not draft, approved, running or settled", status=status
        ) from None
    with session_scope() as session:
        contracts.start_due(session, cli_actor())
        rows = [
            contracts.public(session, cli_actor(), c)
            for c in contracts.list_contracts(session, cli_actor(), status=chosen)
        ]
    if as_json:
        typer.echo(
            json.dumps([r.model_dump(mode="json") for r in rows], ensure_ascii=False, indent=1)
        )
        return
    if not rows:
        typer.echo("no contracts")
    for r in rows:
        held = ", ".join(f"{m.full_name} ({m.username})" for m in r.members)
        typer.echo(
            f"#{r.id:<4} {r.status.value:<9} {r.period:<8} {r.name} — {held}; "
            f"{r.portfolio_kind.value} {r.portfolio_label}; "
            f"{r.commission_ppm / 10_000:g}%, settled {_yuan(r.settled_total_fen)}"
        )


@app.command("show")
@reports_errors
def show(
    contract_id: Annotated[int, typer.Argument(help="The contract's number.")],
    as_json: AsJson = False,
) -> None:
    """A contract's terms, baseline and attainment to date."""
    from fleet.core.db import session_scope
    from fleet.pay import contracts

    with session_scope() as session:
        shown = contracts.public(
            session, cli_actor(), contracts.get(session, cli_actor(), contract_id)
        )
        progress = contracts.progress(session, cli_actor(), contract_id)
    if as_json:
        payload = {
            "contract": shown.model_dump(mode="json"),
            "progress": progress.model_dump(mode="json") if progress else None,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    typer.echo(f"#{shown.id} {shown.name} ({shown.status.value}), {shown.period}")
    typer.echo(f"held by: {', '.join(f'{m.full_name} ({m.username})' for m in shown.members)}")
    typer.echo(f"portfolio: {shown.portfolio_kind.value} {shown.portfolio_label}")
    rate = shown.target_active_rate
    typer.echo(
        f"targets: 动户率 {'-' if rate is None else f'{rate:.1%}'}, "
        f"revenue {_yuan(shown.target_revenue_fen)} yuan; commission "
        f"{shown.commission_ppm / 10_000:g}%{' above the baseline' if shown.above_baseline else ''}"
        f", threshold {shown.threshold_pct}%, cap {shown.cap_pct}%"
    )
    if shown.approved_by_name:
        typer.echo(
            f"approved by {shown.approved_by_name}; baseline {_yuan(shown.baseline_net_fen)} yuan"
        )
    if progress:
        under = "" if progress.paid else " (under the threshold)"
        typer.echo(
            f"to date: {progress.units} units, {progress.active_units} active, "
            f"attainment {progress.attainment:.1%}{under}"
        )


@app.command("draft")
@reports_errors
def draft(
    name: Annotated[str, typer.Argument(help="The contract's name.")],
    period: Annotated[str, typer.Option(help="A month 2026-11, a quarter 2026-Q4 or a year 2026.")],
    commission: Annotated[
        float, typer.Option(help="The share of net revenue paid, in percent (8 for 8%).")
    ],
    member: Annotated[
        list[str],
        typer.Option(help="A staff member who holds it (username); repeat it for a team."),
    ],
    branch: Annotated[
        str | None, typer.Option(help="Portfolio: this branch and every branch below it.")
    ] = None,
    market: Annotated[
        str | None, typer.Option(help="Portfolio: the merchants of this wholesale market.")
    ] = None,
    merchant: Annotated[
        list[str] | None,
        typer.Option(help="Portfolio: this merchant (its code); repeat it for a list."),
    ] = None,
    target_active_rate: Annotated[
        float | None,
        typer.Option(help="Target 动户率 at the period's end, in percent (85 for 85%)."),
    ] = None,
    target_revenue: Annotated[
        float | None, typer.Option(help="Target net revenue over the period, in yuan.")
    ] = None,
    threshold: Annotated[
        int, typer.Option(help="Attainment in percent below which nothing is paid.")
    ] = 80,
    cap: Annotated[
        int, typer.Option(help="Attainment in percent above which nothing more is paid.")
    ] = 150,
    above_baseline: Annotated[
        bool,
        typer.Option(
            "--above-baseline",
            help="Pay only on net revenue above the baseline (the period before).",
        ),
    ] = False,
    as_user: Annotated[str | None, typer.Option("--as", help=AS_HELP)] = None,
    as_json: AsJson = False,
) -> None:
    """Drafts a contract for one staff member or a team (--member, repeated), over a
    portfolio given as one of --branch, --market or --merchant (repeated). Refused when
    another contract covers any of it in the same days."""
    from fleet.core.db import session_scope
    from fleet.core.errors import Invalid
    from fleet.pay import contracts
    from fleet.pay.contract_models import ContractCreate, PortfolioKind

    given = [kind for kind, value in (("branch", branch), ("market", market)) if value]
    given += ["merchants"] if merchant else []
    if len(given) != 1:
        raise Invalid("give the portfolio as one of --branch, --market or --merchant")
    data = ContractCreate(
        name=name,
        members=member,
        portfolio_kind=PortfolioKind(given[0]),
        branch_code=branch,
        market_code=market,
        merchant_codes=merchant or [],
        period=period,
        target_active_rate=None if target_active_rate is None else target_active_rate / 100,
        target_revenue_fen=None if target_revenue is None else round(target_revenue * 100),
        commission_ppm=round(commission * 10_000),
        above_baseline=above_baseline,
        threshold_pct=threshold,
        cap_pct=cap,
    )
    with session_scope() as session:
        actor = _as_user(session, as_user)
        made = contracts.public(session, actor, contracts.create(session, actor, data))
    if as_json:
        typer.echo(json.dumps(made.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    typer.echo(
        f"#{made.id} {made.name}: draft, {made.period}, "
        f"{made.portfolio_kind.value} {made.portfolio_label}; "
        f"approve it with `fleet contracts approve {made.id} --as USER`"
    )


@app.command("approve")
@reports_errors
def approve(
    contract_id: Annotated[int, typer.Argument(help="The contract's number.")],
    as_user: Annotated[
        str,
        typer.Option(
            "--as", help="The approver: operations above the contractor's branch, not a member."
        ),
    ],
    as_json: AsJson = False,
) -> None:
    """Approves a draft: locks its terms and the baseline (net revenue of the period
    before, 动户率 at the start), with an audit entry."""
    from fleet.core.db import session_scope
    from fleet.pay import contracts

    with session_scope() as session:
        actor = _as_user(session, as_user)
        done = contracts.public(session, actor, contracts.approve(session, actor, contract_id))
    if as_json:
        typer.echo(json.dumps(done.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    rate = done.baseline_active_rate
    typer.echo(
        f"#{done.id} {done.name}: {done.status.value}, approved by {done.approved_by_name}; "
        f"baseline {_yuan(done.baseline_net_fen)} yuan, "
        f"动户率 {'-' if rate is None else f'{rate:.1%}'}"
    )


@app.command("settle")
@reports_errors
def settle(
    contract_id: Annotated[int, typer.Argument(help="The contract's number.")],
    period: Annotated[
        str | None,
        typer.Option(
            help="A month of the period (2026-11): its accrual statement, nothing stored."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the statement as FILE.xlsx.")] = None,
    as_json: AsJson = False,
) -> None:
    """The final settlement once the period is over (stored, line per unit; shown again if
    settled already), or with --period a month's accrual."""
    from fleet.core.db import session_scope
    from fleet.pay import contract_sheets, contracts
    from fleet.pay.contract_models import ContractStatus

    if out is not None and out.suffix.lower() != ".xlsx":
        raise fail("--out {out} must end in .xlsx", out=out)
    actor = cli_actor()
    with session_scope() as session:
        contract = contracts.get(session, actor, contract_id)
        if period is None and contract.status is not ContractStatus.settled:
            contracts.settle(session, actor, contract_id)
        made = contracts.statement(session, actor, contract_id, month=period)
        shown = contracts.public(session, actor, contract)
    if out is not None:
        contract_sheets.write_xlsx(shown, made, out, cli_lang())
    if as_json:
        typer.echo(json.dumps(made.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    kind = "settlement" if made.final else "accrual"
    typer.echo(
        f"#{shown.id} {shown.name} {kind} {made.period}: {made.units} units, net "
        f"{_yuan(made.net_fen)}, attainment {made.attainment:.1%}, factor {made.factor:.2f}"
    )
    for line in made.lines:
        what = f"{line.kind.value:<9} {line.sn or '-':<14} {line.merchant_code or '-':<12}"
        extra = f" (activated {line.month}, fell back {line.lapsed_on})" if line.lapsed_on else ""
        typer.echo(
            f"  {what} txns {line.txn_count:>6}  net {_yuan(line.net_fen):>12}  "
            f"commission {_yuan(line.commission_fen):>10}{extra}"
        )
    typer.echo(f"total {_yuan(made.total_fen)} yuan ({len(made.lines)} lines)")
    for later in made.later:
        where = f"taken back in #{later.carried_to_id}" if later.carried_to_id else "outstanding"
        typer.echo(
            f"  fell back after the period: {later.sn} (activated {later.month}, fell back "
            f"{later.lapsed_on}) commission {_yuan(later.commission_fen)}: {where}"
        )
    if out is not None:
        typer.echo(f"written: {out}")
