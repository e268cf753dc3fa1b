"""Revenue at ingest: fees by the schedule in force on each transaction's day, per merchant
class, rolled up per terminal, day and type; duplicates and re-runs count once; the rebuild
from stored transactions agrees with ingest."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from fleet.feeds import service
from fleet.feeds.models import TerminalDay
from fleet.inventory.models import Terminal
from fleet.pay import fees
from fleet.pay.models import FeeRuleIn, FeeType, MerchantClass
from tests.factories import SYSTEM
from tests.feeds.util import line, rejects, small_fleet, write_feed

STD, PREF = MerchantClass.standard, MerchantClass.preferential
CARD, TRANSFER = FeeType.card_payment, FeeType.transfer


def schedule() -> list[FeeRuleIn]:
    """Transfers: 2 yuan + 0.05% (cap 50 yuan) until 15 May, then a flat 3 yuan. Card
    payments: 0.315% capped at 11.70 yuan (preferential 0.273%, cap 10.14), the network's
    0.0325% capped at 3.25 yuan."""
    return [
        FeeRuleIn(
            txn_type=TRANSFER,
            merchant_class=STD,
            effective_from=date(2026, 5, 1),
            effective_to=date(2026, 5, 15),
            fixed_fen=200,
            rate_ppm=500,
            cap_fen=5000,
        ),
        FeeRuleIn(
            txn_type=TRANSFER, merchant_class=STD, effective_from=date(2026, 5, 15), fixed_fen=300
        ),
        FeeRuleIn(
            txn_type=CARD,
            merchant_class=STD,
            effective_from=date(2026, 1, 1),
            rate_ppm=3150,
            cap_fen=1170,
            network_ppm=325,
            network_cap_fen=325,
        ),
        FeeRuleIn(
            txn_type=CARD,
            merchant_class=PREF,
            effective_from=date(2026, 1, 1),
            rate_ppm=2730,
            cap_fen=1014,
            network_ppm=325,
            network_cap_fen=325,
        ),
    ]


FEED = [
    line("R1", "T1", "2026-05-01T10:00:00", "100.00"),
    line("R2", "T1", "2026-05-01T11:00:00", "1000.00", kind="card_payment"),
    line("R3", "T1", "2026-05-01T12:00:00", "10000.00", kind="card_payment"),
    line("R4", "T1", "2026-05-20T10:00:00", "100.00"),
    line("R5", "T1", "2026-05-01T13:00:00", "100.00", status="failed"),
    line("R6", "T1", "2026-05-01T14:00:00", "1.00", kind="balance_inquiry"),
    line("R7", "T2", "2026-05-01T10:00:00", "1000.00", kind="card_payment", merchant="M2"),
    line("R8", "T3", "2026-04-20T10:00:00", "100.00", merchant="M3"),
]
# (sn, day, type): (count, amount, fee, the day's net), worked by hand from schedule().
NET_T1_MAY1 = 282 + 845 + 205
EXPECTED = {
    # 0.315% of 1,000 = 3.15; of 10,000 = 31.50, capped at 11.70. Network: 0.325 → 0.33
    # (half up) and 3.25 (its cap).
    ("T1", date(2026, 5, 1), "card_payment"): (2, 1_100_000, 315 + 1170, NET_T1_MAY1),
    # 2 yuan + 0.05% of 100 yuan = 2.05
    ("T1", date(2026, 5, 1), "transfer"): (1, 10_000, 205, NET_T1_MAY1),
    # The schedule changed on 15 May: a flat 3 yuan.
    ("T1", date(2026, 5, 20), "transfer"): (1, 10_000, 300, 300),
    # M2 is preferential: 0.273% of 1,000 = 2.73, network 0.33.
    ("T2", date(2026, 5, 1), "card_payment"): (1, 100_000, 273, 240),
    # Before any transfer fee was in force: counted, earns nothing.
    ("T3", date(2026, 4, 20), "transfer"): (1, 10_000, 0, 0),
}


def revenue(session: Session) -> dict[tuple[str, date, str], tuple[int, int, int, int]]:
    """(sn, day, type) → (count, amount, fee, the day's net) from terminal_day's revenue."""
    session.expire_all()
    found = {}
    days = session.exec(
        select(Terminal.sn, TerminalDay).join(Terminal, col(Terminal.id) == TerminalDay.terminal_id)
    ).all()
    for sn, day in days:
        for kind in ("transfer", "card_payment", "bill_payment"):
            count = getattr(day, f"{kind}_count")
            if count:
                found[(sn, day.day, kind)] = (
                    count,
                    getattr(day, f"{kind}_fen"),
                    getattr(day, f"{kind}_fee_fen"),
                    day.net_fen,
                )
    return found


def priced_world(session: Session) -> None:
    small_fleet(session)
    fees.set_schedule(session, SYSTEM, schedule())
    fees.set_merchant_class(session, SYSTEM, "M2", PREF)
    session.commit()


def test_ingest_prices_each_transaction_by_the_fee_in_force_on_its_day(
    session: Session, tmp_path: Path
) -> None:
    priced_world(session)
    report = service.ingest_file(write_feed(tmp_path / "feed.csv", FEED), actor=SYSTEM)
    assert report.accepted == 8
    assert revenue(session) == EXPECTED


def test_duplicates_and_reruns_count_once(session: Session, tmp_path: Path) -> None:
    priced_world(session)
    feed = write_feed(tmp_path / "feed.csv", FEED)
    service.ingest_file(feed, actor=SYSTEM)
    again = service.ingest_file(feed, actor=SYSTEM)
    assert again.duplicate == 8
    assert revenue(session) == EXPECTED
    # A feed partly seen before, with one new line sent twice: only the new one counts.
    more = [FEED[0], line("R9", "T1", "2026-05-20T11:00:00", "50.00"), FEED[1]]
    more.append(more[1])
    report = service.ingest_file(write_feed(tmp_path / "more.csv", more), actor=SYSTEM)
    assert (report.accepted, report.duplicate) == (1, 3)
    expected = dict(EXPECTED)
    expected[("T1", date(2026, 5, 20), "transfer")] = (2, 15_000, 600, 600)
    assert revenue(session) == expected


def test_the_rebuild_agrees_with_ingest_and_follows_a_new_schedule(
    session: Session, tmp_path: Path
) -> None:
    priced_world(session)
    service.ingest_file(write_feed(tmp_path / "feed.csv", FEED), actor=SYSTEM)
    assert fees.rebuild(session, SYSTEM) == 6
    assert revenue(session) == EXPECTED
    # Transfers free from 1 May (a campaign): re-pricing May changes only May's transfers.
    cheaper = [r for r in schedule() if r.txn_type is not TRANSFER]
    cheaper.append(
        FeeRuleIn(txn_type=TRANSFER, merchant_class=STD, effective_from=date(2026, 4, 1))
    )
    fees.set_schedule(session, SYSTEM, cheaper)
    assert fees.rebuild(session, SYSTEM, since=date(2026, 5, 1), until=date(2026, 6, 1)) == 5
    expected = dict(EXPECTED)
    expected[("T1", date(2026, 5, 1), "transfer")] = (1, 10_000, 0, 282 + 845)
    expected[("T1", date(2026, 5, 1), "card_payment")] = (2, 1_100_000, 1485, 282 + 845)
    expected[("T1", date(2026, 5, 20), "transfer")] = (1, 10_000, 0, 0)
    assert revenue(session) == expected


def test_without_a_schedule_transactions_are_counted_and_earn_nothing(
    session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    service.ingest_file(write_feed(tmp_path / "feed.csv", FEED), actor=SYSTEM)
    assert revenue(session) == {key: (*value[:2], 0, 0) for key, value in EXPECTED.items()}


def test_a_fee_in_the_feed_wins_over_the_schedule(session: Session, tmp_path: Path) -> None:
    priced_world(session)
    header = "txn_ref,terminal_sn,occurred_at,amount,txn_type,status,merchant_code,手续费"
    feed = write_feed(
        tmp_path / "fees.csv",
        [
            line("F1", at="2026-05-02T10:00:00") + ",1.50",  # the feed's 1.50, not 2.05
            line("F2", at="2026-05-02T11:00:00") + ",",  # none given: the schedule's 2.05
            line("F3", at="2026-05-02T12:00:00", kind="card_payment", amount="1000") + ",0",
            line("F4", at="2026-05-02T13:00:00") + ",-1.00",
            line("F5", at="2026-05-02T14:00:00") + ",abc",
        ],
        header=header,
    )
    report = service.ingest_file(feed, actor=SYSTEM)
    assert (report.accepted, report.rejected) == (3, 2)
    assert rejects(session, report.run_id) == [(5, "bad_amount"), (6, "bad_amount")]
    # The card payment's fee was waived (0): the network takes nothing of nothing.
    assert revenue(session) == {
        ("T1", date(2026, 5, 2), "card_payment"): (1, 100_000, 0, 150 + 205),
        ("T1", date(2026, 5, 2), "transfer"): (2, 20_000, 150 + 205, 150 + 205),
    }


def test_huge_amounts_are_priced_without_overflow() -> None:
    import polars as pl

    from fleet.feeds.revenue import RULE_SCHEMA, FeeBook, with_fees

    rule = {k: None for k in RULE_SCHEMA} | {
        "txn_type": "transfer",
        "merchant_class": "standard",
        "effective_from": date(2026, 1, 1),
        "rate_ppm": 1_000_000,
        "fixed_fen": 0,
        "min_fen": 0,
        "network_ppm": 500_000,
    }
    book = FeeBook(
        pl.DataFrame([rule], schema=RULE_SCHEMA),
        pl.DataFrame(schema={"terminal_id": pl.Int64, "merchant_class": pl.String}),
    )
    # 10^15 yuan, the most a feed may say: 10^17 fen, times a million ppm, needs 128 bits.
    rows = pl.DataFrame(
        {
            "terminal_id": [1, 1],
            "day": [date(2026, 5, 1), date(2025, 5, 1)],
            "txn_type": ["transfer", "transfer"],
            "amount_fen": [10**17, 10**17],
            "status": ["success", "success"],
        }
    )
    priced = with_fees(rows, book, ("transfer",))
    assert priced.get_column("fee_fen").to_list() == [10**17, 0]
    assert priced.get_column("net_fen").to_list() == [10**17 // 2, 0]
