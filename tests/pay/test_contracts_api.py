"""Contracts through the API and the command line, as operations, staff and payroll use them:
refusals in the client's language with nothing changed, amounts only for roles that see pay,
and the workbook whose lines add up to the settlement's total."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session
from typer.testing import CliRunner

from fleet.cli.main import app
from tests.pay.test_contracts import world
from tests.web.conftest import sign_in

NEW = {
    "name": "二季度承包",
    "members": ["li"],
    "portfolio_kind": "merchants",
    "merchant_codes": ["M2"],
    "period": "2026-06",
    "target_revenue_fen": 10_000,
    "commission_ppm": 100_000,
}
ZH = {"Accept-Language": "zh-CN"}
# The terminal's language, as tests/cli/test_help.py sets it (fleet.cli.common.cli_lang).
ZH_TERMINAL = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
EN_TERMINAL = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def workbook_lines(path: Path, lang: str = "zh") -> tuple[list[float], float]:
    """The commission of each line and the total row of a statement's workbook, whose words
    are all in `lang` (one language, from the catalogue: no "中文 English" pairs)."""
    book = load_workbook(path)
    zh = lang == "zh"
    assert book.sheetnames == (["汇总", "明细"] if zh else ["Summary", "Lines"])
    rows = list(book["明细" if zh else "Lines"].iter_rows(values_only=True))
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[0] == ("类型" if zh else "Kind")
    assert total[0] == ("合计" if zh else "Total")
    kinds = {r[0] for r in body}
    assert kinds <= (
        {"终端收益", "基数", "追回"} if zh else {"A unit's revenue", "Baseline", "Clawback"}
    )
    labels = [r[0] for r in book["汇总" if zh else "Summary"].iter_rows(values_only=True)]
    english = ["Contract", "Held by", "Portfolio", "Attainment", "Total commission (yuan)"]
    chinese = ["合同", "承包人", "承包范围", "达成率", "合计提成（元）"]
    assert set(chinese if zh else english) <= set(labels), labels
    assert not set(english if zh else chinese) & set(labels), labels
    assert not [c for c in header if re.search("[A-Za-z]{3,}" if zh else "[\u4e00-\u9fff]", str(c))]
    # Each unit's branch by name, its code after: "兰山支行 (LS)", not the code alone.
    units = [r for r in body if r[1]]
    assert units and all(re.fullmatch(r"\S+ \(\w+\)", str(r[4])) for r in units), units
    return [float(r[9] or 0) for r in body], float(total[9] or 0)


def test_draft_approve_settle_and_download(
    client: TestClient, session: Session, tmp_path: Path
) -> None:
    world(session, tmp_path)
    session.commit()
    ops, li = sign_in(client, "ops_ls"), sign_in(client, "li")
    made = client.post("/api/v1/contracts", headers=ops, json=NEW)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    # Staff see their own contract, without its money.
    mine = client.get("/api/v1/contracts", headers=li).json()
    assert [(c["id"], c["target_revenue_fen"]) for c in mine] == [(cid, None)]
    assert client.get(f"/api/v1/contracts/{cid}/statement", headers=li).status_code == 403
    assert client.post(f"/api/v1/contracts/{cid}/approve", headers=li).status_code == 403
    approved = client.post(f"/api/v1/contracts/{cid}/approve", headers=ops)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "running"  # June is over: it has begun
    # Editing an approved contract: refused in Chinese, nothing changed.
    edit = client.patch(
        f"/api/v1/contracts/{cid}", headers=ops | ZH, json={"commission_ppm": 900_000}
    )
    assert edit.status_code == 409
    assert edit.json()["error"]["message"] == f"承包合同 {cid} 状态为“进行中”：条款已锁定，不能修改"
    assert client.get(f"/api/v1/contracts/{cid}", headers=ops).json()["commission_ppm"] == 100_000
    # The same merchant in an overlapping period, inside a branch subtree: refused, listed.
    clash = client.post(
        "/api/v1/contracts",
        headers=ops | ZH,
        json={**NEW, "portfolio_kind": "branch", "branch_code": "LS", "period": "2026-Q2"},
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["message"] == (
        f"该承包范围在这段期间已有其他承包合同：#{cid} 二季度承包 (2026-06: M2)"
    )
    assert len(client.get("/api/v1/contracts", headers=ops).json()) == 1
    settled = client.post(f"/api/v1/contracts/{cid}/settle", headers=ops)
    assert settled.status_code == 200, settled.text
    assert settled.json()["total_fen"] == 900
    assert client.get(f"/api/v1/contracts/{cid}", headers=ops).json()["settled_total_fen"] == 900
    download = client.get(f"/api/v1/contracts/{cid}/statement.xlsx", headers=ops | ZH)
    assert download.status_code == 200
    (tmp_path / "s.xlsx").write_bytes(download.content)
    lines, total = workbook_lines(tmp_path / "s.xlsx")
    assert lines == [9.0] and total == 9.0
    # Asked for without Chinese first: the API's language, English.
    download = client.get(f"/api/v1/contracts/{cid}/statement.xlsx", headers=ops)
    (tmp_path / "en.xlsx").write_bytes(download.content)
    assert workbook_lines(tmp_path / "en.xlsx", "en") == (lines, total)
    progress = client.get(f"/api/v1/contracts/{cid}/progress", headers=li).json()
    assert (progress["units"], round(progress["revenue_attainment"], 2)) == (1, 0.9)


def test_the_command_line_settles_and_writes_the_workbook(
    engine: object, session: Session, tmp_path: Path
) -> None:
    from datetime import date

    from fleet.pay import contracts
    from fleet.pay.contract_models import ContractCreate
    from tests.factories import SYSTEM

    world(session, tmp_path)
    data = ContractCreate.model_validate(
        {**NEW, "merchant_codes": ["M5", "M6"], "period": "2026-Q2", "target_revenue_fen": None}
    )
    made = contracts.create(session, SYSTEM, data)
    contracts.approve(session, SYSTEM, made.id or 0, today=date(2026, 3, 1))
    session.commit()
    runner = CliRunner()
    listed = runner.invoke(app, ["contracts", "list", "--json"])
    assert listed.exit_code == 0, listed.stderr
    assert [c["status"] for c in json.loads(listed.stdout)] == ["running"]
    text = runner.invoke(app, ["contracts", "list"])
    members = json.loads(listed.stdout)[0]["members"]
    # Held by name first, the username second.
    assert f"{members[0]['full_name']} ({members[0]['username']})" in text.stdout
    june = runner.invoke(
        app, ["contracts", "settle", str(made.id), "--period", "2026-06", "--json"]
    )
    assert june.exit_code == 0, june.stderr
    shown = json.loads(june.stdout)
    assert [(ln["kind"], ln["sn"], ln["commission_fen"]) for ln in shown["lines"]] == [
        ("unit", "T5", 0),
        ("unit", "T6", 20),
        ("clawback", "T5", -30),
    ]
    out = tmp_path / "settlement.xlsx"
    final = runner.invoke(
        app, ["contracts", "settle", str(made.id), "--out", str(out)], env=ZH_TERMINAL
    )
    assert final.exit_code == 0, final.stderr
    assert "合计 0.80 元（3 行明细）" in final.stdout and "已写入：" in final.stdout
    assert "\n  终端收益 T5 " in final.stdout and "\n  追回     T5 " in final.stdout
    lines, total = workbook_lines(out)
    assert lines == [0.3, 0.8, -0.3] and total == round(sum(lines), 2) == 0.8
    # The sheet's title names the quarter's last day, 30 Jun, not 1 Jul (failed before).
    title = load_workbook(out)["汇总"]["A1"].value
    assert "（2026-04-01 – 2026-06-30）" in title, title
    # On an English terminal the same workbook in English.
    again = runner.invoke(
        app, ["contracts", "settle", str(made.id), "--out", str(out)], env=EN_TERMINAL
    )
    assert again.exit_code == 0, again.stderr
    assert workbook_lines(out, "en") == (lines, total)
    bad = runner.invoke(app, ["contracts", "settle", "999"], env=EN_TERMINAL)
    assert bad.exit_code == 1 and "contract 999 not found" in bad.stderr


def test_a_team_shares_the_total_equally_to_the_fen() -> None:
    from fleet.pay.contract_sheets import shares

    assert shares(101, 2) == [51, 50]
    assert shares(-3, 2) == [-2, -1]
    assert shares(0, 3) == [0, 0, 0]
    assert sum(shares(392_775, 3)) == 392_775


def test_the_command_line_lists_every_merchant_of_a_long_portfolio(
    engine: object, session: Session, tmp_path: Path
) -> None:
    """The list names five merchants and says "5 of 6" and where the rest are; show and the
    statement's workbook name every one. Failed before ("… (6)", the sixth nowhere)."""
    from datetime import date

    from fleet.pay import contracts
    from fleet.pay.contract_models import ContractCreate
    from tests.factories import SYSTEM

    world(session, tmp_path)
    codes = [f"M{n}" for n in range(1, 7)]
    data = ContractCreate.model_validate({**NEW, "merchant_codes": codes, "period": "2026-Q2"})
    made = contracts.create(session, SYSTEM, data)
    contracts.approve(session, SYSTEM, made.id or 0, today=date(2026, 3, 1))
    session.commit()
    runner = CliRunner()
    listed = runner.invoke(app, ["contracts", "list"], env=ZH_TERMINAL)
    assert listed.exit_code == 0, listed.stderr
    assert f"…（显示 5 / 共 6 户；fleet contracts show {made.id} 列出全部）" in listed.stdout
    assert "(M6)" not in listed.stdout
    shown = runner.invoke(app, ["contracts", "show", str(made.id)], env=ZH_TERMINAL)
    assert shown.exit_code == 0, shown.stderr
    assert "全部 6 户商户：" in shown.stdout and "(M6)" in shown.stdout
    out = tmp_path / "statement.xlsx"
    written = runner.invoke(
        app, ["contracts", "settle", str(made.id), "--out", str(out)], env=ZH_TERMINAL
    )
    assert written.exit_code == 0, written.stderr
    portfolio = {r[0]: r[1] for r in load_workbook(out)["汇总"].iter_rows(values_only=True)}
    assert "(M1)" in portfolio["承包范围"] and "(M6)" in portfolio["承包范围"], portfolio
