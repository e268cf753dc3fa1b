"""What every branch-operations page shares: who may open them, the branch picker, paging,
and the words for the statuses the pages show (English msgids, translated where shown)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from fleet.auth.browser import PageCaller
from fleet.core.access import Permission
from fleet.core.errors import Forbidden
from fleet.core.names import named
from fleet.core.words import word
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch
from fleet.pages.render import render, texts_of

# The operations pages are for those who decide recoveries (branch operations and admins, by
# the one permission table).
OPS_AREA = Permission.decide_recovery
PAGE_SIZE = 20
# A picker (a select, a list of checkboxes) holds at most this many people or markets; a
# longer list is cut, says so ("显示 500 / 共 N"), and takes any other by its code, typed and
# suggested from the first ones (as the search page's market filter, at the API's MAX_LIMIT).
PICKER_LIMIT = 500


def require_ops(request: Request, caller: PageCaller) -> None:
    """These pages are for branch operations and admins (others get the 403 page)."""
    if not caller.actor.can(OPS_AREA):
        # The message is a msgid: the error page shows it in the user's language.
        raise Forbidden("These pages are for branch operations.")


def branch_options(session: Session, actor_caller: PageCaller) -> list[tuple[str, str]]:
    """(code, label) of every branch the user may see, as a tree: each under its parent (the
    whole tree, never cut: a picker that silently lacks a branch cannot say so)."""
    return [
        (b.code, "　" * depth + named(b.name, b.code))
        for b, depth in inventory.branch_tree(session, actor_caller.actor)
    ]


def chosen_branch(session: Session, caller: PageCaller, code: str | None) -> Branch:
    """The branch asked for (404 outside the user's subtree), else the user's own."""
    if code:
        return inventory.branch_by_code(session, caller.actor, code)
    return inventory.get_branch(session, caller.actor, caller.user.branch_id)


def page_url(path: str, **params: object) -> str:
    """`path?params&` ready for the pager macro to append `offset=N`."""
    kept = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{path}?{urlencode(kept)}&" if kept else f"{path}?"


def offset_of(raw: str | None) -> int:
    try:
        return max(int(raw or 0), 0)
    except ValueError:
        return 0


def render_ops(
    request: Request,
    template: str,
    caller: PageCaller,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    """`render` with `say(kind, value)`: a status value in the user's words."""
    t = texts_of(request, caller)

    def say(kind: str, value: object) -> str:
        return "" if value is None else t.gettext(word(kind, value))

    return render(request, template, caller, status_code=status_code, texts=t, say=say, **context)
