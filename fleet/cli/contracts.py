"""`fleet contracts list|show|draft|approve|settle`: contracts (承包), their progress and
statements. Drafting and approving go through the same service functions as the API
(fleet.pay.contracts.create and approve), so the rules live in one place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from sqlmodel import Session

from fleet.cli import lang
from fleet.cli.common import cli_actor, cli_lang, display_width, fail, pad, reports_errors
from fleet.core.access import Actor
from fleet.core.i18n import Texts
from fleet.core.words import CONTRACT_LINE, CONTRACT_STATUS, PORTFOLIO_KIND

if TYPE_CHECKING:
    from fleet.pay.contract_models import ContractPublic, MemberPublic, Statement

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


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _status(t: Texts, status: object, cell: bool = False) -> str:
    """A contract's status in words: capitalised as a table's cell, else in a sentence."""
    word = CONTRACT_STATUS[getattr(status, "value", str(status))]
    return t.gettext(word) if cell else t.in_sentence(word)


def _portfolio(t: Texts, kind: object, label: str) -> str:
    """What a contract covers, in words: "网点及其下级网点：LS 兰山支行"."""
    said = t.in_sentence(PORTFOLIO_KIND[getattr(kind, "value", str(kind))])
    return t.gettext("{kind}: {label}", kind=said, label=label)


def _more(t: Texts, contract: ContractPublic) -> str:
    """After a label that names only the first merchants: how many of how many, and where
    every one is listed."""
    if len(contract.merchants) <= contract.label_names:
        return ""
    return t.gettext(
        " ({shown} of {total}; fleet contracts show {id} lists every one)",
        shown=contract.label_names,
        total=len(contract.merchants),
        id=contract.id,
    )


def _approver(session: Session, username: str | None) -> str:
    """The approver by name, the username after ("王芳 (ops_lanshan)")."""
    from fleet.auth import service as auth
    from fleet.core.names import named

    return named(auth.full_names(session, [username]).get(username or ""), username)


def _held(members: list[MemberPublic]) -> str:
    """Who holds it, by name first, the username second."""
    return ", ".join(f"{m.full_name} ({m.username})" for m in members)


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
    t = lang.texts()
    if not rows:
        typer.echo(t.gettext("no contracts"))
    width = max((display_width(_status(t, r.status, cell=True)) for r in rows), default=0)
    for r in rows:
        typer.echo(
            f"#{r.id:<4} {pad(_status(t, r.status, cell=True), width)} {r.period:<8} "
            + t.gettext(
                "{name} — {held}; {portfolio}; commission {rate}%, settled {settled}",
                name=r.name,
                held=_held(r.members),
                portfolio=_portfolio(t, r.portfolio_kind, r.portfolio_label) + _more(t, r),
                rate=f"{r.commission_ppm / 10_000:g}",
                settled=_yuan(r.settled_total_fen),
            )
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
        approver = _approver(session, shown.approved_by_name)
    if as_json:
        payload = {
            "contract": shown.model_dump(mode="json"),
            "progress": progress.model_dump(mode="json") if progress else None,
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    t = lang.texts()
    typer.echo(
        f"#{shown.id} "
        + t.gettext(
            "{name} ({status}), {period}",
            name=shown.name,
            status=_status(t, shown.status),
            period=shown.period,
        )
    )
    typer.echo(t.gettext("held by: {held}", held=_held(shown.members)))
    typer.echo(
        t.gettext(
            "portfolio: {portfolio}",
            portfolio=_portfolio(t, shown.portfolio_kind, shown.portfolio_label),
        )
    )
    if len(shown.merchants) > shown.label_names:  # the label names a few: here, every one
        from fleet.core.names import named

        typer.echo(
            t.gettext(
                "all {n} merchants: {merchants}",
                n=len(shown.merchants),
                merchants=t.comma.join(named(m.name, m.code) for m in shown.merchants),
            )
        )
    typer.echo(
        t.gettext(
            "targets: 动户率 {rate}, revenue {revenue} yuan; commission {commission}%{above}, "
            "threshold {threshold}%, cap {cap}%",
            rate=_rate(shown.target_active_rate),
            revenue=_yuan(shown.target_revenue_fen),
            commission=f"{shown.commission_ppm / 10_000:g}",
            above=t.gettext(" above the baseline") if shown.above_baseline else "",
            threshold=shown.threshold_pct,
            cap=shown.cap_pct,
        )
    )
    if shown.approved_by_name:
        typer.echo(
            t.gettext(
                "approved by {who}; baseline {baseline} yuan",
                who=approver,
                baseline=_yuan(shown.baseline_net_fen),
            )
        )
    if progress:
        typer.echo(
            t.gettext(
                "to date: {units} units, {active} active, attainment {attainment}{under}",
                units=progress.units,
                active=progress.active_units,
                attainment=_rate(progress.attainment),
                under="" if progress.paid else t.gettext(" (under the threshold)"),
            )
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
    t = lang.texts()
    typer.echo(
        f"#{made.id} "
        + t.gettext(
            "{name}: {status}, {period}, {portfolio}; approve it with `{command}`",
            name=made.name,
            status=_status(t, made.status),
            period=made.period,
            portfolio=_portfolio(t, made.portfolio_kind, made.portfolio_label),
            command=f"fleet contracts approve {made.id} --as USER",
        )
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
        approver = _approver(session, done.approved_by_name)
    if as_json:
        typer.echo(json.dumps(done.model_dump(mode="json"), ensure_ascii=False, indent=1))
        return
    t = lang.texts()
    typer.echo(
        f"#{done.id} "
        + t.gettext(
            "{name}: {status}, approved by {who}; baseline {baseline} yuan, 动户率 {rate}",
            name=done.name,
            status=_status(t, done.status),
            who=approver,
            baseline=_yuan(done.baseline_net_fen),
            rate=_rate(done.baseline_active_rate),
        )
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
    for text in statement_lines(shown.id, shown.name, made, lang.texts()):
        typer.echo(text)
    if out is not None:
        typer.echo(lang.texts().gettext("written: {path}", path=out))


def statement_lines(number: int | None, name: str, made: Statement, t: Texts) -> list[str]:
    """A settlement or a month's accrual as text in `t`'s language: the heading, a line per
    unit, baseline or clawback, the total, and what fell back after the period."""
    kind = t.gettext("Settlement") if made.final else t.gettext("Monthly accrual")
    lines = [
        f"#{number} "
        + t.gettext(
            "{name} {kind} {period}: {units} units, net {net}, attainment {attainment}, "
            "factor {factor}",
            name=name,
            kind=kind,
            period=made.period,
            units=made.units,
            net=_yuan(made.net_fen),
            attainment=_rate(made.attainment),
            factor=f"{made.factor:.2f}",
        )
    ]
    kinds = [t.gettext(CONTRACT_LINE[line.kind.value]) for line in made.lines]
    width = max((display_width(k) for k in kinds), default=0)
    for line, kind_said in zip(made.lines, kinds, strict=True):
        what = f"{pad(kind_said, width)} {line.sn or '-':<14} {line.merchant_code or '-':<12}"
        extra = (
            t.gettext(
                " (activated {month}, fell back {lapsed})", month=line.month, lapsed=line.lapsed_on
            )
            if line.lapsed_on
            else ""
        )
        lines.append(
            "  "
            + t.gettext(
                "{what} txns {txns:>6}  net {net:>12}  commission {commission:>10}{extra}",
                what=what,
                txns=line.txn_count,
                net=_yuan(line.net_fen),
                commission=_yuan(line.commission_fen),
                extra=extra,
            )
        )
    lines.append(
        t.gettext("total {total} yuan ({n} lines)", total=_yuan(made.total_fen), n=len(made.lines))
    )
    for later in made.later:
        where = (
            t.gettext("taken back in #{number}", number=later.carried_to_id)
            if later.carried_to_id
            else t.gettext("outstanding")
        )
        lines.append(
            "  "
            + t.gettext(
                "fell back after the period: {sn} (activated {month}, fell back {lapsed}) "
                "commission {commission}: {where}",
                sn=later.sn,
                month=later.month,
                lapsed=later.lapsed_on,
                commission=_yuan(later.commission_fen),
                where=where,
            )
        )
    return lines
