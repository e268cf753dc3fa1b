"""The fee schedule (versioned by effective date) and merchants' fee classes.

The schedule is set as a whole: for each transaction type and merchant class its versions
must follow one another without a gap or an overlap, the last one open-ended; a refusal
lists the offending rows and changes nothing. Ingest prices each transaction by the version
in force on its day (fleet/feeds/revenue.py); `rebuild` prices stored ones again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from itertools import pairwise

from sqlalchemy import delete
from sqlmodel import Session, col, select

from fleet.core import audit
from fleet.core.access import Actor, Permission
from fleet.core.config import get_settings
from fleet.core.errors import Invalid, Listed, Reason
from fleet.feeds import revenue
from fleet.inventory import service as inventory
from fleet.pay.models import FeeRule, FeeRuleIn, FeeType, MerchantClass, MerchantFeeClass

AMOUNTS = (
    "rate_ppm",
    "fixed_fen",
    "min_fen",
    "cap_fen",
    "network_ppm",
    "network_cap_fen",
    "issuer_ppm",
    "issuer_cap_fen",
)
# A rate above 100% of the amount is a typing error, not a fee.
MAX_PPM = 1_000_000


def schedule(session: Session) -> list[FeeRule]:
    """Every version of every fee, by type, class and date."""
    return list(
        session.exec(
            select(FeeRule).order_by(
                col(FeeRule.txn_type), col(FeeRule.merchant_class), col(FeeRule.effective_from)
            )
        )
    )


def _row_name(number: int, rule: FeeRuleIn) -> Reason:
    """A row of the schedule as a refusal names it, said in the reader's language (the
    type and class in words on a Chinese page, "1 (transfer/standard 2026-01-01)" in
    English)."""
    return Reason(
        "{n} ({txn_type}/{merchant_class} {day})",
        n=number,
        txn_type=rule.txn_type,
        merchant_class=rule.merchant_class,
        day=rule.effective_from.isoformat(),
    )


def _pair(a: Reason, b: Reason) -> Reason:
    return Reason("{first} / {second}", first=a, second=b)


def check_schedule(rules: list[FeeRuleIn]) -> None:
    """Refuses negative amounts, a minimum above the cap, and gaps or overlaps in dates."""
    negative = [
        _row_name(n, r)
        for n, r in enumerate(rules, 1)
        if any((getattr(r, f) or 0) < 0 for f in AMOUNTS)
    ]
    if negative:
        raise Invalid("fees cannot be negative: rows {rows}", rows=Listed(negative))
    too_high = [
        _row_name(n, r)
        for n, r in enumerate(rules, 1)
        if max(r.rate_ppm, r.network_ppm, r.issuer_ppm) > MAX_PPM
    ]
    if too_high:
        raise Invalid(
            "a rate above 1,000,000 ppm (100%) is not a fee: rows {rows}", rows=Listed(too_high)
        )
    inverted = [
        _row_name(n, r)
        for n, r in enumerate(rules, 1)
        if (r.cap_fen is not None and r.min_fen > r.cap_fen)
        or (r.effective_to is not None and r.effective_to <= r.effective_from)
    ]
    if inverted:
        raise Invalid(
            "a minimum above its cap, or an end not after its start: rows {rows}",
            rows=Listed(inverted),
        )
    by_key: dict[tuple[FeeType, MerchantClass], list[tuple[int, FeeRuleIn]]] = defaultdict(list)
    for number, rule in enumerate(rules, 1):
        by_key[(rule.txn_type, rule.merchant_class)].append((number, rule))
    gaps: list[Reason] = []
    overlaps: list[Reason] = []
    for versions in by_key.values():
        versions.sort(key=lambda v: v[1].effective_from)
        for (n_a, a), (n_b, b) in pairwise(versions):
            if a.effective_to is None or a.effective_to > b.effective_from:
                overlaps.append(_pair(_row_name(n_a, a), _row_name(n_b, b)))
            elif a.effective_to < b.effective_from:
                gaps.append(_pair(_row_name(n_a, a), _row_name(n_b, b)))
    if overlaps:
        raise Invalid("fee dates overlap: rows {rows}", rows=Listed(overlaps))
    if gaps:
        raise Invalid("fee dates leave a gap: rows {rows}", rows=Listed(gaps))


def set_schedule(session: Session, actor: Actor, rules: list[FeeRuleIn]) -> list[FeeRule]:
    """Replaces the whole schedule with `rules` once they pass `check_schedule`."""
    actor.require(Permission.write_fees)
    check_schedule(rules)
    before = len(schedule(session))
    session.execute(delete(FeeRule))
    made = [FeeRule(**r.model_dump(), created_by=actor.username) for r in rules]
    session.add_all(made)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set_fee_schedule",
        entity="fee_rule",
        entity_id="*",
        changes={"rows": [before, len(made)]},
    )
    return schedule(session)


def example_schedule(start: date) -> list[FeeRuleIn]:
    """示例费率: example values from China's card-fee rules, for the demo and a first set-up.

    Card payments: the debit issuer's guided 0.35% (capped at 13 yuan) as the merchant fee,
    cut to 90% for standard and 78% for preferential merchants (银发〔2021〕169号), waived for
    non-profits; the network's 0.0325% capped at 3.25 yuan. Transfers: a fixed 2 yuan plus
    0.05%, capped at 50 yuan (the bank's own price, not found in public sources). Bill
    payments: a fixed 1 yuan.
    """
    card = {
        MerchantClass.standard: (3150, 1170),
        MerchantClass.preferential: (2730, 1014),
        MerchantClass.non_profit: (0, 0),
    }
    rules: list[FeeRuleIn] = []
    for merchant_class, (rate, cap) in card.items():
        rules.append(
            FeeRuleIn(
                txn_type=FeeType.card_payment,
                merchant_class=merchant_class,
                effective_from=start,
                rate_ppm=rate,
                cap_fen=cap,
                network_ppm=325 if rate else 0,
                network_cap_fen=325,
                issuer_ppm=3500,
                issuer_cap_fen=1300,
                example=True,
            )
        )
        free = merchant_class is MerchantClass.non_profit
        rules.append(
            FeeRuleIn(
                txn_type=FeeType.transfer,
                merchant_class=merchant_class,
                effective_from=start,
                rate_ppm=0 if free else 500,
                fixed_fen=0 if free else 200,
                cap_fen=0 if free else 5000,
                example=True,
            )
        )
        rules.append(
            FeeRuleIn(
                txn_type=FeeType.bill_payment,
                merchant_class=merchant_class,
                effective_from=start,
                fixed_fen=0 if free else 100,
                example=True,
            )
        )
    return rules


def set_merchant_class(
    session: Session, actor: Actor, merchant_code: str, merchant_class: MerchantClass
) -> MerchantFeeClass:
    """Sets one merchant's fee class (a merchant without one is standard)."""
    actor.require(Permission.write_fees)
    merchant = inventory.merchant_by_code(session, actor, merchant_code)
    assert merchant.id is not None
    row = session.get(MerchantFeeClass, merchant.id)
    old = row.merchant_class if row else MerchantClass.standard
    if row is None:
        row = MerchantFeeClass(merchant_id=merchant.id, merchant_class=merchant_class)
    row.merchant_class = merchant_class
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="set_fee_class",
        entity="merchant",
        entity_id=merchant.id,
        branch_id=merchant.branch_id,
        changes={"merchant_class": [old, merchant_class]},
    )
    return row


def merchant_class(session: Session, merchant_id: int) -> MerchantClass:
    row = session.get(MerchantFeeClass, merchant_id)
    return row.merchant_class if row else MerchantClass.standard


def rebuild(
    session: Session, actor: Actor, *, since: date | None = None, until: date | None = None
) -> int:
    """Prices the stored transactions of [since, until) again by the current schedule and
    classes (after a change of either); returns how many were priced. A fee the feed carried
    is not stored per transaction, so this replaces it by the schedule's."""
    actor.require(Permission.write_fees)
    session.flush()
    counted = revenue.rebuild(
        session.connection(), get_settings().financial_types, since=since, until=until
    )
    audit.record(
        session,
        actor=actor,
        action="rebuild_revenue",
        entity="terminal_day",
        entity_id="*",
        changes={
            "since": since and since.isoformat(),
            "until": until and until.isoformat(),
            "priced": counted,
        },
    )
    return counted
