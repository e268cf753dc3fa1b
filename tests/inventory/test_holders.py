"""Who held each merchant from which day: kept on create, update and handover, read by the
days each held it within a period, and filled by the migration from the audit log."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from fleet.core.access import Role
from fleet.core.db import make_engine, session_scope, utcnow
from fleet.core.errors import Invalid
from fleet.inventory import holders
from fleet.inventory import service as inventory
from fleet.inventory.models import MerchantUpdate
from fleet.migrations import upgrade
from tests import factories
from tests.factories import SYSTEM


def _people(session: Session) -> dict[str, int]:
    factories.branch(session, "LY", level="city")
    ids = {}
    for name in ("li", "wang", "zhao"):
        made = factories.user(session, name, Role.field, "LY")
        assert made.id is not None
        ids[name] = made.id
    return ids


def test_a_handover_mid_month_splits_the_days(session: Session) -> None:
    ids = _people(session)
    made = factories.merchant(session, "M1", "LY", staff_username="li")
    today = holders.local_day(utcnow())
    start = today.replace(day=1) - timedelta(days=40)
    end = start + timedelta(days=30)
    assert holders.days_held(session, start, end) == {(ids["li"], made.id): 30}
    wang = inventory.staff_by_username(session, SYSTEM, "wang")
    holders.hand_over(session, SYSTEM, made, wang, start + timedelta(days=10))
    assert made.staff_id == ids["wang"]
    assert holders.days_held(session, start, end) == {
        (ids["li"], made.id): 10,
        (ids["wang"], made.id): 20,
    }
    # Before the handover's day, or in the future: refused, nothing changed.
    for day in (start + timedelta(days=10), today + timedelta(days=1)):
        with pytest.raises(Invalid):
            holders.hand_over(session, SYSTEM, made, None, day)
    assert made.staff_id == ids["wang"]


def test_an_update_moves_the_portfolio_from_today(session: Session) -> None:
    ids = _people(session)
    made = factories.merchant(session, "M1", "LY", staff_username="li")
    inventory.update_merchant(session, SYSTEM, made, MerchantUpdate(staff_username="zhao"))
    today = holders.local_day(utcnow())
    assert holders.days_held(session, today - timedelta(days=5), today + timedelta(days=2)) == {
        (ids["li"], made.id): 5,
        (ids["zhao"], made.id): 2,
    }
    # Changing it again the same day leaves no hold of no whole day.
    inventory.update_merchant(session, SYSTEM, made, MerchantUpdate(staff_username="wang"))
    assert holders.days_held(session, today, today + timedelta(days=1)) == {
        (ids["wang"], made.id): 1
    }
    inventory.update_merchant(session, SYSTEM, made, MerchantUpdate(staff_username=None))
    assert holders.days_held(session, today, today + timedelta(days=1)) == {}


def test_the_migration_fills_holds_from_the_audit_log(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "ingest_run_branch")
    engine = make_engine(url)
    with session_scope(engine) as session:
        ids = _people(session)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO merchant (code, name, category, opening_hours, status, branch_id, "
                "staff_id, created_at, updated_at) SELECT 'M1', 'x', 'other', '08:00-18:00', "
                "'open', id, :staff, '2026-01-01', '2026-01-01' FROM branch"
            ),
            {"staff": ids["zhao"]},
        )
        for at, old, new in (("2026-03-09T17:00:00", "li", "wang"), ("2026-04-01", "wang", "zhao")):
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor_name, action, entity, entity_id, changes) "
                    "VALUES (:at, 'x', 'update', 'merchant', 'M1', :changes)"
                ),
                {"at": at, "changes": f'{{"staff_id": [{ids[old]}, {ids[new]}]}}'},
            )
    upgrade(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT staff_id, held_from, held_to FROM merchant_holder ORDER BY held_from")
        ).all()
    engine.dispose()
    # 17:00 UTC on 9 March is 10 March in Shanghai: the day the move counts from.
    assert [tuple(r) for r in rows] == [
        (ids["li"], "2000-01-01", "2026-03-10"),
        (ids["wang"], "2026-03-10", "2026-04-01"),
        (ids["zhao"], "2026-04-01", None),
    ]
    assert date.fromisoformat(rows[0][1]) == holders.SINCE_EVER
