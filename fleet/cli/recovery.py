"""`fleet recovery suggest|list|sweep` and `fleet redeploy suggest` on the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from fleet.cli import lang
from fleet.cli.common import ShowAll, cli_actor, counted_said, fail, listed_json, reports_errors
from fleet.core.i18n import N_

app = typer.Typer(
    help="Recovery (回收) of idle units: suggestions and the queue.", no_args_is_help=True
)
redeploy_app = typer.Typer(help="Redeployment (二次营销) of in-stock units.", no_args_is_help=True)

Branch = Annotated[str | None, typer.Option(help="Only this branch (its code) and those below it.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
# `fleet recovery list`'s heading by --status: (every one shown, a cut list).
LIST_HEADINGS = {
    "pending": (N_("{total} pending requests"), N_("{shown} of {total} pending requests ({more})")),
    "approved": (
        N_("{total} approved requests"),
        N_("{shown} of {total} approved requests ({more})"),
    ),
    "rejected": (
        N_("{total} rejected requests"),
        N_("{shown} of {total} rejected requests ({more})"),
    ),
    "completed": (
        N_("{total} completed requests"),
        N_("{shown} of {total} completed requests ({more})"),
    ),
    "cancelled": (
        N_("{total} cancelled requests"),
        N_("{shown} of {total} cancelled requests ({more})"),
    ),
    "withdrawn": (
        N_("{total} withdrawn requests"),
        N_("{shown} of {total} withdrawn requests ({more})"),
    ),
    "all": (N_("{total} all requests"), N_("{shown} of {total} all requests ({more})")),
}
# The recovery rules' names, as the settings page words them (fleet.pages.admin.settings).
RULES = {
    "dormant_revisited": N_("Dormant after revisits"),
    "never_used": N_("Never used"),
    "no_need": N_("Merchant does not need it"),
    "merchant_gone": N_("Merchant closed or moved"),
}
# `fleet recovery sweep`'s counts (completion.sync and cancel_if_used_again), in words.
SWEPT = {
    "completed": N_("completed {n}"),
    "cancelled": N_("cancelled {n}"),
    "adopted": N_("adopted {n}"),
    "used_again": N_("used again {n}"),
}
Limit = Annotated[int, typer.Option(help="At most this many.")]


def _branch_id(session: object, code: str | None) -> int | None:
    from fleet.inventory import service as inventory

    return inventory.branch_by_code(session, cli_actor(), code).id if code else None  # type: ignore[arg-type]


@app.command("suggest")
@reports_errors
def suggest(
    branch: Branch = None,
    limit: Limit = 20,
    show_all: ShowAll = False,
    raise_: Annotated[
        bool, typer.Option("--raise", help="Also raise every suggestion as a pending request.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Deployed units a recovery rule says to take back, with the reason and its evidence."""
    from fleet.core.db import session_scope
    from fleet.core.names import named
    from fleet.core.paging import cut
    from fleet.core.words import USAGE
    from fleet.inventory import service as inventory
    from fleet.recovery import suggestions

    if limit < 1:
        raise fail("--limit must be at least 1")
    with session_scope() as session:
        branch_id = _branch_id(session, branch)
        found = suggestions.suggest(session, cli_actor(), branch_id=branch_id)
        branches = inventory.branch_names(session, {s.branch_code for s in found})
        raised = (
            len(suggestions.raise_suggestions(session, cli_actor(), branch_id=branch_id))
            if raise_
            else 0
        )
    page = cut(found, None if show_all else limit)
    if as_json:
        typer.echo(listed_json(page))
        return
    from fleet.core.words import MERCHANT_STATUS

    t = lang.texts()
    typer.echo(
        counted_said(
            page,
            t,
            N_("{total} units suggested for recovery"),
            N_("{shown} of {total} units suggested for recovery ({more})"),
        )
    )
    for s in page.items:
        usage = s.evidence.get("usage", {})
        where = named(branches.get(s.branch_code or ""), s.branch_code)
        status = usage.get("status")
        merchant = s.evidence.get("merchant_status")
        typer.echo(
            f"\n{s.sn}  {where}  {s.merchant_code} {s.merchant_name}  "
            f"[{t.gettext(RULES.get(s.rule, s.rule))}]\n"
            f"  {t.phrase(s.why)}\n  "
            + t.gettext(
                "evidence: status {status}, last used {last_used}, deployed {deployed}, "
                "merchant {merchant}, visits {visits}",
                status=t.in_sentence(USAGE[status]) if status in USAGE else status,
                last_used=usage.get("last_used_on") or "-",
                deployed=usage.get("deployed_on") or "-",
                merchant=t.in_sentence(MERCHANT_STATUS[merchant])
                if merchant in MERCHANT_STATUS
                else merchant,
                visits=len(s.evidence.get("visits", [])),
            )
        )
    if raise_:
        typer.echo("\n" + t.gettext("{n} requests raised", n=raised))


@app.command("list")
@reports_errors
def list_(
    branch: Branch = None,
    status: Annotated[
        str,
        typer.Option(help="pending (the queue), approved, rejected, completed, cancelled, all."),
    ] = "pending",
    limit: Limit = 50,
    show_all: ShowAll = False,
    as_json: AsJson = False,
) -> None:
    """Recovery requests: by default the approval queue, overdue ones flagged."""
    from fleet.auth import service as auth
    from fleet.core.db import session_scope
    from fleet.core.i18n import local_day
    from fleet.core.names import named
    from fleet.core.paging import MAX_LIMIT, Page
    from fleet.core.words import REQUEST
    from fleet.inventory import service as inventory
    from fleet.recovery import service
    from fleet.recovery.models import RequestStatus

    if status != "all" and status not in RequestStatus.__members__:
        raise fail(
            "--status {status!r}: use pending, approved, rejected, completed, cancelled or all",
            status=status,
        )
    with session_scope() as session:
        rows, total = service.list_requests(
            session,
            cli_actor(),
            status=None if status == "all" else RequestStatus(status),
            branch_id=_branch_id(session, branch),
            limit=MAX_LIMIT if show_all else limit,
        )
        items = service.public(session, rows)
        branches = inventory.branch_names(session, {r.branch_code for r in items})
        people = auth.full_names(session, {r.raised_by_name for r in items})
    page = Page(items=items, total=total, limit=limit, offset=0)
    if as_json:
        typer.echo(listed_json(page))
        return
    t = lang.texts()
    more = (
        t.gettext("at most {most} at once: narrow with --branch", most=MAX_LIMIT)
        if show_all
        else None
    )
    whole, cut = LIST_HEADINGS[status]
    typer.echo(counted_said(page, t, whole, cut, more))
    for r in page.items:
        flag = "  " + t.gettext("OVERDUE") if r.overdue else ""
        where = named(branches.get(r.branch_code or ""), r.branch_code)
        who = named(people.get(r.raised_by_name), r.raised_by_name)
        typer.echo(
            f"#{r.id}  {r.sn}  {where}  {r.merchant_code}  "
            f"{t.gettext(REQUEST[r.status.value])}  "
            + t.gettext("raised {day} by {who}", day=local_day(r.raised_at), who=who)
            + f"{flag}\n  {t.phrase(r.why)}"
        )


@app.command("sweep")
@reports_errors
def sweep() -> None:
    """After scoring: cancels requests whose unit is used again; syncs with visit outcomes."""
    from fleet.core.db import session_scope
    from fleet.recovery import completion

    with session_scope() as session:
        counts = completion.sync(session)
        counts["used_again"] = len(completion.cancel_if_used_again(session))
    t = lang.texts()
    comma = "，" if t.lang == "zh" else ", "
    typer.echo(comma.join(t.gettext(SWEPT[k], n=v) for k, v in counts.items()))


@redeploy_app.command("suggest")
@reports_errors
def redeploy_suggest(
    branch: Branch = None,
    limit: Limit = 20,
    show_all: ShowAll = False,
    targets: Annotated[int, typer.Option(help="Targets per unit.")] = 3,
    as_json: AsJson = False,
) -> None:
    """Every in-stock unit, longest waiting first, and where it should go, explained."""
    from fleet.core.db import session_scope
    from fleet.core.names import named
    from fleet.core.paging import Page
    from fleet.inventory import service as inventory
    from fleet.recovery import redeploy

    if limit < 1:
        raise fail("--limit must be at least 1")
    with session_scope() as session:
        branch_id = _branch_id(session, branch)
        found = redeploy.redeploy_suggestions(
            session,
            cli_actor(),
            branch_id=branch_id,
            targets=targets,
            limit=None if show_all else limit,
        )
        total = redeploy.count_in_stock(session, cli_actor(), branch_id=branch_id)
        branches = inventory.branch_names(session, {u.branch_code for u in found})
    page = Page(items=found, total=total, limit=limit, offset=0)
    if as_json:
        typer.echo(listed_json(page))
        return
    said = lang.texts()
    typer.echo(
        counted_said(
            page,
            said,
            N_("{total} in-stock units, longest waiting first"),
            N_("{shown} of {total} in-stock units, longest waiting first ({more})"),
        )
    )
    for u in page.items:
        where = named(branches.get(u.branch_code), u.branch_code)
        typer.echo(f"\n{u.sn}  {where}  " + said.gettext("in stock {n} days", n=u.days_in_stock))
        if not u.targets:
            typer.echo("  " + said.gettext("no market with merchants lacking a unit within reach"))
        for t in u.targets:
            names = ", ".join(f"{p.merchant_code} {p.merchant_name}" for p in t.prospects)
            typer.echo(
                f"  → {said.phrase(t.why)}\n    " + said.gettext("merchants: {names}", names=names)
            )
