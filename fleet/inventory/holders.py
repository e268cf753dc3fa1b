"""Who held each merchant (its responsible staff member), from which day to which.

A portfolio is the merchants a staff member is responsible for. Pay counts a portfolio that
moved between people mid-period by the days each held it, so every change of a merchant's
staff member closes one interval and opens the next: `record_change`, called by the merchant
service on create and update. Days are the feed's local (Asia/Shanghai) calendar days; the
day of a change belongs to the new holder. The migration that made the table filled it from
the audit log's merchant entries where it could.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import Field, Session, SQLModel, col

from fleet.auth.models import User
from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.db import utcnow
from fleet.core.errors import Invalid
from fleet.inventory.models import Merchant

SINCE_EVER = date(2000, 1, 1)


class MerchantHolder(SQLModel, table=True):
    """One staff member's hold of one merchant: days [held_from, held_to), open while held_to is
    null."""

    __tablename__ = "merchant_holder"

    id: int | None = Field(default=None, primary_key=True)
    merchant_id: int = Field(foreign_key="merchant.id", index=True)
    staff_id: int = Field(foreign_key="user.id", index=True)
    held_from: date
    held_to: date | None = None


def local_day(moment: datetime) -> date:
    """The feed's local calendar day of a moment (naive moments are UTC)."""
    stamp = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return stamp.astimezone(ZoneInfo(get_settings().feed_timezone)).date()


def record_change(session: Session, merchant_id: int, staff_id: int | None, day: date) -> None:
    """The merchant is held by `staff_id` (None: by nobody) from `day` on."""
    current = session.execute(
        select(MerchantHolder)
        .where(col(MerchantHolder.merchant_id) == merchant_id)
        .where(col(MerchantHolder.held_to).is_(None))
    ).scalars()
    for hold in list(current):
        if hold.staff_id == staff_id:
            return
        if hold.held_from >= day:  # held for no whole day: not a hold at all
            session.delete(hold)
        else:
            hold.held_to = day
            session.add(hold)
    if staff_id is not None:
        session.add(MerchantHolder(merchant_id=merchant_id, staff_id=staff_id, held_from=day))
    session.flush()


def holds(
    session: Session, start: date, end: date, merchant_ids: set[int] | None = None
) -> dict[int, list[tuple[int, date, date]]]:
    """merchant id → [(staff id, first day, first day after)] of the holds within [start, end),
    clipped to it."""
    query = select(
        col(MerchantHolder.merchant_id),
        col(MerchantHolder.staff_id),
        col(MerchantHolder.held_from),
        col(MerchantHolder.held_to),
    ).where(
        col(MerchantHolder.held_from) < end,
        col(MerchantHolder.held_to).is_(None) | (col(MerchantHolder.held_to) > start),
    )
    found: dict[int, list[tuple[int, date, date]]] = defaultdict(list)
    for merchant_id, staff_id, held_from, held_to in session.execute(query):
        if merchant_ids is not None and merchant_id not in merchant_ids:
            continue
        first, after = max(held_from, start), min(held_to or end, end)
        if after > first:
            found[merchant_id].append((staff_id, first, after))
    return dict(found)


def days_held(session: Session, start: date, end: date) -> dict[tuple[int, int], int]:
    """(staff id, merchant id) → the days of [start, end) the staff member held the merchant."""
    return {
        (staff_id, merchant_id): (after - first).days
        for merchant_id, spans in holds(session, start, end).items()
        for staff_id, first, after in spans
    }


def hand_over(
    session: Session, actor: Actor, merchant: Merchant, staff: User | None, from_day: date
) -> None:
    """The merchant's portfolio moves to `staff` (None: to nobody) from `from_day`, a day not
    before the current holder's first and not after today: a handover agreed for the 1st and
    entered on the 3rd counts from the 1st."""
    actor.require(Permission.write_inventory)
    assert merchant.id is not None
    today = local_day(utcnow())
    current = session.execute(
        select(MerchantHolder)
        .where(col(MerchantHolder.merchant_id) == merchant.id)
        .where(col(MerchantHolder.held_to).is_(None))
    ).scalar_one_or_none()
    since = current.held_from if current else None
    if from_day > today or (since is not None and from_day <= since):
        raise Invalid(
            "a handover counts from a day after {since} and not after {today}",
            since=str(since or "-"),
            today=str(today),
        )
    new_id = staff.id if staff else None
    old_id = merchant.staff_id
    record_change(session, merchant.id, new_id, from_day)
    merchant.staff_id = new_id
    session.add(merchant)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="hand_over",
        entity="merchant",
        entity_id=merchant.code,
        branch_id=merchant.branch_id,
        changes={"staff_id": [old_id, new_id], "from": from_day},
    )
