"""The `pay` migration backfills terminal_day's revenue columns from the transactions stored
before it, on a database of its own (the suite's shared one stays at head)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from fleet.feeds.models import Txn
from fleet.migrations import upgrade
from tests.conftest import TEST_URL, _fresh_postgres_schema


@pytest.fixture
def own_url(tmp_path: Path) -> Iterator[str]:
    if TEST_URL.startswith("postgresql"):
        url = make_url(TEST_URL)
        own = url.set(database=f"{url.database}_backfill").render_as_string(hide_password=False)
        _fresh_postgres_schema(own)
        yield own
    else:
        yield f"sqlite:///{tmp_path / 'backfill.db'}"


def txn(ref: str, terminal_id: int, day: date, amount: int, kind: str, status: str) -> Txn:
    return Txn(
        txn_ref=ref,
        terminal_id=terminal_id,
        occurred_at=datetime(day.year, day.month, day.day, 2, tzinfo=UTC),
        day=day,
        amount_fen=amount,
        txn_type=kind,
        status=status,
        ingest_id=1,
    )


def test_the_migration_backfills_counts_and_amounts(own_url: str) -> None:
    upgrade(own_url, "revoked_tokens")
    engine: Engine = create_engine(own_url)
    may1, may2 = date(2026, 5, 1), date(2026, 5, 2)
    with Session(engine) as session:
        # Rows as that schema holds them (today's models have columns it has not).
        stamp = {"at": datetime(2026, 4, 1, tzinfo=UTC)}
        session.execute(
            text(
                "INSERT INTO branch (id, code, name, level, created_at, updated_at) "
                "VALUES (1, 'LY', '网点LY', 'city', :at, :at)"
            ),
            stamp,
        )
        session.execute(
            text(
                "INSERT INTO terminal (id, sn, model, branch_id, state, state_since, created_at, "
                "updated_at) VALUES (1, 'T1', 'T100', 1, 'in_stock', :at, :at, :at)"
            ),
            stamp,
        )
        tid = 1
        session.add_all(
            [
                txn("R1", tid, may1, 100, "transfer", "success"),
                txn("R2", tid, may1, 250, "transfer", "success"),
                txn("R3", tid, may1, 999, "transfer", "failed"),
                txn("R4", tid, may1, 700, "card_payment", "success"),
                txn("R5", tid, may2, 5, "balance_inquiry", "success"),
                txn("R6", tid, may2, 40, "bill_payment", "success"),
            ]
        )
        # The rollups ingest made before: counts without types.
        session.execute(
            text(
                "INSERT INTO terminal_day (terminal_id, day, txn_count, amount_fen, other_count) "
                "VALUES (:t, :d1, 4, 1050, 1), (:t, :d2, 1, 40, 1)"
            ),
            {"t": tid, "d1": may1, "d2": may2},
        )
        session.commit()
    upgrade(own_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT day, txn_count, transfer_count, transfer_fen, card_payment_count, "
                "card_payment_fen, bill_payment_count, bill_payment_fen, transfer_fee_fen, "
                "card_payment_fee_fen, bill_payment_fee_fen, net_fen FROM terminal_day ORDER BY day"
            )
        ).all()
    engine.dispose()
    assert [(str(r[0]), *r[1:]) for r in rows] == [
        ("2026-05-01", 4, 2, 350, 1, 700, 0, 0, 0, 0, 0, 0),
        ("2026-05-02", 1, 0, 0, 0, 0, 1, 40, 0, 0, 0, 0),
    ]
