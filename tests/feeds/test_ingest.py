"""Feeds from files: exact counts, every kind of bad line, overlaps, encodings, mappings."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.core.errors import Forbidden, Invalid
from fleet.feeds import service
from fleet.feeds.models import IngestRun, RunStatus, TerminalDay, Txn
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from tests.factories import SYSTEM
from tests.feeds.util import line, rejects, small_fleet, stored, write_feed


def ingest(path: Path, **options: object) -> service.IngestReport:
    return service.ingest_file(path, actor=SYSTEM, **options)  # type: ignore[arg-type]


def test_a_clean_feed_is_taken_whole(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            line("R1", "T1", "2026-05-01T10:00:00", "100.00"),
            line("R2", "T1", "2026-05-01 23:30:00", "0.5", kind="card_payment"),
            line("R3", "T2", "2026-05-01T16:30:00Z", "12", kind="bill_payment"),
            line("R4", "T2", "2026-05-02T10:00:00+08:00", "88.88", kind="balance_inquiry"),
            line("R5", "T3", "2026-05-02T10:00:00", "20.00", status="failed"),
        ],
    )
    report = ingest(feed)
    assert report.counts() == {
        "received": 5,
        "accepted": 5,
        "duplicate": 0,
        "rejected": 0,
        "rejects_path": None,
    }
    amounts = dict(session.execute(select(Txn.txn_ref, Txn.amount_fen)).all())
    assert amounts == {"R1": 10000, "R2": 50, "R3": 1200, "R4": 8888, "R5": 2000}
    # R3 at 16:30 UTC is 00:30 on 2 May in Beijing: days are local.
    assert stored(session)["days"] == [
        (1, date(2026, 5, 1), 2, 10050, 0),
        (2, date(2026, 5, 2), 1, 1200, 1),
        (3, date(2026, 5, 2), 0, 0, 1),
    ]
    run = session.get(IngestRun, report.run_id)
    assert run is not None
    assert (run.status, run.received, run.accepted, run.format) == (
        RunStatus.succeeded,
        5,
        5,
        "csv",
    )
    assert run.sha256 == report.sha256 and len(run.sha256 or "") == 64


def test_every_kind_of_bad_line_is_kept_with_its_reason(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    future = (date.today() + timedelta(days=2)).isoformat() + "T10:00:00"
    lines = [
        line("OK1"),  # 2
        "R2,T1,2026-05-01T10:00:00,100.00,transfer",  # 3 malformed
        line("R3", sn=""),  # 4 missing field
        line("R4", at="yesterday"),  # 5 bad timestamp
        line("R5", at=future),  # 6 future
        line("R6", amount="1x5"),  # 7 bad amount
        line("R7", amount="0.00"),  # 8 non-positive
        line("R8", amount="-5"),  # 9 non-positive
        line("R9", kind="refund"),  # 10 unknown type
        line("R10", status="pending"),  # 11 unknown status
        line("R11", sn="T404"),  # 12 unknown terminal
        line("R12", sn="T0"),  # 13 in stock: not deployed
        line("R13", at="2026-02-28T23:59:59"),  # 14 before deployment
        "",  # 15 blank: not a record
        '"R14","T1","2026-05-01T10:00:00","1,000.00",transfer,success,M1',  # 16 quoted, bad amount
        '"R15","T2","2026-05-01T10:00:00","99.90",transfer,success,"M2"',  # 17 quoted, fine
        line("R16", amount="1.234"),  # 18 three decimals
    ]
    feed = tmp_path / "feed.csv"
    body = "\n".join([service_header(), *lines]).encode() + b"\n"
    body += b"R17,T1,2026-05-01T10:00:00,5.00,transfer,success,M\xff1\n"  # 19 bad encoding
    feed.write_bytes(body)
    report = ingest(feed, rejects_path=tmp_path / "rejects.csv")
    assert (report.received, report.accepted, report.duplicate, report.rejected) == (17, 2, 0, 15)
    assert rejects(session, report.run_id or 0) == [
        (3, "malformed_line"),
        (4, "missing_field"),
        (5, "bad_timestamp"),
        (6, "future_timestamp"),
        (7, "bad_amount"),
        (8, "non_positive_amount"),
        (9, "non_positive_amount"),
        (10, "unknown_type"),
        (11, "unknown_status"),
        (12, "unknown_terminal"),
        (13, "not_deployed"),
        (14, "not_deployed"),
        (16, "bad_amount"),
        (18, "bad_amount"),
        (19, "bad_encoding"),
    ]
    written = (tmp_path / "rejects.csv").read_text(encoding="utf-8-sig").splitlines()
    assert written[0] == "line,reason,detail,raw"
    assert (
        written[1] == "3,malformed_line,wrong number of fields or not JSON,"
        '"R2,T1,2026-05-01T10:00:00,100.00,transfer"'
    )
    assert len(written) == 16


def service_header() -> str:
    from tests.feeds.util import HEADER

    return HEADER


def test_overlapping_files_and_reruns_count_duplicates(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    refs = [
        line(
            f"R{n}",
            sn=f"T{1 + n % 3}",
            merchant=f"M{1 + n % 3}",
            at=f"2026-05-{1 + n % 20:02d}T10:00:00",
            amount=f"{n}.00",
        )
        for n in range(1, 151)
    ]
    first = ingest(write_feed(tmp_path / "a.csv", refs[:100]))
    second = ingest(write_feed(tmp_path / "b.csv", refs[49:]))
    assert (first.accepted, first.duplicate) == (100, 0)
    assert (second.received, second.accepted, second.duplicate) == (101, 50, 51)
    after_two = stored(session)
    rerun = ingest(tmp_path / "b.csv")
    assert (rerun.accepted, rerun.duplicate, rerun.rejected) == (0, 101, 0)
    assert stored(session) == after_two

    # One clean run of the union leaves exactly the same rollups.
    session.execute(Txn.__table__.delete())  # type: ignore[attr-defined]
    session.execute(TerminalDay.__table__.delete())  # type: ignore[attr-defined]
    session.commit()
    once = ingest(write_feed(tmp_path / "all.csv", refs))
    assert once.accepted == 150
    assert stored(session) == after_two


def test_duplicates_inside_one_file(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    report = ingest(
        write_feed(tmp_path / "f.csv", [line("R1"), line("R2"), line("R1", amount="9")])
    )
    assert (report.received, report.accepted, report.duplicate) == (3, 2, 1)
    assert stored(session)["days"] == [(1, date(2026, 5, 1), 2, 20000, 0)]


def test_exactly_once_and_exact_amounts_across_many_rows_per_statement(
    session: Session, tmp_path: Path
) -> None:
    """SQLite inserts carry 100 rows per statement: a duplicate inside one statement, rows left
    over after the last full one, amounts with 0, 1 or 2 decimals, all exact."""
    small_fleet(session)
    amounts = ["7", "7.5", "7.05", "+7.50", "0.01"]  # 700, 750, 705, 750 and 1 fen
    lines = [line(f"D{n % 120}", amount=amounts[n % 5]) for n in range(250)]
    lines.append(line("BIG", amount="1234567890123456"))  # 16 digits of yuan: not an amount
    report = ingest(write_feed(tmp_path / "many.csv", lines))
    assert (report.received, report.accepted, report.duplicate, report.rejected) == (
        251,
        120,
        130,
        1,
    )
    assert rejects(session, report.run_id or 0) == [(252, "bad_amount")]
    total = 24 * (700 + 750 + 705 + 750 + 1)  # the first 120 lines, five amounts at a time
    assert session.execute(select(func.sum(Txn.amount_fen))).scalar_one() == total
    assert stored(session)["days"] == [(1, date(2026, 5, 1), 120, total, 0)]


def test_gbk_file_with_chinese_headers_and_codes(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    feed = write_feed(
        tmp_path / "交易.csv",
        [
            "G1,T1,2026-05-01 10:00:00,50.00,转账,成功,M1",
            "G2,T2,2026-05-01 11:00:00,60.00,刷卡消费,失败,M2",
            "G3,T3,2026-05-01 12:00:00,0.01,余额查询,成功,M3",
        ],
        header="交易流水号,终端号,交易时间,交易金额,交易类型,交易状态,商户编号",
        encoding="gbk",
    )
    report = ingest(feed)
    assert (report.accepted, report.rejected) == (3, 0)
    run = session.get(IngestRun, report.run_id)
    assert run is not None and run.encoding == "gb18030"
    kinds = dict(session.execute(select(Txn.txn_ref, Txn.txn_type)).all())
    assert kinds == {"G1": "transfer", "G2": "card_payment", "G3": "balance_inquiry"}


def test_a_banks_own_columns_and_codes_through_a_mapping(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    mapping = tmp_path / "bank.json"
    mapping.write_text(
        json.dumps(
            {
                "columns": {
                    "LSH": "txn_ref",
                    "ZDH": "terminal_sn",
                    "JYSJ": "occurred_at",
                    "JE": "amount",
                    "JYLX": "txn_type",
                    "ZT": "status",
                },
                "values": {
                    "txn_type": {"01": "transfer", "02": "card_payment"},
                    "status": {"00": "success", "99": "failed"},
                },
                "timestamp_format": "%Y%m%d%H%M%S",
                "delimiter": "|",
            }
        )
    )
    feed = write_feed(
        tmp_path / "bank.txt",
        [
            "B1|T1|20260501100000|10.00|01|00|6222021234567890128",
            "B2|T2|20260501100000|10.00|07|00|6222021234567890128",
        ],
        header="LSH|ZDH|JYSJ|JE|JYLX|ZT|KH",
    )
    report = ingest(feed, mapping_path=mapping)
    assert (report.accepted, report.rejected) == (1, 1)
    assert rejects(session, report.run_id or 0) == [(3, "unknown_type")]
    from fleet.feeds.models import RejectedRow

    raw = session.execute(select(RejectedRow.raw)).scalar_one()
    assert "6222021234567890128" not in raw  # a card number in a column we do not keep
    assert raw.startswith("B2|T2|20260501100000|10.00|07|00|622202******0128")


def test_ndjson_gzipped(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    items = [
        {
            "txn_ref": "J1",
            "terminal_sn": "T1",
            "occurred_at": "2026-05-01T10:00:00",
            "amount": 12.5,
            "txn_type": "transfer",
            "status": "success",
        },
        {"txn_ref": "J2", "terminal_sn": "T1"},
    ]
    feed = tmp_path / "feed.ndjson.gz"
    feed.write_bytes(
        gzip.compress(("\n".join(json.dumps(i) for i in items) + "\n{oops\n").encode())
    )
    report = ingest(feed)
    assert (report.received, report.accepted, report.rejected) == (3, 1, 2)
    assert rejects(session, report.run_id or 0) == [(2, "missing_field"), (3, "malformed_line")]
    assert session.execute(select(Txn.amount_fen)).scalar_one() == 1250


def test_a_recovered_units_later_transactions_are_refused(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    unit = inventory.terminal_by_sn(session, SYSTEM, "T1")
    for state in (
        TerminalState.recovery_requested,
        TerminalState.recovery_approved,
        TerminalState.recovered,
    ):
        lifecycle.transition(session, SYSTEM, unit, state)
    session.commit()
    after_recovery = (datetime.now(UTC) + timedelta(minutes=1)).isoformat(timespec="seconds")
    report = ingest(
        write_feed(
            tmp_path / "f.csv",
            [
                line("A1", at="2026-05-01T10:00:00"),
                line("A2", at=after_recovery),
            ],
        )
    )
    assert report.accepted == 1  # while it was deployed
    assert rejects(session, report.run_id or 0) == [(3, "not_deployed")]


def test_unusable_files_are_refused_in_one_line(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    with pytest.raises(Invalid, match="the header lacks amount, txn_type"):
        ingest(write_feed(tmp_path / "h.csv", [], header="txn_ref,terminal_sn,occurred_at,status"))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(Invalid, match="empty"):
        ingest(empty)
    failed = (
        session.execute(select(IngestRun).where(col(IngestRun.status) == RunStatus.failed))
        .scalars()
        .all()
    )
    assert len(failed) == 2 and "header lacks" in (failed[0].error or "")


def test_only_operations_and_admins_ingest(session: Session, tmp_path: Path) -> None:
    from fleet.auth import service as auth
    from fleet.core.access import Role
    from tests import factories

    small_fleet(session)
    field = factories.user(session, "f1", Role.field, "LY")
    with pytest.raises(Forbidden):
        service.ingest_file(
            write_feed(tmp_path / "f.csv", [line("X")]), actor=auth.actor_for(session, field)
        )
