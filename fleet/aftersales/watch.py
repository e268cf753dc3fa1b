"""What the feed says about faults: suspicions, and whether a restored unit works again.

Suspected faults (a *suspected* ticket for operations to confirm or dismiss; each says why
with a code and its values):
- `silent`: a unit that transacted on at least FLEET_SUSPECT_DAILY_SHARE of the
  FLEET_SUSPECT_BASELINE_DAYS before has had no successful transaction for the last
  FLEET_SUSPECT_SILENT_DAYS days;
- `failed_share`: of its attempts in the last FLEET_SUSPECT_RECENT_DAYS days (at least
  FLEET_SUSPECT_MIN_ATTEMPTS), the failed share is FLEET_SUSPECT_FAILED_JUMP or more above
  its share over the baseline days before.
Units with a live ticket, and units not deployed, are left alone.

Restored means working: the first successful financial transaction of the unit at the
merchant after the restore (the spare's, after a swap) verifies the ticket; a ticket restored
FLEET_SERVICE_CALLBACK_DAYS ago with none is flagged for a call-back to the merchant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, case, func, literal_column, update
from sqlmodel import Session, col, select

from fleet.aftersales import service
from fleet.aftersales.models import LIVE, Symptom, Ticket, TicketSource, TicketState
from fleet.core.access import Actor
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.phrases import Phrase, percent, phrase
from fleet.feeds.models import TerminalDay, Txn, TxnStatus
from fleet.inventory.models import Terminal, TerminalState


@dataclass
class Suspicion:
    terminal_id: int
    sn: str
    branch_id: int
    code: str
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def why(self) -> Phrase:
        """Why the unit is suspected, as a phrase (worded where it is shown)."""
        v = self.values
        if self.code == "silent":
            return phrase(
                "suspect_silent",
                days=v["silent_days"],
                baseline=v["baseline_days"],
                share=percent(v["active_share"]),
            )
        return phrase(
            "suspect_failing",
            days=v["recent_days"],
            share=percent(v["failed_share"]),
            failed=v["failed"],
            attempts=v["attempts"],
            before=percent(v["baseline_share"]),
        )

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, **self.values, "why": self.why}


def _watched(session: Session, ids: list[int]) -> dict[int, tuple[str, int]]:
    """Of `ids`, the deployed units without a live ticket: id → (sn, branch id)."""
    live = select(Ticket.terminal_id).where(col(Ticket.state).in_(LIVE))
    found: dict[int, tuple[str, int]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Terminal.id, Terminal.sn, Terminal.branch_id).where(
                col(Terminal.id).in_(ids[start : start + 500]),
                col(Terminal.state) == TerminalState.deployed,
                col(Terminal.id).not_in(live),
            )
        ).all()
        found.update({tid: (sn, branch) for tid, sn, branch in rows})
    return found


def _window(session: Session, first: date, last: date) -> tuple[Any, Any]:
    """The rollups' days from `first` to `last`. On SQLite, read in key order rather than
    through the day index: the index finds the window's rows, but then looks each up by key, a
    random read per row (13 s for a million rows in tests/benchmarks/bench_suspect.py), while
    a pass over the table in key order takes 2.6 s there and groups by unit without sorting."""
    day: Any = col(TerminalDay.day)
    if session.get_bind().dialect.name == "sqlite":
        day = literal_column("+terminal_day.day", type_=Date)
    return day >= first, day <= last


def find(session: Session, as_of: date, settings: Settings | None = None) -> list[Suspicion]:
    """Every suspicion the feed supports as of the end of `as_of` (a local day).

    Set-based, from the rollups alone: one pass over terminal_day's days of the window sums,
    per unit, its active baseline days, whether it was used lately, and its attempts and
    failures lately and over the baseline (failed_count, kept by the ingest), and keeps in
    SQL only the units that could meet a threshold; Python decides on those few."""
    settings = settings or get_settings()
    silent_from = as_of - timedelta(days=settings.suspect_silent_days - 1)
    base_from = silent_from - timedelta(days=settings.suspect_baseline_days)
    recent_from = as_of - timedelta(days=settings.suspect_recent_days - 1)
    fail_base_from = recent_from - timedelta(days=settings.suspect_baseline_days)
    day, used = col(TerminalDay.day), col(TerminalDay.txn_count) > 0
    attempts = col(TerminalDay.txn_count) + col(TerminalDay.other_count)
    failed = col(TerminalDay.failed_count)
    in_base = (day >= base_from) & (day < silent_from)
    in_fail_base = (day >= fail_base_from) & (day < recent_from)
    active_days = func.sum(case((in_base & used, 1), else_=0))
    used_lately = func.max(case(((day >= silent_from) & used, 1), else_=0))
    n = func.sum(case((day >= recent_from, attempts), else_=0))
    bad = func.sum(case((day >= recent_from, failed), else_=0))
    need_days = math.ceil(settings.suspect_daily_share * settings.suspect_baseline_days - 1e-9)
    rows = session.execute(
        select(  # type: ignore[call-overload]
            col(TerminalDay.terminal_id),
            active_days,
            used_lately,
            n,
            bad,
            func.sum(case((in_fail_base, attempts), else_=0)),
            func.sum(case((in_fail_base, failed), else_=0)),
        )
        .where(*_window(session, min(base_from, fail_base_from), as_of))
        .group_by(col(TerminalDay.terminal_id))
        .having(
            ((active_days >= need_days) & (used_lately == 0))
            | ((n >= settings.suspect_min_attempts) & (bad >= n * settings.suspect_failed_jump))
        )
    ).all()
    units = _watched(session, [r[0] for r in rows])
    found: list[Suspicion] = []
    for terminal_id, days, lately, recent, recent_bad, base_n, base_bad in rows:
        if terminal_id not in units:
            continue
        sn, branch = units[terminal_id]
        share = (days or 0) / settings.suspect_baseline_days
        if not lately and share >= settings.suspect_daily_share:
            values: dict[str, Any] = {
                "silent_days": settings.suspect_silent_days,
                "baseline_days": settings.suspect_baseline_days,
                "active_share": round(share, 3),
            }
            found.append(Suspicion(terminal_id, sn, branch, "silent", values))
            continue
        recent, recent_bad = int(recent or 0), int(recent_bad or 0)
        if recent < settings.suspect_min_attempts:
            continue
        fail_share = recent_bad / recent
        base_share = int(base_bad or 0) / int(base_n) if base_n else 0.0
        if fail_share - base_share >= settings.suspect_failed_jump:
            values = {
                "recent_days": settings.suspect_recent_days,
                "attempts": recent,
                "failed": recent_bad,
                "failed_share": round(fail_share, 3),
                "baseline_share": round(base_share, 3),
            }
            found.append(Suspicion(terminal_id, sn, branch, "failed_share", values))
    return sorted(found, key=lambda s: s.sn)


def raise_suspicions(
    session: Session, actor: Actor, as_of: date, settings: Settings | None = None
) -> list[Ticket]:
    """Opens a suspected ticket for every suspicion in the actor's scope (the nightly step)."""
    opened = []
    for suspicion in find(session, as_of, settings):
        if not actor.sees_branch(suspicion.branch_id):
            continue
        terminal = session.get(Terminal, suspicion.terminal_id)
        if terminal is None:
            continue
        opened.append(
            service.open_ticket(
                session,
                actor,
                terminal,
                Symptom.other,
                source=TicketSource.feed,
                suspicion=suspicion.as_dict(),
            )
        )
    return opened


def verify_restored(
    session: Session, now: datetime | None = None, settings: Settings | None = None
) -> dict[str, int]:
    """Verifies restored tickets by the unit's first successful transaction since; flags for a
    call-back those restored FLEET_SERVICE_CALLBACK_DAYS ago without one."""
    settings = settings or get_settings()
    now = now or utcnow()
    waiting = session.execute(
        select(Ticket).where(
            col(Ticket.restored_at).is_not(None),
            col(Ticket.verified_at).is_(None),
            col(Ticket.state).in_([TicketState.restored, TicketState.closed]),
        )
    ).scalars()
    verified = callbacks = 0
    wait = timedelta(days=settings.service_callback_days)
    for ticket in list(waiting):
        unit = ticket.spare_terminal_id or ticket.terminal_id
        first = session.execute(
            select(func.min(Txn.occurred_at)).where(
                col(Txn.terminal_id) == unit,
                col(Txn.status) == TxnStatus.success.value,
                col(Txn.txn_type).in_(settings.financial_types),
                col(Txn.occurred_at) > ticket.restored_at,
            )
        ).scalar()
        values: dict[str, Any] = {}
        if first is not None:
            values = {"verified_at": first, "callback_due": False}
            verified += 1
        elif ticket.restored_at and not ticket.callback_due and now - ticket.restored_at >= wait:
            values = {"callback_due": True}
            callbacks += 1
        if values:
            # Not a move of the ticket: no version bump, so nobody's work is refused for it.
            session.execute(
                update(Ticket)
                .where(col(Ticket.id) == ticket.id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
    session.flush()
    return {"verified": verified, "callback_due": callbacks}
