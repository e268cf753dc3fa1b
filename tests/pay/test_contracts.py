"""Contracts (承包) on a hand-built history: the threshold, the cap, commission above the
baseline, the clawback carried to the next statement, a fee change mid-period, settlement
totals equal to the sum of their lines; approval rules, locked terms and overlapping
portfolios refused with nothing changed; who sees which contract and its amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.core.access import Actor, Role
from fleet.core.audit import AuditEntry
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound
from fleet.feeds import service
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from fleet.pay import contracts, fees
from fleet.pay.contract_models import (
    Contract,
    ContractCreate,
    ContractLine,
    ContractStatus,
    ContractUpdate,
    LineKind,
    PortfolioKind,
)
from fleet.pay.models import FeeRuleIn, FeeType, MerchantClass
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import line, write_feed

DEPLOYED = datetime(2026, 2, 28, 16, 0, tzinfo=UTC)  # 1 March, Beijing time
AFTER = date(2026, 7, 15)  # "today" once every period below is over
TEN_PCT = 100_000


def schedule() -> list[FeeRuleIn]:
    """A transfer earns the bank 1 yuan until 15 June, then 2 yuan (no shares to pay)."""
    kind, cls = FeeType.transfer, MerchantClass.standard
    return [
        FeeRuleIn(
            txn_type=kind,
            merchant_class=cls,
            effective_from=date(2026, 1, 1),
            effective_to=date(2026, 6, 15),
            fixed_fen=100,
        ),
        FeeRuleIn(
            txn_type=kind, merchant_class=cls, effective_from=date(2026, 6, 15), fixed_fen=200
        ),
    ]


def uses(sn: str, day: str, times: int) -> list[str]:
    merchant = "M" + sn[1:]
    return [
        line(f"{sn}-{day}-{n}", sn, f"{day}T10:{n % 60:02d}:{n // 60:02d}", merchant=merchant)
        for n in range(times)
    ]


HISTORY = [
    # T1: 40 transfers at 1 yuan in June, against a target of 100 yuan: 40%, under 80%.
    *uses("T1", "2026-06-05", 40),
    # T2: 30 at 1 yuan before 15 June, 30 at 2 yuan after: 90 yuan, 90% of 100.
    *uses("T2", "2026-06-05", 30),
    *uses("T2", "2026-06-20", 30),
    # T3: 50 at 1 yuan + 75 at 2 yuan = 200 yuan: 200% of 100, paid as at the cap of 150%.
    *uses("T3", "2026-06-05", 50),
    *uses("T3", "2026-06-20", 75),
    # T4: 20 yuan in May (the baseline), 50 yuan in June: 30 yuan above it.
    *uses("T4", "2026-05-10", 20),
    *uses("T4", "2026-06-05", 50),
    # T5 and T6 never used until 2 April (3 transfers each: activated in April). T5 stops:
    # 30 days without use from 2 April, complete on 2 May, within 90 days of 1 April.
    *uses("T5", "2026-04-02", 3),
    *uses("T6", "2026-04-02", 3),
    # T6 goes on, every 20 days: it never falls back.
    *uses("T6", "2026-04-20", 1),
    *uses("T6", "2026-05-10", 1),
    *uses("T6", "2026-05-30", 1),
    *uses("T6", "2026-06-19", 1),
]


def world(session: Session, tmp_path: Path) -> None:
    """LY (city) ─ LS (county) ─ LS1 (outlet: merchants M1–M6 with units T1–T6), and LB, a
    sibling county. li and wang work in LS1; ops_ls runs LS, ops_lb runs LB."""
    factories.branch(session, "LY", level="city")
    factories.branch(session, "LS", "LY", level="county")
    factories.branch(session, "LS1", "LS")
    factories.branch(session, "LB", "LY", level="county")
    for n in range(1, 7):
        factories.merchant(session, f"M{n}", "LS1")
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(
                sn=f"T{n}", branch_code="LS1", merchant_code=f"M{n}", deployed_at=DEPLOYED
            ),
        )
    factories.user(session, "li", Role.field, "LS1")
    factories.user(session, "wang", Role.field, "LS1")
    factories.user(session, "ops_ls", Role.branch_ops, "LS")
    factories.user(session, "ops_lb", Role.branch_ops, "LB")
    fees.set_schedule(session, SYSTEM, schedule())
    session.commit()
    report = service.ingest_file(write_feed(tmp_path / "feed.csv", HISTORY), actor=SYSTEM)
    assert report.rejected == 0


def actor(session: Session, username: str) -> Actor:
    from fleet.auth.models import User
    from fleet.inventory.scope import subtree_ids

    user = session.exec(select(User).where(User.username == username)).one()
    return Actor(
        username=username,
        role=user.role,
        user_id=user.id,
        branch_ids=subtree_ids(session, user.branch_id),
    )


def terms(
    name: str, merchants: list[str], period: str = "2026-06", **more: object
) -> ContractCreate:
    values: dict[str, object] = {
        "name": name,
        "members": ["li"],
        "portfolio_kind": PortfolioKind.merchants,
        "merchant_codes": merchants,
        "period": period,
        "commission_ppm": TEN_PCT,
        **more,
    }
    return ContractCreate.model_validate(values)


def approved(session: Session, data: ContractCreate) -> Contract:
    ops = actor(session, "ops_ls")
    made = contracts.create(session, ops, data)
    assert made.id is not None
    return contracts.approve(session, ops, made.id, today=date(2026, 3, 20))


def settled_total(
    session: Session, contract: Contract
) -> tuple[int, list[tuple[str, str, int, int, int]]]:
    assert contract.id is not None
    final = contracts.settle(session, actor(session, "ops_ls"), contract.id, today=AFTER)
    rows = [
        (ln.kind.value, ln.sn, ln.txn_count, ln.net_fen, ln.commission_fen) for ln in final.lines
    ]
    stored = session.exec(
        select(func.sum(ContractLine.commission_fen)).where(
            col(ContractLine.contract_id) == contract.id
        )
    ).one()
    session.refresh(contract)
    # The settlement's total is the sum of its lines, as computed and as stored.
    assert final.total_fen == sum(r[4] for r in rows) == stored == contract.settled_total_fen
    return final.total_fen, rows


def test_nothing_below_the_threshold(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    low = approved(session, terms("low", ["M1"], target_revenue_fen=10_000))
    total, rows = settled_total(session, low)
    assert rows == [("unit", "T1", 40, 4000, 0)]
    assert total == 0
    assert contracts.statement(session, SYSTEM, low.id or 0).attainment == pytest.approx(0.4)


def test_a_fee_change_mid_period_and_attainment_under_the_cap(
    session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    mid = approved(session, terms("mid", ["M2"], target_revenue_fen=10_000))
    total, rows = settled_total(session, mid)
    # 30 × 1 yuan + 30 × 2 yuan (the schedule changed on 15 June) = 90 yuan; 10% of it.
    assert rows == [("unit", "T2", 60, 9000, 900)]
    assert total == 900


def test_the_cap(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    cap = approved(session, terms("cap", ["M3"], target_revenue_fen=10_000))
    total, rows = settled_total(session, cap)
    # 200% attainment paid as at 150%: 10% of 150 yuan.
    assert rows == [("unit", "T3", 125, 20000, 1500)]
    assert total == 1500
    shown = contracts.statement(session, SYSTEM, cap.id or 0)
    assert (shown.settled, shown.attainment, shown.factor) == (True, 2.0, 0.75)


def test_commission_only_above_the_baseline(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    above = approved(session, terms("above", ["M4"], above_baseline=True))
    # Locked at approval: May's net revenue, and 动户率 on 1 June (used on 10 May: active).
    assert (above.baseline_net_fen, above.baseline_active_rate) == (2000, 1.0)
    total, rows = settled_total(session, above)
    assert rows == [("unit", "T4", 50, 5000, 500), ("baseline", "", 0, -2000, -200)]
    assert total == 300


def test_the_clawback_is_carried_to_the_next_statement(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    claw = approved(session, terms("claw", ["M5", "M6"], period="2026-Q2"))
    cid = claw.id or 0

    def month(text: str) -> list[tuple[str, str, str, int, int]]:
        shown = contracts.statement(session, SYSTEM, cid, month=text, today=AFTER)
        assert shown.total_fen == sum(ln.commission_fen for ln in shown.lines)
        return [
            (ln.kind.value, ln.sn, ln.month, ln.net_fen, ln.commission_fen) for ln in shown.lines
        ]

    # April: both credited as activated, 3 yuan and 4 yuan earned.
    assert month("2026-04") == [("unit", "T5", "", 300, 30), ("unit", "T6", "", 400, 40)]
    # T5 fell back on 2 May (30 days without use): taken back in June's statement.
    assert month("2026-05") == [("unit", "T5", "", 0, 0), ("unit", "T6", "", 200, 20)]
    assert month("2026-06") == [
        ("unit", "T5", "", 0, 0),
        ("unit", "T6", "", 200, 20),  # 19 June: at 2 yuan
        ("clawback", "T5", "2026-04", 300, -30),
    ]
    total, rows = settled_total(session, claw)
    assert rows == [
        ("unit", "T5", 3, 300, 30),
        ("unit", "T6", 7, 800, 80),
        ("clawback", "T5", 3, 300, -30),
    ]
    assert total == 80
    clawed = session.exec(
        select(ContractLine).where(col(ContractLine.kind) == LineKind.clawback)
    ).one()
    assert clawed.lapsed_on == date(2026, 5, 2)


def test_states_and_who_approves(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    ops, li = actor(session, "ops_ls"), actor(session, "li")
    made = contracts.create(
        session, ops, terms("q3", ["M1"], period="2026-Q3", target_active_rate=0.5)
    )
    cid = made.id or 0
    assert made.status is ContractStatus.draft
    with pytest.raises(Forbidden):  # staff do not draft or approve contracts
        contracts.approve(session, li, cid)
    with pytest.raises(NotFound):  # a sibling county's operations do not even see it
        contracts.approve(session, actor(session, "ops_lb"), cid)
    contracts.update(session, ops, cid, ContractUpdate(target_active_rate=0.6))
    done = contracts.approve(session, ops, cid, today=date(2026, 6, 1))
    assert (done.status, done.approved_by_name) == (ContractStatus.approved, "ops_ls")
    assert contracts.start_due(session, SYSTEM, today=date(2026, 7, 1)) == [done]
    assert done.status is ContractStatus.running
    actions = session.exec(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "contract")
        .order_by(col(AuditEntry.id))
    ).all()
    assert actions == ["create_contract", "update_contract", "approve_contract", "start_contract"]
    with pytest.raises(Invalid, match="settle it after its period"):
        contracts.settle(session, ops, cid, today=date(2026, 9, 30))


def test_a_member_does_not_approve_their_own(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    factories.user(session, "ops_ls1", Role.branch_ops, "LS1")
    ops = actor(session, "ops_ls1")
    made = contracts.create(session, ops, terms("self", ["M1"], members=["ops_ls1", "li"]))
    with pytest.raises(Forbidden, match="does not hold it"):
        contracts.approve(session, ops, made.id or 0)
    assert made.status is ContractStatus.draft


def test_an_approved_contract_is_locked(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    ops = actor(session, "ops_ls")
    done = approved(session, terms("locked", ["M1"], target_revenue_fen=10_000))
    with pytest.raises(Conflict, match="terms are locked"):
        contracts.update(session, ops, done.id or 0, ContractUpdate(commission_ppm=500_000))
    session.refresh(done)
    assert done.commission_ppm == TEN_PCT


@pytest.mark.parametrize(
    "second",
    [
        {"merchant_codes": ["M3", "M1"]},  # a list sharing M1
        {"portfolio_kind": PortfolioKind.branch, "branch_code": "LS", "merchant_codes": []},
        {"portfolio_kind": PortfolioKind.branch, "branch_code": "LS1", "merchant_codes": []},
    ],
)
def test_overlapping_portfolios_in_the_same_days_are_refused(
    session: Session, tmp_path: Path, second: dict[str, object]
) -> None:
    world(session, tmp_path)
    ops = actor(session, "ops_ls")
    contracts.create(session, ops, terms("first", ["M1", "M2"], period="2026-Q2"))
    session.commit()
    data = terms("second", [], period="2026-06").model_copy(update=second)
    with pytest.raises(Conflict) as refused:
        contracts.create(session, ops, data)
    session.rollback()
    assert "#1 first (2026-Q2: M1" in refused.value.message
    assert session.exec(select(func.count()).select_from(Contract)).one() == 1
    # Another period, or merchants of their own, are fine.
    contracts.create(session, ops, terms("later", ["M1"], period="2026-Q3"))
    contracts.create(session, ops, terms("apart", ["M3"], period="2026-06"))


def test_a_branch_subtree_clashes_with_another_subtree_around_it(
    session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    ops = actor(session, "ops_ls")
    branch = {"portfolio_kind": PortfolioKind.branch, "merchant_codes": []}
    contracts.create(session, ops, terms("county", [], **branch, branch_code="LS"))
    session.commit()
    with pytest.raises(Conflict):
        contracts.create(session, ops, terms("outlet", [], **branch, branch_code="LS1"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"commission_ppm": -1}, "commission_ppm"),
        ({"target_revenue_fen": -100}, "target_revenue_fen"),
        ({"target_active_rate": 1.5}, "target_active_rate"),
        ({"threshold_pct": 200}, "threshold_pct"),
        ({"cap_pct": 90}, "cap_pct"),
    ],
)
def test_bad_terms_are_refused_by_name(
    session: Session, tmp_path: Path, change: dict[str, object], field: str
) -> None:
    world(session, tmp_path)
    with pytest.raises(Invalid) as refused:
        contracts.create(session, actor(session, "ops_ls"), terms("bad", ["M1"], **change))
    assert field in refused.value.message
    session.rollback()
    assert session.exec(select(func.count()).select_from(Contract)).one() == 0


def test_who_sees_which_contract_and_its_amounts(session: Session, tmp_path: Path) -> None:
    world(session, tmp_path)
    ops = actor(session, "ops_ls")
    mine = approved(session, terms("li's", ["M2"], target_revenue_fen=10_000))
    theirs = contracts.create(session, ops, terms("wang's", ["M3"], members=["wang"]))
    li = actor(session, "li")
    assert [c.name for c in contracts.list_contracts(session, li)] == ["li's"]
    with pytest.raises(NotFound):
        contracts.get(session, li, theirs.id or 0)
    shown = contracts.public(session, li, mine)
    assert (shown.target_revenue_fen, shown.baseline_net_fen) == (None, None)
    assert contracts.public(session, ops, mine).target_revenue_fen == 10_000
    with pytest.raises(Forbidden):  # statements are money
        contracts.statement(session, li, mine.id or 0)
    progress = contracts.progress(session, li, mine.id or 0, today=AFTER)
    assert progress is not None and progress.revenue_attainment == pytest.approx(0.9)
    assert [c.name for c in contracts.list_contracts(session, actor(session, "ops_lb"))] == []
    assert len(contracts.list_contracts(session, ops)) == 2
