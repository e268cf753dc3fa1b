"""Hostile feed lines: control characters, and lines for units outside the uploader's branches."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session, col, select

from fleet.feeds import service
from fleet.feeds.models import RejectedRow, Txn
from fleet.pages.words import REJECT_REASON
from tests.factories import SYSTEM
from tests.feeds.util import HEADER, line, rejects, small_fleet, write_feed


def test_control_characters_are_a_reason_per_line(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    feed = write_feed(
        tmp_path / "feed.csv",
        [
            line("C1"),  # 2
            line("C2\x00"),  # 3 a NUL in the key
            line("C3", merchant="M\x071"),  # 4 a bell in a field
            line("C4", merchant="M1\t"),  # 5 a tab inside a comma-separated field
            line("C5", amount="5.00\x1b"),  # 6 an escape
            line("C6", sn="T2", merchant="M2") + ",\x00",  # 7 a NUL in an extra column
            line("C7", merchant="M\x851"),  # 8 a C1 control (NEL)
            line("C8", sn="T2", merchant="M2"),  # 9
        ],
    )
    report = service.ingest_file(feed, actor=SYSTEM)
    assert (report.received, report.accepted, report.rejected) == (8, 2, 6)
    assert rejects(session, report.run_id or 0) == [
        (n, "control_character") for n in (3, 4, 5, 6, 7, 8)
    ]
    refs = session.execute(select(Txn.txn_ref).order_by(col(Txn.txn_ref))).scalars().all()
    assert refs == ["C1", "C8"]
    raw = session.execute(select(RejectedRow.raw).where(col(RejectedRow.line_no) == 3)).scalar_one()
    assert raw == line("C2\\x00")  # shown, not stored as a NUL
    assert "control_character" in REJECT_REASON


def test_tabs_separate_the_fields_of_a_tsv_and_json_may_escape_a_nul(
    session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"delimiter": "\t"}))
    tsv = write_feed(
        tmp_path / "feed.tsv",
        [line("S1").replace(",", "\t"), line("S2\x00").replace(",", "\t")],
        header=HEADER.replace(",", "\t"),
    )
    report = service.ingest_file(tsv, actor=SYSTEM, mapping_path=mapping)
    assert (report.accepted, report.rejected) == (1, 1)
    assert rejects(session, report.run_id or 0) == [(3, "control_character")]

    fields = HEADER.split(",")
    records = [
        dict(zip(fields, line(ref).split(","), strict=True)) for ref in ("J1", "J2\x00", "J3")
    ]
    ndjson = tmp_path / "feed.ndjson"
    ndjson.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    report = service.ingest_file(ndjson, actor=SYSTEM)
    assert (report.accepted, report.rejected) == (2, 1)
    assert rejects(session, report.run_id or 0) == [(2, "control_character")]
