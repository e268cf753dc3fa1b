"""What every admin page shares: who may open them, their sub-menu, and reading forms into
the services' schemas with the problems put next to the fields."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from fleet.auth.browser import PageCaller
from fleet.core import words
from fleet.core.access import Permission, Role
from fleet.core.i18n import N_, Texts

# The admin pages run the whole bank (users of every branch, the branch tree, feeds, settings):
# write_branches is the permission only admins hold. Each service checks its own on top.
ADMIN_AREA = Permission.write_branches

SUBMENU: list[tuple[str, str]] = [
    ("/admin/users", N_("Users")),
    ("/admin/branches", N_("Branches")),
    ("/admin/feeds", N_("Feed sources")),
    ("/admin/settings", N_("Settings")),
    ("/admin/contractors", N_("Contractors")),
    ("/admin/sla", N_("SLA policies")),
    ("/admin/scorecard-weights", N_("Scorecard weights")),
]

ROLE_LABELS: dict[Role, str] = {role: words.ROLE[role.value] for role in Role}

# Pydantic's error types, said in the user's language (the others keep pydantic's text).
_PROBLEMS = {
    "missing": N_("Required."),
    "string_too_short": N_("Required."),
    "string_too_long": N_("Too long."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "greater_than_equal": N_("Out of range."),
    "less_than_equal": N_("Out of range."),
    "greater_than": N_("Out of range."),
    "less_than": N_("Out of range."),
    "enum": N_("Choose one of the options."),
    "literal_error": N_("Choose one of the options."),
}


def require_admin(caller: PageCaller) -> None:
    """Refuses anyone but an admin with the 403 page."""
    caller.actor.require(ADMIN_AREA)


def problems(exc: ValidationError, t: Texts) -> dict[str, str]:
    """{field: message} for a schema's validation errors, the first per field."""
    found: dict[str, str] = {}
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "_form"
        known = _PROBLEMS.get(error["type"])
        shortest = (error.get("ctx") or {}).get("min_length", 1)
        if error["type"] == "string_too_short" and shortest > 1:
            message = t.gettext("At least {n} characters.", n=shortest)
        elif known:
            message = t.gettext(known)
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        found.setdefault(name, message)
    return found


def text(form: dict[str, Any], name: str) -> str:
    return str(form.get(name, "")).strip()


def optional(form: dict[str, Any], name: str) -> str | None:
    """The field's text, or None when left empty."""
    return text(form, name) or None


def checked(form: dict[str, Any], name: str) -> bool:
    """A checkbox: present in the post only when ticked."""
    return name in form
