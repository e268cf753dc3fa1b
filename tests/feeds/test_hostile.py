"""Hostile feed lines: control characters, and lines for units outside the uploader's branches."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.core.access import Actor, Role
from fleet.core.db import session_scope
from fleet.core.words import REJECT_REASON
from fleet.feeds import service
from fleet.feeds.models import RejectedRow, TerminalDay, Txn
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import DEPLOYED, HEADER, line, rejects, small_fleet, write_feed
from tests.web.conftest import sign_in


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
    nested = '{"txn_ref": ' + "[" * 30_000  # deeper than the JSON parser goes
    ndjson.write_text("\n".join([*(json.dumps(r) for r in records), nested]) + "\n")
    report = service.ingest_file(ndjson, actor=SYSTEM)
    assert (report.accepted, report.rejected) == (2, 2)
    assert rejects(session, report.run_id or 0) == [(2, "control_character"), (4, "malformed_line")]


def two_branches(session: Session) -> None:
    """兰山 (LS) and 河东 (HD) under one city branch, a deployed unit each, and their ops."""
    factories.branch(session, "CITY", level="city")
    for code in ("LS", "HD"):
        factories.branch(session, code, parent="CITY", level="county")
        factories.merchant(session, f"M{code}", code)
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(
                sn=f"T{code}", branch_code=code, merchant_code=f"M{code}", deployed_at=DEPLOYED
            ),
        )
        factories.user(session, f"ops_{code.lower()}", Role.branch_ops, code)
    session.commit()


def ops_of_ls(session: Session) -> Actor:
    return auth.actor_for(session, auth.user_by_username(session, SYSTEM, "ops_ls"))


def test_an_upload_touches_only_the_uploaders_units(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        two_branches(session)
    feed = write_feed(
        tmp_path / "day.csv",
        [
            line("L1", sn="TLS", merchant="MLS"),
            line("H1", sn="THD", merchant="MHD"),  # another branch's unit
            line("N1", sn="TXX", merchant="MXX"),  # no such unit
        ],
    )
    with feed.open("rb") as handle:
        sent = client.post(
            "/api/v1/ingests",
            files={"file": ("day.csv", handle)},
            headers=sign_in(client, "ops_ls"),
        )
    assert sent.status_code == 200, sent.text
    assert (sent.json()["accepted"], sent.json()["rejected"]) == (1, 2)
    with session_scope(engine) as session:
        refused = session.execute(
            select(RejectedRow.line_no, RejectedRow.reason, RejectedRow.detail).order_by(
                col(RejectedRow.line_no)
            )
        ).all()
        # The same reason, and a detail of the same form, as for a unit that does not exist.
        assert [(n, r.value, d) for n, r, d in refused] == [
            (3, "unknown_terminal", "no terminal THD"),
            (4, "unknown_terminal", "no terminal TXX"),
        ]
        assert session.execute(select(Txn.txn_ref)).scalars().all() == ["L1"]
        days = session.execute(select(TerminalDay.terminal_id)).scalars().all()
        assert len(days) == 1


def test_a_planted_reference_neither_takes_nor_reveals_another_branchs_line(
    session: Session, tmp_path: Path
) -> None:
    two_branches(session)
    ops = ops_of_ls(session)
    # An admin (or the nightly pull) has already taken 河东's line X1.
    service.ingest_file(
        write_feed(tmp_path / "x.csv", [line("X1", "THD", merchant="MHD")]), actor=SYSTEM
    )
    # 兰山's ops send X1 and G1 on their own unit: both new to them; X1 is not a duplicate.
    planted = [line("X1", "TLS", merchant="MLS"), line("G1", "TLS", merchant="MLS")]
    report = service.ingest_file(write_feed(tmp_path / "p.csv", planted), actor=ops)
    assert (report.accepted, report.duplicate, report.rejected) == (2, 0, 0)
    # ... nor on 河东's unit: that one is unknown to them.
    report = service.ingest_file(
        write_feed(tmp_path / "q.csv", [line("X1", "THD", merchant="MHD")]), actor=ops
    )
    assert (report.accepted, report.duplicate, report.rejected) == (0, 0, 1)
    # 河东's genuine G1, taken later from the bank's feed, still counts.
    report = service.ingest_file(
        write_feed(tmp_path / "g.csv", [line("G1", "THD", merchant="MHD")]), actor=SYSTEM
    )
    assert (report.accepted, report.duplicate) == (1, 0)
    session.expire_all()
    by_unit = session.execute(
        select(TerminalDay.terminal_id, TerminalDay.txn_count).order_by(
            col(TerminalDay.terminal_id)
        )
    ).all()
    assert [count for _, count in by_unit] == [2, 2]
