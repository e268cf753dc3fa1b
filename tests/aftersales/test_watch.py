"""Suspected faults on hand-built feeds, and restored tickets verified by the first
transaction (or flagged for a call-back)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from fleet.aftersales import service, watch
from fleet.aftersales.models import Resolution, RestoreRequest, Ticket, TicketState
from fleet.core.config import get_settings
from fleet.core.db import session_scope, utcnow
from fleet.core.i18n import texts_for
from fleet.feeds import store
from fleet.feeds.models import Txn
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from tests import factories
from tests.aftersales.conftest import SYSTEM, World, open_for
from tests.scoring.util import add_daily, as_of, deploy, noon

ZH, EN = texts_for("zh"), texts_for("en")


def txn(session: Session, terminal_id: int | None, day: date, status: str, n: int) -> None:
    for i in range(n):
        session.add(
            Txn(
                txn_ref=f"{terminal_id}-{day}-{status}-{i}",
                terminal_id=terminal_id or 0,
                occurred_at=noon(day),
                day=day,
                amount_fen=100,
                txn_type="transfer",
                status=status,
                ingest_id=1,
            )
        )
    session.flush()
    # Rolled up as the ingest does: detection reads the rollups (failed_count), not the rows.
    rows = f"txn WHERE txn_ref LIKE '{terminal_id}-{day}-{status}-%'"
    session.execute(text(store.rollup_sql(get_settings().financial_types, rows, priced=False)))


def region(engine: Engine) -> date:
    """Units at merchant M of outlet O1, deployed 90 days ago; `today` is the as-of day.

    DAILY transacted every day until 4 days ago, then nothing  → silent
    HALF  transacted every other day, silent lately            → nothing (not a daily user)
    BUSY  its failures jump from 1/10 to 4/6 (by its rollups)  → failed_share
    FEW   3 attempts lately, all failed                        → nothing (too few attempts)
    FINE  transacts daily                                      → nothing
    """
    day = as_of() - timedelta(days=1)
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.branch(session, "O1", "LY")
        factories.merchant(session, "M", "O1")
        units = {
            sn: deploy(session, sn, "O1", "M", day - timedelta(days=90)).id
            for sn in ("DAILY", "HALF", "BUSY", "FEW", "FINE")
        }
        start = day - timedelta(days=40)
        add_daily(session, units["DAILY"], start, day - timedelta(days=3))
        for offset in range(0, 37, 2):
            every_other = start + timedelta(days=offset)
            add_daily(session, units["HALF"], every_other, every_other)
        add_daily(session, units["FINE"], start, day)
        txn(session, units["BUSY"], day - timedelta(days=10), "success", 9)
        txn(session, units["BUSY"], day - timedelta(days=10), "failed", 1)
        txn(session, units["BUSY"], day - timedelta(days=1), "success", 2)
        txn(session, units["BUSY"], day, "failed", 4)
        txn(session, units["FEW"], day, "failed", 3)
    return day


def test_suspicions_say_why_with_their_values(engine: Engine) -> None:
    day = region(engine)
    with session_scope(engine) as session:
        found = {s.sn: s for s in watch.find(session, day)}
    assert sorted(found) == ["BUSY", "DAILY"]
    silent = found["DAILY"]
    assert silent.code == "silent"
    assert silent.values == {"silent_days": 3, "baseline_days": 30, "active_share": 1.0}
    assert ZH.phrase(silent.why) == "连续 3 天无成功交易（此前 30 天中有 100% 的天数有交易）"
    failing = found["BUSY"]
    assert failing.code == "failed_share"
    assert failing.values == {
        "recent_days": 3,
        "attempts": 6,
        "failed": 4,
        "failed_share": 0.667,
        "baseline_share": 0.1,
    }
    assert "67%" in ZH.phrase(failing.why) and "4/6" in EN.phrase(failing.why)


def test_suspected_tickets_are_raised_once_and_ops_confirm_or_dismiss(engine: Engine) -> None:
    day = region(engine)
    with session_scope(engine) as session:
        raised = watch.raise_suspicions(session, SYSTEM, day)
        assert sorted(t.state.value for t in raised) == ["suspected", "suspected"]
        # Why is kept as a phrase only, worded where it is shown: no sentence is stored.
        assert all(t.description == "" and t.suspicion for t in raised)
        assert all(set(t.suspicion or {}) >= {"code", "why"} for t in raised)
        assert not any("reason_zh" in (t.suspicion or {}) for t in raised)
        assert all(t.restore_by is None for t in raised)  # no clock until confirmed
        ids = {inventory.get_terminal(session, SYSTEM, t.terminal_id).sn: t.id for t in raised}
    with session_scope(engine) as session:
        assert watch.raise_suspicions(session, SYSTEM, day) == []  # a re-run adds nothing
        assert inventory.terminal_by_sn(session, SYSTEM, "DAILY").state is TerminalState.deployed
        confirmed = service.confirm(session, SYSTEM, ids["DAILY"] or 0)
        assert confirmed.state is TicketState.open and confirmed.restore_by is not None
        assert confirmed.suspicion and confirmed.suspicion["code"] == "silent"
        dismissed = service.cancel(session, SYSTEM, ids["BUSY"] or 0, note="商户休假")
        assert dismissed.state is TicketState.cancelled
    with session_scope(engine) as session:
        assert inventory.terminal_by_sn(session, SYSTEM, "DAILY").state is TerminalState.faulty
        assert inventory.terminal_by_sn(session, SYSTEM, "BUSY").state is TerminalState.deployed


def restored(world: World, sn: str) -> tuple[int, datetime]:
    admin = world.actor("admin")
    ticket_id = open_for(world, sn, who="admin")
    with session_scope(world.engine) as session:
        service.assign(session, admin, ticket_id)
        ticket = service.restore(
            session,
            admin,
            ticket_id,
            RestoreRequest(resolution=Resolution.repaired_on_site),
        )
        return ticket_id, ticket.restored_at or utcnow()


def test_the_first_transaction_verifies_a_restore_and_silence_asks_for_a_call_back(
    world: World,
) -> None:
    verified_id, restored_at = restored(world, "SNA1")
    silent_id, _ = restored(world, "SNB1")
    with session_scope(world.engine) as session:
        unit = inventory.terminal_by_sn(session, SYSTEM, "SNA1")
        first = restored_at + timedelta(minutes=30)
        for ref, at, status in (("F1", first - timedelta(hours=2), "success"),
                                ("F2", first - timedelta(minutes=10), "failed"),
                                ("F3", first, "success"),
                                ("F4", first + timedelta(hours=1), "success")):  # fmt: skip
            row = Txn(txn_ref=ref, terminal_id=unit.id or 0, occurred_at=at, day=at.date(),
                      amount_fen=100, txn_type="transfer", status=status, ingest_id=1)  # fmt: skip
            session.add(row)
    with session_scope(world.engine) as session:
        # Two days on: verified by the first successful transaction after the restore; the
        # other unit has not transacted, but its merchant is called back only after 3 days.
        assert watch.verify_restored(session, utcnow() + timedelta(days=2)) == {
            "verified": 1,
            "callback_due": 0,
        }
        assert watch.verify_restored(session, utcnow() + timedelta(days=3, minutes=1)) == {
            "verified": 0,
            "callback_due": 1,
        }
        assert watch.verify_restored(session, utcnow() + timedelta(days=4)) == {
            "verified": 0,
            "callback_due": 0,
        }
    with session_scope(world.engine) as session:
        tickets = {t.id: t for t in session.execute(select(Ticket)).scalars()}
        assert tickets[verified_id].verified_at == first
        assert not tickets[verified_id].callback_due
        assert tickets[silent_id].verified_at is None and tickets[silent_id].callback_due


def test_the_nightly_job_raises_suspicions_once(engine: Engine) -> None:
    from fleet.aftersales import jobs
    from fleet.jobs.runner import registry

    region(engine)
    assert "aftersales.nightly" in registry(engine)
    first = jobs.nightly(engine)
    assert first.counts == {"suspected": 2, "verified": 0, "callback_due": 0, "breached": 0}
    assert jobs.nightly(engine).counts["suspected"] == 0
