"""What every branch-operations page shares: who may open them, the branch picker, paging,
and the words for the statuses the pages show (English msgids, translated where shown)."""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from fleet.core.access import Role
from fleet.core.errors import Forbidden
from fleet.inventory import service as inventory
from fleet.inventory.models import Branch
from fleet.pages.i18n import N_
from fleet.pages.render import render, texts_of
from fleet.pages.session import PageCaller

OPS_ROLES = frozenset({Role.branch_ops, Role.admin})
PAGE_SIZE = 20


def require_ops(request: Request, caller: PageCaller) -> None:
    """These pages are for branch operations and admins (others get the 403 page)."""
    if caller.actor.role not in OPS_ROLES:
        raise Forbidden(texts_of(request, caller).gettext("These pages are for branch operations."))


def branch_options(session: Session, actor_caller: PageCaller) -> list[tuple[str, str]]:
    """(code, label) of every branch the user may see, as a tree: each under its parent."""
    rows, _ = inventory.list_branches(session, actor_caller.actor, sort="code", limit=1000)
    ids = {b.id for b in rows}
    children: dict[int | None, list[Branch]] = defaultdict(list)
    for b in rows:
        children[b.parent_id if b.parent_id in ids else None].append(b)
    options: list[tuple[str, str]] = []

    def walk(parent: int | None, depth: int) -> None:
        for b in children[parent]:
            options.append((b.code, f"{'　' * depth}{b.name} ({b.code})"))
            walk(b.id, depth + 1)

    walk(None, 0)
    return options


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


# --- words for the statuses shown ------------------------------------------------------------

USAGE = {
    "active": N_("Active"),
    "declining": N_("Declining"),
    "idle": N_("Idle"),
    "dormant": N_("Dormant"),
    "never_used": N_("Never used"),
    "new": N_("Newly placed"),
}
STATE = {
    "in_stock": N_("In stock"),
    "deployed": N_("Deployed"),
    "recovery_requested": N_("Recovery requested"),
    "recovery_approved": N_("Recovery approved"),
    "recovered": N_("Recovered"),
    "faulty": N_("Faulty"),
    "in_repair": N_("In repair"),
    "retired": N_("Retired"),
    "lost": N_("Lost"),
}
REQUEST = {
    "pending": N_("Awaiting decision"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "completed": N_("Unit collected"),
    "cancelled": N_("Withdrawn"),
}
SOURCE = {"rule": N_("Recovery rule"), "manual": N_("Raised by hand"), "visit": N_("Visit outcome")}
AUDIT = {
    "raise": N_("Raised"),
    "approve": N_("Approved"),
    "reject": N_("Rejected"),
    "defer": N_("Deferred"),
    "complete": N_("Unit collected"),
    "cancel": N_("Withdrawn"),
}
OUTCOME = {
    "reached_promised": N_("Reached, promised to use it"),
    "needs_training": N_("Needs training"),
    "device_faulty": N_("Device faulty"),
    "wants_recovery": N_("Merchant wants it taken back"),
    "no_need": N_("No need for it"),
    "closed": N_("Shop closed"),
    "moved": N_("Shop moved"),
    "not_found": N_("Shop not found"),
    "recovered": N_("Unit collected"),
}
VISIT_KIND = {
    "revisit": N_("Revisit"),
    "follow_up": N_("Follow-up"),
    "recover": N_("Collect unit"),
    "campaign": N_("Campaign"),
}
VISIT_STATUS = {"planned": N_("Planned"), "done": N_("Done"), "cancelled": N_("Cancelled")}
MERCHANT_STATUS = {"open": N_("Open"), "closed": N_("Closed down"), "moved": N_("Moved away")}
RUN_STATUS = {
    "running": N_("Running"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "interrupted": N_("Interrupted"),
}
REJECT_REASON = {
    "malformed_line": N_("Malformed line"),
    "bad_encoding": N_("Bad encoding"),
    "missing_field": N_("Missing field"),
    "bad_timestamp": N_("Bad time"),
    "future_timestamp": N_("Time in the future"),
    "bad_amount": N_("Bad amount"),
    "non_positive_amount": N_("Amount not positive"),
    "unknown_type": N_("Unknown transaction type"),
    "unknown_status": N_("Unknown transaction status"),
    "unknown_terminal": N_("Unknown terminal"),
    "not_deployed": N_("Terminal not at a merchant then"),
}
# Templates get them all as `words`: {{ _(words.state[t.state]) }}.
WORDS = {
    "usage": USAGE,
    "state": STATE,
    "request": REQUEST,
    "source": SOURCE,
    "audit": AUDIT,
    "outcome": OUTCOME,
    "visit_kind": VISIT_KIND,
    "visit_status": VISIT_STATUS,
    "merchant_status": MERCHANT_STATUS,
    "run_status": RUN_STATUS,
    "reject_reason": REJECT_REASON,
}


def word(kind: str, value: object) -> str:
    """The msgid for a status value (the value itself when it has none)."""
    key = getattr(value, "value", value)
    return WORDS[kind].get(str(key), str(key))


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
