"""`fleet markets rank` and `fleet campaign report`: where to grow, and did it work."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import ShowAll, cli_actor, counted_said, fail, listed_json, reports_errors
from fleet.cli.scoring import table
from fleet.core.i18n import N_, Texts
from fleet.core.names import named

if TYPE_CHECKING:
    from fleet.markets.ranking import RankedMarket
    from fleet.markets.report import CampaignReport

app = typer.Typer(help="Wholesale markets: opportunity ranking.", no_args_is_help=True)
campaign_app = typer.Typer(help="Market campaigns: reports.", no_args_is_help=True)
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("rank")
@reports_errors
def rank(
    category: Annotated[
        str | None,
        typer.Option(help="Only this trade: appliances … farm_supplies, or 家电 … 农资."),
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Only markets run by this branch (code) and below.")
    ] = None,
    limit: Annotated[int, typer.Option(help="Show the best N.", min=1)] = 50,
    show_all: ShowAll = False,
    as_json: AsJson = False,
) -> None:
    """Ranks wholesale markets by opportunity (0-100), best first, each with its reason:
    unserved merchants, how units of the trade do, free stock nearby; less for saturated
    markets and markets campaigned in recently."""
    from fleet.core.db import session_scope
    from fleet.core.paging import cut
    from fleet.inventory import service as inventory
    from fleet.markets import coverage, ranking

    actor = cli_actor()
    with session_scope() as session:
        trade = coverage.parse_category(category)
        branch_id = inventory.branch_by_code(session, actor, branch).id if branch else None
        ranked = ranking.rank_markets(session, actor, category=trade, branch_id=branch_id)
    page = cut(ranked, None if show_all else limit)
    if as_json:
        typer.echo(listed_json(page))
        return
    t = lang.texts()
    if not page.items:
        typer.echo(t.gettext("no markets match"))
        return
    typer.echo(
        counted_said(
            page,
            t,
            N_("{total} markets, best first"),
            N_("{shown} of {total} markets, best first ({more})"),
        )
    )
    for line in render_ranking(page.items, t):
        typer.echo(line)


# The ranking's headings.
RANKING_COLUMNS = (
    N_("Market"),
    N_("Category"),
    N_("Score"),
    N_("Unserved merchants"),
    N_("Penetration"),
    N_("Active-terminal rate"),
    N_("Units in stock nearby"),
)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def render_ranking(rows: list[RankedMarket], t: Texts) -> list[str]:
    """The ranking as a table in `t`'s language, then one reason line per market."""
    from fleet.core.words import MARKET_CATEGORY

    body = [
        [
            f"{r.rank}. {named(r.name, r.code)}",
            t.gettext(MARKET_CATEGORY.get(r.category, r.category)),
            f"{r.score:.1f}",
            str(r.potential),
            _pct(r.penetration),
            _pct(r.active_rate),
            str(r.stock_nearby),
        ]
        for r in rows
    ]
    header = [t.gettext(h) for h in RANKING_COLUMNS]
    lines = table(header, body)
    lines.append("")
    lines += [f"{r.rank}. {r.code}: {t.phrase(r.why)}" for r in rows]
    return lines


@campaign_app.command("report")
@reports_errors
def report(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    out: Annotated[
        Path | None, typer.Option(help="Also write the report to this .xlsx file.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """A campaign's outcome: placed against target, active 30 days later, cost per active
    placement, the market's 动户率 before and after; --out writes it as XLSX."""
    from fleet.core.db import session_scope
    from fleet.markets import campaigns, exports
    from fleet.markets import report as reports

    if out is not None and out.suffix.lower() != ".xlsx":
        raise fail("--out {out}: the report is written as .xlsx", out=out)
    actor = cli_actor()
    with session_scope() as session:
        campaign = campaigns.get_campaign(session, actor, campaign_id)
        result = reports.campaign_report(session, campaign)
        if out is not None:
            listed = reports.prospect_list(session, campaign)
            names = exports.names_for(session, result, listed)
            exports.write_report_xlsx(result, listed, out, names)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
    else:
        for line in render_report(result, lang.texts()):
            typer.echo(line)
    if out is not None and not as_json:
        typer.echo(lang.texts().gettext("written: {path}", path=out))


def render_report(r: CampaignReport, t: Texts) -> list[str]:
    """The report as a few lines of text in `t`'s language."""
    from fleet.core.words import CAMPAIGN_PHASE

    c = r.campaign
    before = f"{_pct(r.before.active_rate)} ({r.before.as_of})" if r.before else "-"
    after = f"{_pct(r.after.active_rate)} ({r.after.as_of})" if r.after else "-"
    cost = "-" if r.cost_per_active_yuan is None else f"{r.cost_per_active_yuan:,.2f}"
    return [
        t.gettext(
            "campaign {number}: {name} — {market}, {start} to {end} ({phase}); data to {day}",
            number=c.id,
            name=c.name,
            market=named(c.market_name, c.market_code),
            start=c.starts_on,
            end=c.ends_on,
            phase=t.in_sentence(CAMPAIGN_PHASE.get(c.phase.value, c.phase.value)),
            day=r.as_of,
        ),
        t.gettext(
            "placed: {placed} of target {target} ({share})",
            placed=r.placed,
            target=r.target,
            share=_pct(r.placed_vs_target),
        ),
        t.gettext(
            "active after 30 days: {active} of {judged} judged ({rate}); {pending} under 30 days",
            active=r.active_after_30,
            judged=r.judged,
            rate=_pct(r.active_rate_after_30),
            pending=r.pending_30,
        ),
        t.gettext(
            "visits: {made} of {prospects} prospects; units set aside {aside}, unused {unused}",
            made=r.visits_made,
            prospects=r.prospects,
            aside=r.units_set_aside,
            unused=r.units_unused,
        ),
        t.gettext(
            "cost: {total} yuan in all, {each} yuan per active placement",
            total=f"{r.total_cost_yuan:,.2f}",
            each=cost,
        ),
        t.gettext("market's 动户率: before {before}, after {after}", before=before, after=after),
    ]
