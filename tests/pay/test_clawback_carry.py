"""A clawback across contracts, on a hand-built history: a unit credited as activated in a
contract's last month that falls back after the contract ended is taken back in the
contractor's next contract (a line naming the unit and the contract it came from), or shown
as outstanding on the settled contract when there is no later one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from fleet.feeds import service
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from fleet.pay import contracts
from fleet.pay.contract_models import Contract, ContractLine, LineKind, Statement
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import write_feed
from tests.pay.test_contracts import (
    AFTER,
    DEPLOYED,
    actor,
    approved,
    settled_total,
    terms,
    uses,
    world,
)

LATE = date(2026, 10, 15)  # "today" once the third quarter is over

MORE = [
    # T7 and T8 unused since they were placed (1 March): in May's cohort. Both wake on 5 May.
    *uses("T7", "2026-05-05", 3),
    *uses("T8", "2026-05-05", 3),
    # T7 stops: 30 days without use complete on 4 June, after a May contract ended, within
    # 90 days of 1 May. T8 is used once more on 25 May and falls back on 24 June.
    *uses("T8", "2026-05-25", 1),
    # T9 earns 10 yuan in July (2 yuan a transfer since 15 June); used in June, so it is not
    # in July's cohort (no clawback of its own).
    *uses("T9", "2026-06-10", 1),
    *uses("T9", "2026-07-10", 5),
]


def more_world(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    for n in (7, 8, 9):
        factories.merchant(session, f"M{n}", "LS1")
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(
                sn=f"T{n}", branch_code="LS1", merchant_code=f"M{n}", deployed_at=DEPLOYED
            ),
        )
    session.commit()
    report = service.ingest_file(write_feed(tmp_path / "more.csv", MORE), actor=SYSTEM)
    assert report.rejected == 0


def claws(shown: Statement) -> list[tuple[str, str, int | None, str, int, int]]:
    return [
        (
            ln.sn,
            ln.month,
            ln.from_contract_id,
            ln.lapsed_on.isoformat() if ln.lapsed_on else "",
            ln.net_fen,
            ln.commission_fen,
        )
        for ln in shown.lines
        if ln.kind is LineKind.clawback
    ]


def may_contract(session: Session) -> Contract:
    """li's May contract on M7 and M8, settled: it paid 10% of T7's 3 yuan and T8's 4 yuan."""
    may = approved(session, terms("may", ["M7", "M8"], period="2026-05"))
    total, rows = settled_total(session, may)
    assert rows == [("unit", "T7", 3, 300, 30), ("unit", "T8", 4, 400, 40)]
    assert total == 70
    return may


def test_without_a_later_contract_the_clawback_is_outstanding_on_the_settled_one(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    more_world(session, tmp_path)
    may = may_contract(session)
    shown = contracts.statement(session, SYSTEM, may.id or 0, today=AFTER)
    assert shown.settled and shown.total_fen == 70  # what was paid stays as paid
    later = [(c.sn, c.month, c.lapsed_on, c.commission_fen, c.carried_to_id) for c in shown.later]
    assert later == [
        ("T7", "2026-05", date(2026, 6, 4), -30, None),
        ("T8", "2026-05", date(2026, 6, 24), -40, None),
    ]
    assert shown.outstanding_fen == -70
    # The contract's page says so, in Chinese.
    session.commit()
    signed = client.post(
        "/login",
        data={"username": "ops_ls", "password": factories.PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    page = client.get(f"/ops/contracts/{may.id}", headers={"Accept-Language": "zh-CN"}).text
    assert "期满后回落" in page and "待追回" in page and "Fell back after" not in page
    assert page.count('<tr data-sn="T') == 2


def test_carried_into_the_contractors_next_contracts_first_statement(
    session: Session, tmp_path: Path
) -> None:
    more_world(session, tmp_path)
    may = may_contract(session)
    # Another contractor's later contract, and a draft of li's, take nothing.
    ops = actor(session, "ops_ls")
    approved(session, terms("wang's", ["M1"], period="2026-Q3", members=["wang"]))
    contracts.create(session, ops, terms("draft", ["M2"], period="2026-Q3"))
    q3 = approved(session, terms("q3", ["M9"], period="2026-Q3"))
    qid = q3.id or 0
    july = contracts.statement(session, SYSTEM, qid, month="2026-07", today=LATE)
    carried = [
        ("T7", "2026-05", may.id, "2026-06-04", 300, -30),
        ("T8", "2026-05", may.id, "2026-06-24", 400, -40),
    ]
    assert claws(july) == carried
    assert july.total_fen == sum(ln.commission_fen for ln in july.lines) == 100 - 70
    assert claws(contracts.statement(session, SYSTEM, qid, month="2026-08", today=LATE)) == []
    # On the May contract: each carried, to the third quarter's contract; nothing outstanding.
    shown = contracts.statement(session, SYSTEM, may.id or 0, today=LATE)
    assert [(c.sn, c.carried_to_id) for c in shown.later] == [("T7", qid), ("T8", qid)]
    assert shown.outstanding_fen == 0
    # The third quarter's settlement takes them back once, stored line by line.
    total, rows = settled_total_on(session, q3)
    assert rows == [
        ("unit", "T9", 5, 1000, 100),
        ("clawback", "T7", 3, 300, -30),
        ("clawback", "T8", 4, 400, -40),
    ]
    assert total == 30
    stored = session.exec(
        select(ContractLine.sn, ContractLine.from_contract_id)
        .where(col(ContractLine.contract_id) == qid)
        .where(col(ContractLine.kind) == LineKind.clawback)
        .order_by(col(ContractLine.sn))
    ).all()
    assert stored == [("T7", may.id), ("T8", may.id)]


def test_a_lapse_goes_to_the_contract_running_when_it_fell_back(
    session: Session, tmp_path: Path
) -> None:
    more_world(session, tmp_path)
    may = may_contract(session)
    june = approved(session, terms("june", ["M1"], period="2026-06"))
    q3 = approved(session, terms("q3", ["M9"], period="2026-Q3"))
    # Both fell back in June: June's contract takes them back in its settlement.
    total, rows = settled_total(session, june)
    assert rows == [
        ("unit", "T1", 40, 4000, 400),
        ("clawback", "T7", 3, 300, -30),
        ("clawback", "T8", 4, 400, -40),
    ]
    assert total == 330
    july = contracts.statement(session, SYSTEM, q3.id or 0, month="2026-07", today=LATE)
    assert claws(july) == []
    shown = contracts.statement(session, SYSTEM, may.id or 0, today=LATE)
    assert [(c.sn, c.carried_to_id) for c in shown.later] == [("T7", june.id), ("T8", june.id)]


def settled_total_on(
    session: Session, contract: Contract
) -> tuple[int, list[tuple[str, str, int, int, int]]]:
    """settled_total, with "today" after the third quarter."""
    assert contract.id is not None
    final = contracts.settle(session, actor(session, "ops_ls"), contract.id, today=LATE)
    rows = [
        (ln.kind.value, ln.sn, ln.txn_count, ln.net_fen, ln.commission_fen) for ln in final.lines
    ]
    assert final.total_fen == sum(r[4] for r in rows)
    return final.total_fen, rows
