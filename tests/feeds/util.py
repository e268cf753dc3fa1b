"""A small deployed fleet, and feed lines for it, for the ingest tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.feeds.models import RejectedRow, TerminalDay, Txn
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from tests import factories
from tests.factories import SYSTEM

HEADER = "txn_ref,terminal_sn,occurred_at,amount,txn_type,status,merchant_code"
# Placed at 2026-03-01 00:00 Beijing time.
DEPLOYED = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)


def small_fleet(session: Session, terminals: int = 3) -> list[str]:
    """Terminals T1..Tn deployed at merchants M1..Mn since DEPLOYED; T0 stays in stock."""
    factories.branch(session, "LY", level="city")
    for n in range(1, terminals + 1):
        factories.merchant(session, f"M{n}", "LY")
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(
                sn=f"T{n}", branch_code="LY", merchant_code=f"M{n}", deployed_at=DEPLOYED
            ),
        )
    factories.terminal(session, "T0", "LY")
    session.commit()
    return [f"T{n}" for n in range(1, terminals + 1)]


def line(
    ref: str,
    sn: str = "T1",
    at: str = "2026-05-01T10:00:00",
    amount: str = "100.00",
    kind: str = "transfer",
    status: str = "success",
    merchant: str = "M1",
) -> str:
    return ",".join((ref, sn, at, amount, kind, status, merchant))


def write_feed(
    path: Path, lines: list[str], *, header: str = HEADER, encoding: str = "utf-8"
) -> Path:
    path.write_bytes(("\n".join([header, *lines]) + "\n").encode(encoding))
    return path


def stored(session: Session) -> dict[str, object]:
    """What a feed leaves behind: transactions and rollups, in comparable form."""
    session.expire_all()
    txns = session.execute(select(func.count()).select_from(Txn)).scalar_one()
    days = session.execute(
        select(
            TerminalDay.terminal_id,
            TerminalDay.day,
            TerminalDay.txn_count,
            TerminalDay.amount_fen,
            TerminalDay.other_count,
        ).order_by(col(TerminalDay.terminal_id), col(TerminalDay.day))
    ).all()
    return {"txns": txns, "days": [tuple(d) for d in days]}


def rejects(session: Session, run_id: int) -> list[tuple[int, str]]:
    rows = session.execute(
        select(RejectedRow.line_no, RejectedRow.reason)
        .where(col(RejectedRow.ingest_id) == run_id)
        .order_by(col(RejectedRow.line_no))
    ).all()
    return [(n, r.value) for n, r in rows]
