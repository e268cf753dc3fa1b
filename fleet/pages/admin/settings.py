"""Admin: the scoring settings (stored overrides over the environment's, fleet.core.overrides)
and the recovery rules' per-branch parameters (fleet.recovery.rules)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from fleet.auth.browser import PageCaller, PageCallerDep
from fleet.core import overrides
from fleet.core.errors import Invalid
from fleet.core.i18n import N_, Texts
from fleet.core.requests import SessionDep
from fleet.core.words import TXN_TYPE
from fleet.feeds import coverage
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch
from fleet.pages.admin.forms import SUBMENU, checked, require_admin, text
from fleet.pages.render import redirect, render, texts_of
from fleet.recovery import rules

router = APIRouter(include_in_schema=False)

SETTING_LABELS = {
    "active_days": N_("Active: used within this many days"),
    "dormant_days": N_("Dormant: unused for this many days"),
    "never_used_after_days": N_(
        "Never used: this many days without use, since deployment or the data's start"
    ),
    "declining_ratio": N_("Declining: last 30 days below this share of the earlier average"),
    "declining_previous_days": N_("Declining: days of the earlier period"),
    "peer_group": N_("Peer group for the score"),
    "financial_types": N_("Transaction types that count as use"),
}
PEER_GROUPS = {
    "market_or_category": N_("The market's trade, else the merchant's category"),
    "category": N_("Always the merchant's category"),
}
RULE_LABELS = {
    "dormant_revisited": N_("Dormant after revisits"),
    "never_used": N_("Never used"),
    "no_need": N_("Merchant does not need it"),
    "merchant_gone": N_("Merchant closed or moved"),
}
PARAM_LABELS = {
    "enabled": N_("Rule on"),
    "dormant_days": N_("Dormant for at least (days)"),
    "revisit_wait_days": N_("Last revisit at least (days) ago"),
    "days": N_("Never used for (days) after deployment or the data's start"),
}
assert set(SETTING_LABELS) == set(overrides.EDITABLE), "label every editable setting"


def shown(t: Texts, key: str, value: Any) -> str:
    """A setting's value as the page shows it."""
    if key == "financial_types":  # stored as codes, shown in words
        return ("、" if t.lang == "zh" else ", ").join(t.gettext(TXN_TYPE.get(v, v)) for v in value)
    if isinstance(value, tuple | list):
        return ", ".join(value)
    if key == "peer_group":
        return t.gettext(PEER_GROUPS.get(value, value))
    if isinstance(value, float):
        return t.number(value, 2)
    return str(value)


def _page(
    request: Request,
    session: Session,
    caller: PageCaller,
    *,
    branch_code: str | None = None,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    t = texts_of(request, caller)
    tree = inventory.branch_tree(session, caller.actor)
    branch = (
        inventory.branch_by_code(session, caller.actor, branch_code)
        if branch_code
        else (tree[0][0] if tree else None)
    )
    in_force = rules.Overrides(session)
    states = overrides.describe(session, caller.actor)
    inputs = {
        s.key: ", ".join(s.effective) if isinstance(s.effective, tuple) else str(s.effective)
        for s in states
    } | (typed or {})
    return render(
        request,
        "admin/settings.html",
        caller,
        status_code=422 if errors else 200,
        states=states,
        inputs=inputs,
        shown=lambda key, value: shown(t, key, value),
        setting_labels=SETTING_LABELS,
        txn_types=list(TXN_TYPE.items()),
        peer_groups=[(k, t.gettext(v)) for k, v in PEER_GROUPS.items()],
        branch=branch,
        branches=[(b.code, "\u2003" * depth + f"{b.code} · {b.name}") for b, depth in tree],
        rule_labels=RULE_LABELS,
        param_labels=PARAM_LABELS,
        defaults=rules.defaults(),
        effective=in_force.for_branch(branch.id or 0) if branch else {},
        own=in_force.own.get(branch.id or 0, {}) if branch else {},
        typed=typed or {},
        errors=errors or {},
        submenu=SUBMENU,
        coverage_rows=_coverage_rows(session, caller),
        coverage_start=coverage.start(session),
    )


def _coverage_rows(session: Session, caller: PageCaller) -> list[Any]:
    """Every source's coverage: the default source and each feed source, known or not yet."""
    known = {c.source: c for c in coverage.list_coverage(session, caller.actor)}
    names = coverage.source_names(session)
    rows: list[Any] = list(known.values())
    for key, name in names.items():
        if key not in known:
            rows.append(SimpleNamespace(source=key, name=name, starts_on=None, origin=None))
    return rows


@router.post("/settings/coverage/{source}")
def set_coverage(
    request: Request, caller: PageCallerDep, session: SessionDep, source: str
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    key = f"starts_on:{source}"
    raw = text(caller.form, key)
    try:
        row = coverage.set_start(session, caller.actor, source, date.fromisoformat(raw))
    except ValueError:
        problem = t.gettext("Enter a date (YYYY-MM-DD).")
        return _page(request, session, caller, typed={key: raw}, errors={key: problem})
    except Invalid as exc:
        return _page(request, session, caller, typed={key: raw}, errors={key: t.error(exc)})
    return redirect(
        "/admin/settings#h-coverage",
        flash=t.gettext("Data coverage of {name}: from {day}.", name=row.name, day=row.starts_on),
    )


@router.post("/settings/coverage/{source}/clear")
def clear_coverage(
    request: Request, caller: PageCallerDep, session: SessionDep, source: str
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    coverage.clear(session, caller.actor, source)
    name = coverage.source_names(session).get(source, source)
    return redirect(
        "/admin/settings#h-coverage",
        flash=t.gettext("Data coverage of {name} forgotten.", name=name),
    )


@router.get("/settings")
def settings_page(
    request: Request, caller: PageCallerDep, session: SessionDep, branch: str = ""
) -> Response:
    require_admin(caller)
    return _page(request, session, caller, branch_code=branch or None)


@router.post("/settings/scoring/{key}")
def set_setting(request: Request, caller: PageCallerDep, session: SessionDep, key: str) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    value = text(caller.form, key)
    if key == "financial_types":  # one box per type, in words; stored as codes
        value = ",".join(code for code in TXN_TYPE if checked(caller.form, f"type_{code}"))
    try:
        overrides.set_override(session, caller.actor, key, value)
    except Invalid as exc:
        return _page(request, session, caller, typed={key: value}, errors={key: t.error(exc)})
    label = t.gettext(SETTING_LABELS.get(key, key))
    return redirect("/admin/settings", flash=t.gettext("Saved: {label}.", label=label))


@router.post("/settings/scoring/{key}/reset")
def reset_setting(
    request: Request, caller: PageCallerDep, session: SessionDep, key: str
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    overrides.reset_override(session, caller.actor, key)
    label = t.gettext(SETTING_LABELS.get(key, key))
    return redirect(
        "/admin/settings", flash=t.gettext("{label}: back to the default.", label=label)
    )


def _rule_params(
    form: dict[str, Any], rule: str, t: Texts
) -> tuple[dict[str, Any], dict[str, str]]:
    """The rule's parameters from the form, typed like its defaults; problems by field."""
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, default in rules.defaults()[rule].items():
        field = f"{rule}.{name}"
        if isinstance(default, bool):
            params[name] = checked(form, field)
            continue
        raw = text(form, field)
        try:
            params[name] = int(raw)
        except ValueError:
            errors[field] = t.gettext("Enter a whole number.")
            continue
        if params[name] < 1:
            errors[field] = t.gettext("Out of range.")
    return params, errors


@router.post("/settings/rules/{branch_code}/{rule}")
def set_rule(
    request: Request, caller: PageCallerDep, session: SessionDep, branch_code: str, rule: str
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    branch: Branch = inventory.branch_by_code(session, caller.actor, branch_code)
    if rule not in rules.defaults():
        raise Invalid("unknown rule {rule}", rule=repr(rule))
    params, errors = _rule_params(caller.form, rule, t)
    if errors:
        typed = {k: text(caller.form, k) for k in errors}
        return _page(request, session, caller, branch_code=branch.code, typed=typed, errors=errors)
    rules.set_override(session, caller.actor, branch, rule, params)
    return redirect(
        f"/admin/settings?branch={branch.code}#rules",
        flash=t.gettext(
            "Saved the rule {rule} for {branch} and the branches below it.",
            rule=t.gettext(RULE_LABELS[rule]),
            branch=branch.code,
        ),
    )


@router.post("/settings/rules/{branch_code}/{rule}/clear")
def clear_rule(
    request: Request, caller: PageCallerDep, session: SessionDep, branch_code: str, rule: str
) -> Response:
    require_admin(caller)
    t = texts_of(request, caller)
    branch: Branch = inventory.branch_by_code(session, caller.actor, branch_code)
    rules.clear_override(session, caller.actor, branch, rule)
    return redirect(
        f"/admin/settings?branch={branch.code}#rules",
        flash=t.gettext(
            "The rule {rule} at {branch} follows the branch above again.",
            rule=t.gettext(RULE_LABELS.get(rule, rule)),
            branch=branch.code,
        ),
    )
