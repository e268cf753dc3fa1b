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

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, update
from sqlmodel import Session, col, select

from fleet.aftersales import service
from fleet.aftersales.models import LIVE, Symptom, Ticket, TicketSource, TicketState
from fleet.core.access import Actor
from fleet.core.config import Settings, get_settings
from fleet.core.db import utcnow
from fleet.core.i18n import texts_for
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

    @property
    def reason_zh(self) -> str:
        return texts_for("zh").phrase(self.why)

    @property
    def reason_en(self) -> str:
        return texts_for("en").phrase(self.why)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, **self.values, "why": self.why}


def _watched(session: Session) -> dict[int, tuple[str, int]]:
    """Deployed units without a live ticket: id → (sn, branch id)."""
    live = select(Ticket.terminal_id).where(col(Ticket.state).in_(LIVE))
    rows = session.execute(
        select(Terminal.id, Terminal.sn, Terminal.branch_id).where(
            col(Terminal.state) == TerminalState.deployed, col(Terminal.id).not_in(live)
        )
    ).all()
    return {tid: (sn, branch) for tid, sn, branch in rows}


def find(session: Session, as_of: date, settings: Settings | None = None) -> list[Suspicion]:
    """Every suspicion the feed supports as of the end of `as_of` (a local day)."""
    settings = settings or get_settings()
    units = _watched(session)
    silent_from = as_of - timedelta(days=settings.suspect_silent_days - 1)
    base_from = silent_from - timedelta(days=settings.suspect_baseline_days)
    found: list[Suspicion] = []

    active = dict(
        session.execute(
            select(TerminalDay.terminal_id, func.count())
            .where(
                col(TerminalDay.day) >= base_from,
                col(TerminalDay.day) < silent_from,
                col(TerminalDay.txn_count) > 0,
            )
            .group_by(col(TerminalDay.terminal_id))
        ).all()
    )
    used_lately = set(
        session.execute(
            select(TerminalDay.terminal_id).where(
                col(TerminalDay.day) >= silent_from,
                col(TerminalDay.day) <= as_of,
                col(TerminalDay.txn_count) > 0,
            )
        ).scalars()
    )
    for terminal_id, days in active.items():
        share = days / settings.suspect_baseline_days
        quiet = terminal_id in units and terminal_id not in used_lately
        if quiet and share >= settings.suspect_daily_share:
            sn, branch = units[terminal_id]
            values = {
                "silent_days": settings.suspect_silent_days,
                "baseline_days": settings.suspect_baseline_days,
                "active_share": round(share, 3),
            }
            found.append(Suspicion(terminal_id, sn, branch, "silent", values))

    recent_from = as_of - timedelta(days=settings.suspect_recent_days - 1)
    fail_base_from = recent_from - timedelta(days=settings.suspect_baseline_days)
    recent = col(Txn.day) >= recent_from
    failed = col(Txn.status) == TxnStatus.failed.value
    rows = session.execute(
        select(  # type: ignore[call-overload]
            col(Txn.terminal_id),
            func.sum(case((recent, 1), else_=0)),
            func.sum(case((recent & failed, 1), else_=0)),
            func.count(),
            func.sum(case((failed, 1), else_=0)),
        )
        .where(col(Txn.day) >= fail_base_from, col(Txn.day) <= as_of)
        .group_by(col(Txn.terminal_id))
    ).all()
    # terminal → attempts and failures lately, and over the baseline days before
    counts = {
        tid: (int(n or 0), int(bad or 0), int(total - (n or 0)), int((all_bad or 0) - (bad or 0)))
        for tid, n, bad, total, all_bad in rows
    }
    flagged = {s.terminal_id for s in found}
    for terminal_id, (n, bad, base_n, base_bad) in counts.items():
        if terminal_id not in units or terminal_id in flagged:
            continue
        if n < settings.suspect_min_attempts:
            continue
        share, base_share = bad / n, (base_bad / base_n if base_n else 0.0)
        if share - base_share >= settings.suspect_failed_jump:
            sn, branch = units[terminal_id]
            values = {
                "recent_days": settings.suspect_recent_days,
                "attempts": n,
                "failed": bad,
                "failed_share": round(share, 3),
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
                description=suspicion.reason_zh,
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
