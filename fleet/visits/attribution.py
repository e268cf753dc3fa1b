"""Did the visit work? Activation rate of visits, by staff member and by outcome.

A done visit to a unit that was idle, dormant or never used when it was planned counts as an
activation when the unit has a successful financial transaction after its outcome was recorded,
up to `revisit_activation_days` (30) after the visit day. Use earlier that day (a transaction at
08:05 and an outcome recorded at 11:28) is not the visit's doing. The days after the recording
day are read from the terminal-day rollups; the recording day itself from its transactions,
for the few units whose only use in the window is on that day. A visit whose window is still
open and has no use yet is `pending`: counted as eligible, not (yet) activated.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from fleet.auth.models import User
from fleet.core.access import Actor, Permission, Role
from fleet.core.config import Settings, get_settings
from fleet.core.errors import Invalid
from fleet.core.i18n import N_, texts_for
from fleet.core.words import said
from fleet.feeds.models import TerminalDay, Txn, TxnStatus
from fleet.scoring.service import today_local
from fleet.visits.models import Visit, VisitKind, VisitStatus
from fleet.visits.schemas import Attribution, AttributionRow

ACTIVATABLE = ("idle", "dormant", "never_used")
KINDS = (VisitKind.revisit, VisitKind.follow_up, VisitKind.campaign)

ALL = N_("All")  # the total row's label, in Chinese as the outcomes' (core.words)


def _used_days(
    session: Session, terminals: set[int], first: date, last: date
) -> dict[int, list[date]]:
    wanted = sorted(terminals)
    found: dict[int, list[date]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        stmt = select(col(TerminalDay.terminal_id), col(TerminalDay.day)).where(
            col(TerminalDay.terminal_id).in_(wanted[start : start + 500]),
            col(TerminalDay.day) >= first,
            col(TerminalDay.day) <= last,
            col(TerminalDay.txn_count) > 0,
        )
        for terminal_id, day in session.execute(stmt):
            found[terminal_id].append(day)
    return found


def _recorded_day(visit: Visit, zone: ZoneInfo) -> date:
    """The local day the outcome was recorded (the visit day, for a visit without the time)."""
    if visit.recorded_at is None:
        return visit.plan_date
    return visit.recorded_at.astimezone(zone).date()


def _used_after_recording(
    session: Session, visits: list[Visit], zone: ZoneInfo, settings: Settings
) -> set[int]:
    """Of `visits` (each with a unit, used on its recording day), those whose unit had a
    successful financial transaction at or after the outcome's recording time that day."""
    wanted = [v for v in visits if v.recorded_at is not None and v.terminal_id]
    if not wanted:
        return set()
    first = min(v.recorded_at for v in wanted if v.recorded_at is not None)
    times: dict[tuple[int, date], list[datetime]] = defaultdict(list)
    units = sorted({v.terminal_id for v in wanted if v.terminal_id})
    days = sorted({_recorded_day(v, zone) for v in wanted})
    for start in range(0, len(units), 500):
        stmt = select(col(Txn.terminal_id), col(Txn.day), col(Txn.occurred_at)).where(
            col(Txn.terminal_id).in_(units[start : start + 500]),
            col(Txn.day).in_(days),
            col(Txn.occurred_at) >= first,
            col(Txn.status) == TxnStatus.success.value,
            col(Txn.txn_type).in_(settings.financial_types),
        )
        for terminal_id, day, at in session.execute(stmt):
            times[(terminal_id, day)].append(at)
    found = set()
    for v in wanted:
        that_day = times.get((v.terminal_id or 0, _recorded_day(v, zone)), [])
        if v.recorded_at is not None and any(at >= v.recorded_at for at in that_day):
            found.add(v.id or 0)
    return found


def _row(key: str, label: str, tally: dict[str, int]) -> AttributionRow:
    eligible = tally["eligible"]
    return AttributionRow(
        key=key,
        label=label,
        visits=tally["visits"],
        eligible=eligible,
        activated=tally["activated"],
        pending=tally["pending"],
        rate=round(tally["activated"] / eligible, 4) if eligible else None,
    )


def attribution(
    session: Session,
    actor: Actor,
    *,
    date_from: date,
    date_to: date,
    branch_ids: frozenset[int] | None = None,
    settings: Settings | None = None,
) -> Attribution:
    """Activation rates of done visits between two dates, in the actor's scope."""
    actor.require(Permission.read_inventory)
    settings = settings or get_settings()
    if date_to < date_from:
        raise Invalid("date_to comes before date_from")
    window = settings.revisit_activation_days
    stmt = select(Visit).where(
        col(Visit.status) == VisitStatus.done,
        col(Visit.kind).in_(KINDS),
        col(Visit.plan_date) >= date_from,
        col(Visit.plan_date) <= date_to,
    )
    if actor.role is Role.field:
        stmt = stmt.where(col(Visit.staff_id) == actor.user_id)
    for scope in (actor.branch_ids, branch_ids):
        if scope is not None:
            stmt = stmt.where(col(Visit.branch_id).in_(scope))
    visits = list(session.execute(stmt).scalars())
    eligible = [v for v in visits if v.usage_status in ACTIVATABLE and v.terminal_id]
    used = _used_days(
        session,
        {v.terminal_id for v in eligible if v.terminal_id},
        date_from,
        date_to + timedelta(days=window),
    )
    today = today_local(settings)
    zone = ZoneInfo(settings.feed_timezone)
    eligible_ids = {v.id for v in eligible}
    # Use on a later day of the window, else (on the recording day) use after the recording.
    activated: set[int] = set()
    same_day: list[Visit] = []
    for v in eligible:
        recorded, end = _recorded_day(v, zone), v.plan_date + timedelta(days=window)
        days = used.get(v.terminal_id or 0, [])
        if any(recorded < d <= end for d in days):
            activated.add(v.id or 0)
        elif recorded <= end and recorded in days:
            same_day.append(v)
    activated |= _used_after_recording(session, same_day, zone, settings)
    staff = {
        u.id: u
        for u in session.execute(
            select(User).where(col(User.id).in_({v.staff_id for v in visits}))
        ).scalars()
    }
    total: dict[str, int] = defaultdict(int)
    by_staff: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_outcome: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for v in visits:
        tallies = (total, by_staff[v.staff_id], by_outcome[v.outcome.value if v.outcome else ""])
        counts = {"visits": 1}
        if v.id in eligible_ids:
            end = v.plan_date + timedelta(days=window)
            hit = v.id in activated
            counts["eligible"] = 1
            counts["activated"] = int(hit)
            counts["pending"] = int(not hit and end >= today)
        for tally in tallies:
            for key, n in counts.items():
                tally[key] += n
    return Attribution(
        date_from=date_from,
        date_to=date_to,
        window_days=window,
        total=_row("all", texts_for("zh").gettext(ALL), total),
        by_staff=[
            _row(staff[s].username, staff[s].full_name or staff[s].username, t)
            for s, t in sorted(by_staff.items(), key=lambda kv: staff[kv[0]].username)
        ],
        by_outcome=[
            _row(o, said("outcome", o) if o else "", t) for o, t in sorted(by_outcome.items())
        ],
    )
