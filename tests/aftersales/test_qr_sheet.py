"""`fleet service qr-sheet`: a printable sheet of QR stickers whose codes open the units'
report pages; a unit keeps its code across sheets; bad input is one line, nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import col, select

from fleet.aftersales import qrsheet
from fleet.aftersales.models import QrCode
from fleet.core.db import session_scope
from tests.aftersales.conftest import World
from tests.aftersales.test_cli import run
from tests.terminal import EN


def test_the_sheet_encodes_each_unit_report_page(
    world: World, tmp_path: Path, client: TestClient
) -> None:
    out = tmp_path / "stickers.html"
    code, printed, err = run(
        "service", "qr-sheet", "--branch", "A", "--units", "10", "--out", str(out), "--json"
    )
    assert (code, err) == (0, ""), err
    rows = json.loads(printed)
    # Only units at merchants get a sticker (SPA1 is a spare in stock).
    assert [r["sn"] for r in rows] == ["SNA1"]
    sheet = out.read_text(encoding="utf-8")
    assert sheet.count("<svg") == 1 and 'data-sn="SNA1"' in sheet
    assert "扫码报修" in sheet and "商户CA1" in sheet
    url = rows[0]["url"]
    token = url.rsplit("/", 1)[1]
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", token)
    # The sticker's code is exactly the QR of that URL, and the URL opens the shop's page.
    assert qrsheet.svg_of(url) in sheet
    assert client.get(f"/qr/{token}").status_code == 200
    # A second sheet keeps the unit's code (the printed sticker still works).
    code, printed, _ = run("service", "qr-sheet", "--branch", "A1", "--out", str(out), "--json")
    assert code == 0 and json.loads(printed)[0]["url"] == url
    with session_scope(world.engine) as session:
        live = session.execute(select(QrCode).where(col(QrCode.revoked_at).is_(None))).all()
        assert len(live) == 1


def test_bad_input_is_one_line(world: World, tmp_path: Path) -> None:
    code, _, err = run(
        "service", "qr-sheet", "--branch", "A", "--out", str(tmp_path / "x.pdf"), env=EN
    )
    assert code == 1 and err.startswith("error: --out") and err.count("\n") == 1
    code, _, err = run("service", "qr-sheet", "--branch", "NOPE", "--out", str(tmp_path / "x.html"))
    assert code == 1 and "NOPE" in err
    assert not (tmp_path / "x.html").exists()


def test_the_demo_writes_its_sticker_sheet(world: World, tmp_path: Path) -> None:
    from fleet.aftersales.demo_stickers import write_demo_stickers
    from fleet.core.access import Role
    from tests import factories

    out = tmp_path / "demo" / "qr-stickers.html"
    assert str(write_demo_stickers(world.engine, out=out)).startswith("no QR stickers")
    with session_scope(world.engine) as session:
        factories.user(session, "ops_lanshan", Role.branch_ops, "A")
    said = str(write_demo_stickers(world.engine, out=out))
    assert said.startswith("1 QR stickers for ") and out.exists()
    assert out.read_text(encoding="utf-8").count("<svg") == 1
