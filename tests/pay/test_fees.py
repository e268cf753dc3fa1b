"""The fee schedule: versions by date, refusals with the rows listed, merchants' classes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from fleet.core.access import Actor, Role
from fleet.core.audit import AuditEntry
from fleet.core.errors import Forbidden, Invalid, NotFound
from fleet.pay import fees
from fleet.pay.models import FeeRuleIn, FeeType, MerchantClass
from tests import factories
from tests.factories import SYSTEM

T, C = FeeType.transfer, MerchantClass.standard


def rule(start: date, end: date | None = None, **values: object) -> FeeRuleIn:
    return FeeRuleIn(
        txn_type=values.pop("txn_type", T),  # type: ignore[arg-type]
        merchant_class=values.pop("merchant_class", C),  # type: ignore[arg-type]
        effective_from=start,
        effective_to=end,
        **values,  # type: ignore[arg-type]
    )


def test_a_schedule_is_set_whole_and_replaces_the_last(session: Session) -> None:
    fees.set_schedule(session, SYSTEM, fees.example_schedule(date(2021, 9, 30)))
    assert len(fees.schedule(session)) == 9
    assert all(r.example for r in fees.schedule(session))
    made = fees.set_schedule(
        session,
        SYSTEM,
        [rule(date(2026, 1, 1), date(2026, 6, 1), fixed_fen=200), rule(date(2026, 6, 1))],
    )
    assert [(r.effective_from, r.effective_to, r.fixed_fen) for r in made] == [
        (date(2026, 1, 1), date(2026, 6, 1), 200),
        (date(2026, 6, 1), None, 0),
    ]
    actions = session.exec(select(AuditEntry.action)).all()
    assert actions.count("set_fee_schedule") == 2


@pytest.mark.parametrize(
    ("rules", "message", "rows"),
    [
        ([rule(date(2026, 1, 1), fixed_fen=-1)], "fees cannot be negative", "1 (transfer"),
        (
            [rule(date(2026, 1, 1), network_cap_fen=-5), rule(date(2027, 1, 1), cap_fen=-1)],
            "fees cannot be negative",
            "1 (transfer/standard 2026-01-01), 2 (transfer/standard 2027-01-01)",
        ),
        (
            [rule(date(2026, 1, 1), date(2026, 7, 1)), rule(date(2026, 6, 1))],
            "fee dates overlap",
            "1 (transfer/standard 2026-01-01) / 2 (transfer/standard 2026-06-01)",
        ),
        (
            [rule(date(2026, 1, 1)), rule(date(2026, 6, 1))],
            "fee dates overlap",
            "1 (transfer/standard 2026-01-01) / 2",
        ),
        (
            [rule(date(2026, 6, 1)), rule(date(2026, 1, 1), date(2026, 5, 1))],
            "fee dates leave a gap",
            "2 (transfer/standard 2026-01-01) / 1 (transfer/standard 2026-06-01)",
        ),
        ([rule(date(2026, 1, 1), min_fen=500, cap_fen=100)], "a minimum above its cap", "1 ("),
        ([rule(date(2026, 1, 1), date(2026, 1, 1))], "an end not after its start", "1 ("),
        ([rule(date(2026, 1, 1), rate_ppm=1_000_001)], "is not a fee", "1 ("),
    ],
)
def test_a_bad_schedule_is_refused_with_its_rows_and_changes_nothing(
    session: Session, rules: list[FeeRuleIn], message: str, rows: str
) -> None:
    fees.set_schedule(session, SYSTEM, [rule(date(2020, 1, 1), fixed_fen=100)])
    with pytest.raises(Invalid) as refused:
        fees.set_schedule(session, SYSTEM, rules)
    assert message in refused.value.message
    assert rows in refused.value.message
    assert [(r.effective_from, r.fixed_fen) for r in fees.schedule(session)] == [
        (date(2020, 1, 1), 100)
    ]


def test_other_types_and_classes_have_their_own_dates(session: Session) -> None:
    made = fees.set_schedule(
        session,
        SYSTEM,
        [
            rule(date(2026, 1, 1)),
            rule(date(2026, 3, 1), merchant_class=MerchantClass.preferential),
            rule(date(2026, 2, 1), txn_type=FeeType.card_payment),
        ],
    )
    assert len(made) == 3


def test_only_an_admin_sets_fees(session: Session) -> None:
    ops = Actor(username="ops", role=Role.branch_ops)
    with pytest.raises(Forbidden):
        fees.set_schedule(session, ops, [rule(date(2026, 1, 1))])


def test_a_merchant_is_standard_until_classed(session: Session) -> None:
    factories.branch(session, "LY", level="city")
    merchant = factories.merchant(session, "M1", "LY")
    assert merchant.id is not None
    assert fees.merchant_class(session, merchant.id) is MerchantClass.standard
    fees.set_merchant_class(session, SYSTEM, "M1", MerchantClass.preferential)
    assert fees.merchant_class(session, merchant.id) is MerchantClass.preferential
    fees.set_merchant_class(session, SYSTEM, "M1", MerchantClass.non_profit)
    assert fees.merchant_class(session, merchant.id) is MerchantClass.non_profit
    with pytest.raises(NotFound):
        fees.set_merchant_class(session, SYSTEM, "NOPE", MerchantClass.standard)


def test_a_refusal_names_the_rows_in_the_readers_words(session: Session) -> None:
    from fleet.core.i18n import texts_for

    gap = [rule(date(2026, 1, 1), date(2026, 5, 1)), rule(date(2026, 6, 1))]
    with pytest.raises(Invalid) as refused:
        fees.set_schedule(session, SYSTEM, gap)
    assert texts_for("zh").error(refused.value) == (
        "费率的生效期间有空档：第 1 行（转账，标准类商户，2026-01-01 起）"
        " 与 第 2 行（转账，标准类商户，2026-06-01 起）"
    )
    assert texts_for("en").error(refused.value) == (
        "fee dates leave a gap: rows 1 (transfer/standard merchant 2026-01-01)"
        " / 2 (transfer/standard merchant 2026-06-01)"
    )
