"""Rendering pages: one Jinja2 environment, the user's language, and the navigation by role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from fleet.auth.browser import CSRF_FIELD, LANG_COOKIE, PageCaller
from fleet.core import phrases
from fleet.core.access import Role
from fleet.core.i18n import N_, Texts, first_wish, texts_for

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "fleet_flash"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
# The system's own actors in words (a person's name is looked up: pages.names.Names).
env.globals["system_actor"] = phrases.actor


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str  # an English msgid
    roles: frozenset[Role]
    exact: bool = False  # only its own page, not those below its path
    also: tuple[str, ...] = ()  # path prefixes of other pages that belong to the item

    def current(self, path: str) -> bool:
        below = not self.exact and path.startswith(self.path + "/")
        return path == self.path or below or path.startswith(self.also)


_OPS = frozenset({Role.branch_ops, Role.admin})
_MARKETING = frozenset({Role.marketing, Role.admin})
_FIELD = frozenset({Role.field})
_ALL = frozenset(Role)

# The menu; each page module owns its paths. Home (/) sends each role to its first item.
NAV: list[NavItem] = [
    NavItem("/field/today", N_("Today"), _FIELD),
    NavItem("/service/today", N_("My tickets"), frozenset({Role.service})),
    NavItem("/field/contracts", N_("My contracts"), _FIELD),
    NavItem("/field/scorecard", N_("My scorecard"), _FIELD),
    NavItem("/ops", N_("Overview"), _OPS, exact=True),
    NavItem("/ops/recovery", N_("Recovery approvals"), _OPS),
    NavItem("/ops/search", N_("Search"), _OPS, also=("/ops/terminals/", "/ops/merchants/")),
    NavItem("/ops/plans", N_("Revisit plans"), _OPS),
    NavItem("/field/flags", N_("Visit checks"), _OPS),
    NavItem("/ops/ingests", N_("Feed imports"), _OPS),
    NavItem("/ops/tickets", N_("Fault tickets"), _OPS),
    NavItem("/ops/imports", N_("Import files"), _OPS),
    NavItem("/ops/spares", N_("Spare units"), _OPS),
    NavItem("/ops/service-kpi", N_("Service KPIs"), _OPS, also=("/ops/statements",)),
    NavItem("/ops/contracts", N_("Contracts"), _OPS),
    NavItem("/ops/scorecard", N_("Five-improvements scorecard"), _OPS),
    NavItem("/marketing/markets", N_("Markets"), _MARKETING),
    NavItem("/marketing/campaigns", N_("Campaigns"), _MARKETING),
    # Not for service staff yet: their pages come with after-sales' own (fleet.aftersales).
    NavItem("/maps/coverage", N_("Map"), _ALL - _FIELD - {Role.service}),
    NavItem("/admin/users", N_("Admin"), frozenset({Role.admin}), also=("/admin/",)),
]


def nav_for(role: Role) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]


def home_for(role: Role) -> str:
    return nav_for(role)[0].path


def texts_of(request: Request, caller: PageCaller | None = None) -> Texts:
    """The user's language; before sign-in, the language cookie, then the browser's wish."""
    if caller is not None:
        return texts_for(caller.user.language)
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if chosen:
        return texts_for(chosen)
    first = first_wish(request.headers.get("accept-language", ""))
    return texts_for(first if first.startswith("en") else "zh")


def render(
    request: Request,
    template: str,
    caller: PageCaller | None = None,
    *,
    status_code: int = 200,
    texts: Texts | None = None,
    **context: Any,
) -> HTMLResponse:
    t = texts or texts_of(request, caller)
    flash = request.cookies.get(FLASH_COOKIE)
    if flash and "flash" not in context:
        context["flash"], context["flash_kind"] = unquote(flash), "ok"
    page = env.get_template(template).render(
        request=request,
        caller=caller,
        user=caller.user if caller else None,
        nav=nav_for(caller.actor.role) if caller else [],
        csrf_field=CSRF_FIELD,
        csrf=caller.csrf if caller else "",
        t=t,
        lang=t.lang,
        html_lang="zh-CN" if t.lang == "zh" else "en",
        _=t.gettext,
        gettext=t.gettext,
        ngettext=t.ngettext,
        **context,
    )
    response = HTMLResponse(page, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE)
    return response


def redirect(url: str, flash: str | None = None) -> RedirectResponse:
    """Post/redirect/get: after a form did its work, go to `url` and say what was done there
    (`flash`, already translated) once."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash), max_age=60, samesite="lax", httponly=True)
    return response
