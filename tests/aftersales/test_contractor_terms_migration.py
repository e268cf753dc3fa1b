"""The `contractor_terms` revision: a contractor's three rate columns become its first terms,
from the month it was added (China's calendar), set by whoever added it (the audit log); the
downgrade puts the latest terms back on the contractor. Tried on the database under test's kind
(SQLite file, or a PostgreSQL database of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from fleet.core.db import make_engine
from fleet.migrations import alembic_config, upgrade
from tests.own_database import own_database

BEFORE = "plan_notes_phrases"


@pytest.fixture
def old_url(tmp_path: Path) -> Iterator[str]:
    with own_database(tmp_path, "contractor_terms") as url:
        yield url


def test_rates_become_first_terms_and_come_back_on_downgrade(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    engine = make_engine(old_url)
    with engine.begin() as conn:
        # Added at 17:00 UTC on 30 Nov: already 1 Dec in Beijing.
        conn.execute(
            text(
                "INSERT INTO contractor (code, name, kind, annual_fee_per_outlet, "
                "fee_per_ticket, penalty_per_breach, created_at) VALUES ('RT', '返聘售后组', "
                "'person', 4000, 30, 50, '2026-11-30 17:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor_name, action, entity, entity_id, changes) "
                "VALUES ('2026-11-30 17:00:00', 'admin_wang', 'create', 'contractor', 'RT', '{}')"
            )
        )
    upgrade(old_url)
    with engine.connect() as conn:
        terms = conn.execute(
            text(
                "SELECT from_month, annual_fee_per_outlet, fee_per_ticket, penalty_per_breach, "
                "set_by_name FROM contractor_terms"
            )
        ).all()
        columns = conn.execute(text("SELECT * FROM contractor")).keys()
    assert [tuple(t) for t in terms] == [("2026-12", 4000.0, 30.0, 50.0, "admin_wang")]
    assert "fee_per_ticket" not in columns

    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contractor_terms VALUES (1, '2027-01', 4400, 35, 60, 'admin_wang', "
                "'2026-12-20 02:00:00')"
            )
        )
    command.downgrade(alembic_config(old_url), BEFORE)
    with engine.connect() as conn:
        rates = conn.execute(
            text("SELECT annual_fee_per_outlet, fee_per_ticket, penalty_per_breach FROM contractor")
        ).one()
    engine.dispose()
    assert tuple(rates) == (4400.0, 35.0, 60.0)
