"""Campaign pages: the list, the planner (through `campaigns.create_campaign`, as the API),
and each campaign's page with its prospects, report and Excel export."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core import files, words
from fleet.core.access import Actor, Permission
from fleet.core.db import attempt
from fleet.core.errors import Conflict, Invalid, NotFound
from fleet.core.i18n import Texts, lang_of
from fleet.core.paging import cut
from fleet.core.requests import SessionDep
from fleet.inventory import service as inventory
from fleet.inventory.models import Market
from fleet.markets import campaigns, exports, planning, ranking, report
from fleet.markets.models import CampaignCreate, CampaignPhase, ProspectStatus
from fleet.pages.names import Names
from fleet.pages.render import redirect, render, texts_of

router = APIRouter(include_in_schema=False)

PHASE_LABELS = {p: words.CAMPAIGN_PHASE[p.value] for p in CampaignPhase}
PROSPECT_LABELS = {s: words.PROSPECT_STATUS[s.value] for s in ProspectStatus}
NAME_MAX, NOTES_MAX = 200, 1000
STAFF_PREFIX, UNIT_PREFIX = "staff:", "unit:"
UNITS_SHOWN = 30  # free units offered at first, nearest first; the page links to all of them


def require_reader(actor: Actor) -> None:
    """Marketing's pages are for those who may read campaigns (not field staff)."""
    actor.require(Permission.read_campaigns)


@router.get("/campaigns")
def campaigns_page(
    request: Request, caller: PageCallerDep, session: SessionDep, phase: str | None = None
) -> Response:
    """Campaigns of the user's subtree, newest first, with their progress."""
    require_reader(caller.actor)
    chosen = CampaignPhase(phase) if phase in set(CampaignPhase) else None
    found = campaigns.list_campaigns(session, caller.actor, phase_=chosen)
    t = texts_of(request, caller)
    return render(
        request,
        "marketing/campaigns.html",
        caller,
        title=t.gettext("Campaigns"),
        rows=report.campaigns_public(session, found),
        phase=chosen.value if chosen else "",
        phases=[("", t.gettext("All"))]
        + [(p.value, t.gettext(x)) for p, x in PHASE_LABELS.items()],
        phase_labels=PHASE_LABELS,
        can_plan=caller.actor.can(Permission.plan_campaigns),
    )


# --- the planner --------------------------------------------------------------------------------


def _market_or_none(session: Session, actor: Actor, market: str | None) -> Market | None:
    if not market or not market.strip().isdigit():
        return None
    return inventory.get_market(session, actor, int(market))  # 404 outside the scope


def _planner(
    request: Request,
    caller: PageCaller,
    session: Session,
    market: Market | None,
    *,
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    actor = caller.actor
    t = texts_of(request, caller)
    context: dict[str, Any] = {}
    if market is None:
        ranked = ranking.rank_markets(session, actor)
        context["market_choices"] = [
            (str(r.market_id), f"{r.rank}. {r.name} ({r.code}) · {r.score:g}") for r in ranked
        ]
    else:
        context["staff"] = planning.staff_choices(session, actor, market)
        free = planning.free_units_near(session, actor, market, limit=None)
        shown = cut(free, None if request.query_params.get("units") == "all" else UNITS_SHOWN)
        context["units"], context["units_total"] = shown.items, shown.total
        context["prospects"] = len(planning.market_prospects(session, actor, market))
    return render(
        request,
        "marketing/plan.html",
        caller,
        status_code=status_code,
        title=t.gettext("Plan a campaign"),
        market=market,
        values=values,
        errors=errors or {},
        **context,
    )


@router.get("/campaigns/new")
def plan_form(
    request: Request, caller: PageCallerDep, session: SessionDep, market: str | None = None
) -> Response:
    """The planner: first the market, then the plan (dates, target, staff, units)."""
    campaigns.require_planner(caller.actor)
    chosen = _market_or_none(session, caller.actor, market)
    t = texts_of(request, caller)
    values: dict[str, Any] = {"draw_prospects": "on"}
    if chosen is not None:
        values["name"] = t.gettext("{market} campaign", market=chosen.name)
    return _planner(request, caller, session, chosen, values=values)


def ticked(form: dict[str, str], prefix: str) -> list[str]:
    """The keys of the ticked checkboxes named `prefix` + key (a browser sends only those)."""
    return [k.removeprefix(prefix) for k, v in form.items() if k.startswith(prefix) and v]


def read_plan(
    form: dict[str, str], market: Market, t: Texts
) -> tuple[CampaignCreate | None, dict[str, str]]:
    """The plan the form describes, or the problems with it, each under its field."""
    errors: dict[str, str] = {}
    name = form.get("name", "").strip()
    if not name:
        errors["name"] = t.gettext("Enter a name for the campaign.")
    elif len(name) > NAME_MAX:
        errors["name"] = t.gettext("At most {n} characters.", n=NAME_MAX)
    days: dict[str, date] = {}
    for key in ("starts_on", "ends_on"):
        text = form.get(key, "").strip()
        if not text:
            errors[key] = t.gettext("Enter a date.")
            continue
        try:
            days[key] = date.fromisoformat(text)
        except ValueError:
            errors[key] = t.gettext("Enter a date as YYYY-MM-DD.")
    if len(days) == 2 and days["ends_on"] < days["starts_on"]:
        errors["ends_on"] = t.gettext("The end date is before the start date.")
    target_text = form.get("target_placements", "").strip() or "0"
    if not target_text.isdigit():
        errors["target_placements"] = t.gettext("Enter a whole number, 0 or more.")
    notes = form.get("notes", "").strip()
    if len(notes) > NOTES_MAX:
        errors["notes"] = t.gettext("At most {n} characters.", n=NOTES_MAX)
    if errors:
        return None, errors
    try:
        plan = CampaignCreate(
            name=name,
            market_code=market.code,
            starts_on=days["starts_on"],
            ends_on=days["ends_on"],
            target_placements=int(target_text),
            notes=notes or None,
            staff_usernames=ticked(form, STAFF_PREFIX),
            unit_sns=ticked(form, UNIT_PREFIX),
            draw_prospects=bool(form.get("draw_prospects")),
        )
    except ValidationError as exc:  # the checks above should leave nothing for this
        return None, {"_form": "; ".join(str(e["msg"]) for e in exc.errors())}
    return plan, {}


@router.post("/campaigns/new")
def plan_campaign(request: Request, caller: PageCallerDep, session: SessionDep) -> Response:
    """Creates the campaign through the same service as `POST /api/v1/campaigns`."""
    actor = caller.actor
    campaigns.require_planner(actor)
    form = {k: str(v) for k, v in caller.form.items()}
    market = _market_or_none(session, actor, form.get("market"))
    t = texts_of(request, caller)
    if market is None:
        problem = {"market": t.gettext("Choose a market.")}
        return _planner(
            request, caller, session, None, values=form, errors=problem, status_code=422
        )
    plan, errors = read_plan(form, market, t)
    if plan is not None:
        try:
            # A savepoint: a unit refused halfway leaves no half-made campaign behind.
            with attempt(session):
                campaign = campaigns.create_campaign(session, actor, plan)
        except (Conflict, Invalid, NotFound) as exc:
            errors = {"units" if isinstance(exc, Conflict) else "_form": t.error(exc)}
        else:
            return redirect(
                f"/marketing/campaigns/{campaign.id}",
                flash=t.gettext("Campaign “{name}” planned.", name=campaign.name),
            )
    return _planner(request, caller, session, market, values=form, errors=errors, status_code=422)


# --- one campaign -------------------------------------------------------------------------------


@router.get("/campaigns/{campaign_id}")
def campaign_page(
    request: Request, caller: PageCallerDep, session: SessionDep, campaign_id: int
) -> Response:
    """The plan, its report (visits, placements, activations against the target) and its
    prospects."""
    require_reader(caller.actor)
    campaign = campaigns.get_campaign(session, caller.actor, campaign_id)
    outcome = report.campaign_report(session, campaign)
    return render(
        request,
        "marketing/campaign.html",
        caller,
        title=campaign.name,
        c=outcome.campaign,
        r=outcome,
        notes=campaign.notes,
        prospects=report.prospect_list(session, campaign),
        phase_labels=PHASE_LABELS,
        prospect_labels=PROSPECT_LABELS,
        source_labels=words.PROSPECT_SOURCE,
        names=Names(session).know(
            branches=[outcome.campaign.branch_code], people=outcome.campaign.staff
        ),
    )


@router.get("/campaigns/{campaign_id}/report.xlsx")
def campaign_export(caller: PageCallerDep, session: SessionDep, campaign_id: int) -> Response:
    """The campaign report as the API's XLSX workbook, in the user's language."""
    require_reader(caller.actor)
    campaign = campaigns.get_campaign(session, caller.actor, campaign_id)
    return files.download(
        f"campaign-{campaign.id}.xlsx",
        lambda path: exports.write_campaign_xlsx(
            session, campaign, path, lang_of(caller.user.language)
        ),
    )
