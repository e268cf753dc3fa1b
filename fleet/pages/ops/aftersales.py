"""Operations' after-sales pages beside the ticket queue: the spare pool (suggested count and
shortfall per branch, marking a spare), service KPIs (by branch, contractor or model, with a
weekly trend), and contractors' monthly statements (XLSX download, sign-off; a month not over
is provisional). Everything through the after-sales services the API uses."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.aftersales import contractors, kpi, spares, statement, trend
from fleet.aftersales.models import RepairOutcome
from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core import files
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.i18n import N_
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.pages.charts import Series, line_chart
from fleet.pages.ops.common import branch_options, chosen_branch, render_ops, require_ops
from fleet.pages.render import redirect, texts_of
from fleet.scoring.service import today_local

router = APIRouter(include_in_schema=False)
KPI_BY = {
    "branch": N_("By branch"),
    "contractor": N_("By contractor"),
    "model": N_("By terminal model"),
    "age": N_("By unit age"),
}
TREND_WEEKS = 12
# Units back from the vendor listed before "显示 50 / 共 N" and a link to every one.
RETURNED_SHOWN = 50


def _spares_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    errors: dict[str, str] | None = None,
    sn: str = "",
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    branch = chosen_branch(session, caller, request.query_params.get("branch"))
    rows = spares.needs(session, caller.actor, branch_id=branch.id)
    names = {b.id: f"{b.name} ({b.code})" for b, _ in inventory.branch_tree(session, caller.actor)}
    return render_ops(
        request,
        "ops/spares.html",
        caller,
        status_code=status_code,
        title=t.gettext("Spare units"),
        branch=branch,
        rows=rows,
        names=names,
        short=sum(r.shortfall for r in rows),
        branch_choices=branch_options(session, caller),
        errors=errors or {},
        sn=sn,
    )


@router.get("/spares")
def spare_pool(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    return _spares_page(request, caller, session)


@router.post("/spares")
def mark_spare(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """Marks an in-stock unit as its branch's spare."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    sn = str(caller.form.get("sn", "")).strip()
    if not sn:
        said = {"sn": t.gettext("Enter the unit's serial number.")}
        return _spares_page(request, caller, session, errors=said, status_code=422)
    try:
        with attempt(session):
            spares.mark(session, caller.actor, sn)
    except NotFound:
        said = {"sn": t.gettext("No unit with this serial number in your branches.")}
        return _spares_page(request, caller, session, errors=said, sn=sn, status_code=422)
    except (Conflict, Invalid) as exc:
        said = {"sn": t.error(exc)}
        return _spares_page(request, caller, session, errors=said, sn=sn, status_code=409)
    return redirect(request.url.path, t.gettext("{sn} is now a spare.", sn=sn))


@router.get("/service-kpi")
def service_kpi(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    t = texts_of(request, caller)
    branch = chosen_branch(session, caller, request.query_params.get("branch"))
    by = request.query_params.get("by", "branch")
    if by not in KPI_BY:
        by = "branch"
    rows = kpi.kpis(session, caller.actor, by=by, branch_id=branch.id)  # type: ignore[arg-type]
    weeks = trend.weekly(session, caller.actor, today=today_local(), branch_id=branch.id)
    labels = [t.date(w.week_start, "M/d") for w in weeks]
    charts = [
        line_chart(
            t.gettext("Faults opened and restored by week"),
            labels,
            [
                Series(t.gettext("Opened"), [w.opened for w in weeks]),
                Series(t.gettext("Restored"), [w.restored for w in weeks]),
            ],
        ),
        line_chart(
            t.gettext("Restore SLA met by week"),
            labels,
            [
                Series(
                    t.gettext("SLA met"),
                    [(w.sla_met_pct or 0) / 100 if w.restored else None for w in weeks],
                )
            ],
            percent=True,
        ),
    ]
    names = {
        b.code: f"{b.name} ({b.code})" for b, _ in inventory.branch_tree(session, caller.actor)
    }
    if by == "contractor":
        names = {
            c.code: f"{c.name} ({c.code})" for c in contractors.list_all(session, caller.actor)
        }
    elif by == "age":
        names = {band: t.gettext("{band} years in service", band=band) for band in kpi.AGE_BANDS}
    return render_ops(
        request,
        "ops/service_kpi.html",
        caller,
        title=t.gettext("Service KPIs"),
        branch=branch,
        by=by,
        by_choices=[(k, t.gettext(v)) for k, v in KPI_BY.items()],
        rows=rows,
        names=names,
        weeks=weeks,
        charts=charts,
        branch_choices=branch_options(session, caller),
    )


def _month(raw: str | None) -> str:
    if raw:
        try:
            date.fromisoformat(f"{raw}-01")
            return raw
        except ValueError:
            pass
    return today_local().strftime("%Y-%m")


def _statements_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    month: str | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    month = _month(month or request.query_params.get("month"))
    found = contractors.list_all(session, caller.actor)
    made = [statement.build(session, caller.actor, c.code, month) for c in found]
    return render_ops(
        request,
        "ops/statements.html",
        caller,
        status_code=status_code,
        title=t.gettext("Contractors' statements"),
        month=month,
        statements=made,
        error=error,
    )


@router.get("/statements")
def statements(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    return _statements_page(request, caller, session)


@router.get("/statements/{code}/{month}.xlsx")
def statement_xlsx(
    request: Request, code: str, month: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    require_ops(request, caller)
    made = statement.build(session, caller.actor, code, month)
    lang = texts_of(request, caller).lang
    return files.download(
        f"{code}-{month}.xlsx", lambda path: statement.write_xlsx(made, path, lang)
    )


@router.post("/statements/{code}/{month}/sign-off")
def sign_off(
    request: Request, code: str, month: str, caller: PageCallerDep, session: SessionDep
) -> Response:
    require_ops(request, caller)
    t = texts_of(request, caller)
    try:
        with attempt(session):
            signed = statement.sign_off(session, caller.actor, code, month)
    except (Conflict, Invalid) as exc:
        return _statements_page(
            request, caller, session, month=month, error=t.error(exc), status_code=exc.status_code
        )
    flash = t.gettext(
        "Statement of {code} for {month} signed off: {amount}",
        code=code,
        month=month,
        amount=t.money(signed.amount_due),
    )
    return redirect(f"/ops/statements?month={month}", flash)


def _vendor_page(
    request: Request,
    caller: PageCaller,
    session: Session,
    *,
    errors: dict[int, str] | None = None,
    status_code: int = 200,
) -> Response:
    t = texts_of(request, caller)
    branch = chosen_branch(session, caller, request.query_params.get("branch"))
    every = request.query_params.get("returned") == "all"
    rows, returned_total = spares.vendor_repairs(
        session,
        caller.actor,
        branch_id=branch.id or 0,
        returned_limit=None if every else RETURNED_SHOWN,
    )
    names = {b.id: f"{b.name} ({b.code})" for b, _ in inventory.branch_tree(session, caller.actor)}
    return render_ops(
        request,
        "ops/vendor_repairs.html",
        caller,
        status_code=status_code,
        title=t.gettext("Vendor repairs"),
        branch=branch,
        away=[r for r in rows if r.returned_at is None],
        back=[r for r in rows if r.returned_at is not None],
        returned_total=returned_total,
        all_returned_url="?" + urlencode({"branch": branch.code, "returned": "all"}) + "#back",
        names=names,
        outcomes=[o.value for o in RepairOutcome],
        branch_choices=branch_options(session, caller),
        errors=errors or {},
    )


@router.get("/vendor-repairs")
def vendor_repairs(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    require_ops(request, caller)
    return _vendor_page(request, caller, session)


@router.post("/vendor-repairs/{repair_id}/back")
def vendor_back(
    request: Request, caller: PageCallerDep, session: SessionDep, repair_id: int
) -> Response:
    """Records a unit back from the vendor: into stock or retired, with the repair's cost."""
    require_ops(request, caller)
    t = texts_of(request, caller)
    raw_outcome = str(caller.form.get("outcome", ""))
    raw_cost = str(caller.form.get("cost", "") or "0").strip()
    try:
        outcome = RepairOutcome(raw_outcome)
        cost = float(raw_cost)
        if not cost >= 0 or cost > 1e7:
            raise ValueError(raw_cost)
    except ValueError:
        said = {repair_id: t.gettext("Choose back in stock or retired, and a cost of 0 or more.")}
        return _vendor_page(request, caller, session, errors=said, status_code=422)
    try:
        with attempt(session):
            spares.back_from_vendor(session, caller.actor, repair_id, outcome, cost=cost)
    except NotFound:
        said = {repair_id: t.gettext("This vendor repair is not in your branches.")}
        return _vendor_page(request, caller, session, errors=said, status_code=404)
    except (Conflict, Invalid) as exc:
        return _vendor_page(
            request, caller, session, errors={repair_id: t.error(exc)}, status_code=409
        )
    return redirect(
        "/ops/vendor-repairs" + (f"?{request.url.query}" if request.url.query else ""),
        t.gettext("The vendor repair is recorded as back."),
    )
