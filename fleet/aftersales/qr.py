"""The merchant's QR sticker (扫码报修): an unguessable code per unit, the shop it opens, and a
fault report from it, with no account.

A code is 24 URL-safe characters from `secrets` (144 bits): not derived from the SN or an id,
so it cannot be guessed or walked. A unit has at most one live code; renewing it revokes the
old one. The page built on this shows only the shop's name (never contacts) and answers a
forged, revoked or out-of-place code (the unit no longer at a merchant) exactly as "not found".
Page views and reports are counted per client address, and reports per unit, in the database
(every app worker shares the count), on their own transaction so that a refused request still
counts.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from fleet.aftersales import service
from fleet.aftersales.models import QrAttempt, QrCode, Symptom, Ticket, TicketSource
from fleet.core import audit
from fleet.core.access import Actor, Permission, system_actor
from fleet.core.config import get_settings
from fleet.core.db import separate_transaction, utcnow
from fleet.core.errors import NotFound, TooManyRequests
from fleet.inventory import service as inventory
from fleet.inventory.models import Merchant, Terminal, TerminalState
from fleet.inventory.scope import subtree_ids

TOKEN = re.compile(r"^[A-Za-z0-9_-]{24}$")
# Who opens a QR report: no user; the ticket says it came from the sticker (source qr).
QR_ACTOR = "qr"


@dataclass
class Sticker:
    sn: str
    merchant_name: str
    token: str


def _not_found() -> NotFound:
    return NotFound("this code is not valid")


def issue(session: Session, actor: Actor, unit: Terminal, *, renew: bool = False) -> QrCode:
    """The unit's live code (a new one when it has none, or when renewing: the old stops)."""
    actor.require(Permission.dispatch_tickets)
    live = session.execute(
        select(QrCode).where(col(QrCode.terminal_id) == unit.id, col(QrCode.revoked_at).is_(None))
    ).scalar_one_or_none()
    if live is not None and not renew:
        return live
    now = utcnow()
    if live is not None:
        live.revoked_at = now
        session.add(live)
    code = QrCode(
        terminal_id=unit.id or 0, token=secrets.token_urlsafe(18), issued_by_name=actor.username
    )
    session.add(code)
    audit.record(
        session,
        actor=actor,
        action="qr_renew" if live else "qr_issue",
        entity="terminal",
        entity_id=unit.sn,
        branch_id=unit.branch_id,
    )
    session.flush()
    return code


def stickers(session: Session, actor: Actor, branch_code: str, units: int) -> list[Sticker]:
    """Codes for up to `units` units at merchants in the branch's subtree (by SN), issued where
    a unit has none yet: the sheet of stickers to print."""
    actor.require(Permission.dispatch_tickets)
    branch = inventory.branch_by_code(session, actor, branch_code)
    rows = session.execute(
        select(Terminal, Merchant)
        .join(Merchant, col(Merchant.id) == col(Terminal.merchant_id))
        .where(
            col(Terminal.branch_id).in_(subtree_ids(session, branch.id or 0)),
            col(Terminal.state) == TerminalState.deployed,
        )
        .order_by(col(Terminal.sn))
        .limit(max(units, 0))
    ).all()
    return [Sticker(unit.sn, shop.name, issue(session, actor, unit).token) for unit, shop in rows]


def shop_of(session: Session, token: str) -> tuple[Terminal, Merchant]:
    """The unit and its merchant for a live code; NotFound for anything else."""
    if not TOKEN.match(token or ""):
        raise _not_found()
    code = session.execute(
        select(QrCode).where(col(QrCode.token) == token, col(QrCode.revoked_at).is_(None))
    ).scalar_one_or_none()
    unit = session.get(Terminal, code.terminal_id) if code else None
    if unit is None or unit.state is not TerminalState.deployed or unit.merchant_id is None:
        # A unit under repair keeps its code; its merchant reports again once it is back.
        if unit is not None and unit.state in (TerminalState.faulty, TerminalState.in_repair):
            merchant = _merchant_of_live_ticket(session, unit)
            if merchant is not None:
                return unit, merchant
        raise _not_found()
    merchant = session.get(Merchant, unit.merchant_id)
    if merchant is None:
        raise _not_found()
    return unit, merchant


def _merchant_of_live_ticket(session: Session, unit: Terminal) -> Merchant | None:
    ticket = service.live_ticket(session, unit.id or 0)
    if ticket is None or ticket.merchant_id is None:
        return None
    return session.get(Merchant, ticket.merchant_id)


def throttle(session: Session, key: str, limit: int) -> None:
    """Counts one use under `key`; past `limit` within the window, TooManyRequests with the
    seconds until the oldest ages out (nothing counted then)."""
    if limit <= 0:
        return
    window = timedelta(seconds=get_settings().qr_rate_window_seconds)
    now = utcnow()
    retry_after = 0
    with separate_transaction(session.get_bind().engine) as own:
        own.execute(delete(QrAttempt).where(col(QrAttempt.at) <= now - window))
        oldest, count = own.execute(
            select(func.min(QrAttempt.at), func.count()).where(col(QrAttempt.key) == key[:80])
        ).one()
        if count >= limit:
            retry_after = max(1, math.ceil((oldest + window - now).total_seconds()))
        else:
            own.add(QrAttempt(key=key[:80], at=now))
    if retry_after:
        raise TooManyRequests(
            "too many reports from here; try again in {seconds} s",
            retry_after=retry_after,
            seconds=retry_after,
        )


def report(session: Session, token: str, symptom: Symptom, description: str) -> tuple[Ticket, bool]:
    """The merchant's fault report: a ticket opened from the sticker (source qr), or the live
    ticket the unit has already (False: nothing new opened)."""
    unit, _ = shop_of(session, token)
    throttle(session, f"unit:{unit.id}", get_settings().qr_reports_per_unit)
    existing = service.live_ticket(session, unit.id or 0)
    if existing is not None:
        return existing, False
    actor = system_actor(QR_ACTOR)
    ticket = service.open_ticket(
        session,
        actor,
        unit,
        symptom,
        source=TicketSource.qr,
        description=description[:1000],
        opened_by=(None, QR_ACTOR),
    )
    return ticket, True
