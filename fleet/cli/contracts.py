"""`fleet contracts list|show|settle`: contracts (承包), their progress and statements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fleet.cli.common import cli_actor, fail, reports_errors

app = typer.Typer(
    help="Contracts (承包): targets for a portfolio, paid as a share of its net revenue.",
    no_args_is_help=True,
)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


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
        raise fail(f"--status {status!r} is not draft, approved, running or settled") from None
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
        held = ", ".join(m.username for m in r.members)
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
        raise fail(f"--out {out} must end in .xlsx")
    actor = cli_actor()
    with session_scope() as session:
        contract = contracts.get(session, actor, contract_id)
        if period is None and contract.status is not ContractStatus.settled:
            contracts.settle(session, actor, contract_id)
        made = contracts.statement(session, actor, contract_id, month=period)
        shown = contracts.public(session, actor, contract)
    if out is not None:
        contract_sheets.write_xlsx(shown, made, out)
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
    if out is not None:
        typer.echo(f"written: {out}")
