"""`fleet score` and `fleet kpi`: utilisation statuses, scores and KPIs on the command line."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.cli.common import cli_actor, display_width, fail, pad, reports_errors
from fleet.core.i18n import N_

if TYPE_CHECKING:
    from fleet.core.i18n import Texts
    from fleet.scoring.kpi import KpiReport

AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="As-of date, YYYY-MM-DD: scores count the days before it. Default: today "
        "(Asia/Shanghai) for `score`, the latest scored date for `kpi`.",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
# The usage statuses the KPI table counts, headed by their words (core.words).
BY_STATUS = ("declining", "idle", "dormant", "never_used", "new")

# The KPI table's headings: English msgids, said in the terminal's language (the pages'
# overview uses the same words).
GROUP_TITLES = {
    None: N_("Scope"),
    "branch": N_("Branch"),
    "market": N_("Market"),
    "category": N_("Category"),
    "staff": N_("Staff"),
}
COLUMNS = (
    N_("Deployed terminals"),
    N_("Active terminals"),
    N_("Active-terminal rate"),
    N_("Usage rate"),
    N_("Activations"),
)
# The row of the units without a group (kpi._flat_groups), in words.
NO_GROUP = {"market": N_("not in a market"), "staff": N_("unassigned")}
WEEK_COLUMNS = (
    N_("As of"),
    N_("Deployed terminals"),
    N_("Active-terminal rate"),
    N_("Usage rate"),
    N_("Activations"),
)


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail("--as-of {value!r} is not a date; write it as YYYY-MM-DD", value=text) from None


@reports_errors
def score(
    as_of: AsOf = None,
    weeks: Annotated[
        int, typer.Option(help="Also score the N weekly as-of dates before it, for trends.")
    ] = 0,
    as_json: AsJson = False,
) -> None:
    """Scores every deployed terminal as of a date (status, days since last use, 30/90-day
    counts and amounts, trend, 0-100 peer-group score) and keeps them for that date.
    Prints one line per as-of date; --json prints an object (a list with --weeks)."""
    from fleet.core.db import session_scope
    from fleet.scoring import service as scoring

    day = _parse_date(as_of) or scoring.today_local()
    if weeks < 0:
        raise fail("--weeks must not be negative")
    with session_scope() as session:
        summaries = scoring.score_weeks(session, as_of=day, weeks=weeks)
    if as_json:
        payload = [s.model_dump(mode="json") for s in summaries]
        typer.echo(json.dumps(payload if weeks else payload[0], ensure_ascii=False))
        return
    from fleet.cli import lang
    from fleet.core.words import USAGE

    t = lang.texts()
    comma = "，" if t.lang == "zh" else ", "
    for summary in summaries:
        counts = comma.join(
            f"{t.in_sentence(USAGE.get(status, status))} {n}"
            for status, n in summary.by_status.items()
        )
        typer.echo(
            t.gettext(
                "{day}: {n} terminals scored in {seconds} s: {counts}",
                day=summary.as_of,
                n=summary.terminals,
                seconds=f"{summary.seconds:.1f}",
                counts=counts,
            )
        )


@reports_errors
def kpi(
    as_of: AsOf = None,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help="branch, market, category or staff.")
    ] = None,
    weeks: Annotated[int, typer.Option(help="Weekly points ending at the as-of date.")] = 1,
    branch: Annotated[
        str | None, typer.Option(help="Only this branch (its code) and those below it.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """动户率 (active rate), 使用率 (usage rate: transactions per terminal per day over 30
    days), counts by status and activations, from the stored scores, as a table or JSON."""
    from fleet.core.db import session_scope
    from fleet.inventory import service as inventory
    from fleet.scoring import kpi as kpis

    if group_by is not None and group_by not in kpis.KEY_COLUMN:
        raise fail(
            "--group-by {group_by!r}: use branch, market, category or staff", group_by=group_by
        )
    day = _parse_date(as_of)
    actor = cli_actor()
    with session_scope() as session:
        branch_id = inventory.branch_by_code(session, actor, branch).id if branch else None
        report = kpis.kpis(
            session,
            actor,
            as_of=day,
            group_by=group_by,  # type: ignore[arg-type]
            weeks=weeks,
            branch_id=branch_id,
        )
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False))
        return
    from fleet.cli import lang

    for line in render(report, lang.texts()):
        typer.echo(line)


# --- text output ------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Aligned columns, the first left-aligned, the others right-aligned; [] draws a rule."""
    filled = [header, *(r for r in rows if r)]
    widths = [max(display_width(r[i]) for r in filled) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            pad(c, w, right=i > 0) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return [line(header), rule, *(line(r) if r else rule for r in rows)]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _usage(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def render(report: KpiReport, t: Texts) -> list[str]:
    """The KPI report as text in `t`'s language: a table of groups and the total, then the
    weekly trend."""
    from fleet.core.names import named
    from fleet.core.words import USAGE

    total = report.total
    window = t.gettext("{days}-day window", days=report.window_days)
    if total.compared_with:
        window = t.gettext("{window}; activations vs {day}", window=window, day=total.compared_with)
    lines = [t.gettext("KPIs as of {day} ({window})", day=report.as_of, window=window), ""]
    header = [
        t.gettext(GROUP_TITLES.get(report.group_by, N_("Group"))),
        *(t.gettext(c) for c in COLUMNS),
        *(t.gettext(USAGE[s]) for s in BY_STATUS),
    ]
    body: list[list[str]] = []
    for row in [*report.rows, total]:
        if row is total and report.rows:
            body.append([])  # a rule above the total
        if row.kind == "total":
            name = t.gettext("Total")
        elif row.kind == "none" and report.group_by in NO_GROUP:
            name = t.gettext(NO_GROUP[report.group_by])
        else:
            label = (
                t.gettext("{name} (its own units)", name=row.label)
                if row.kind == "own"
                else row.label
            )
            if report.group_by == "staff":
                name = named(label, row.code)  # a person by name, the username after
            else:
                name = f"{row.code} {label}" if row.code and row.code != row.label else label
        body.append(
            [
                name,
                str(row.deployed),
                str(row.active),
                _rate(row.active_rate),
                _usage(row.usage_rate),
                _count(row.activations),
                *(str(row.by_status[s]) for s in BY_STATUS),
            ]
        )
    lines += table(header, body)
    if len(total.weeks) > 1:
        lines += ["", t.gettext("Week by week ({total}):", total=t.gettext("Total"))]
        lines += table(
            [t.gettext(c) for c in WEEK_COLUMNS],
            [
                [
                    str(p.as_of),
                    str(p.deployed),
                    _rate(p.active_rate),
                    _usage(p.usage_rate),
                    _count(p.activations),
                ]
                for p in total.weeks
            ],
        )
    return lines
