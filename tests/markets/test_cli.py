"""`fleet markets rank` and `fleet campaign report` as a user runs them."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.db import session_scope
from fleet.markets import campaigns, run
from fleet.markets.models import CampaignCreate
from tests.markets.conftest import World
from tests.terminal import EN

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_markets_rank(world: World) -> None:
    code, out, err = invoke("markets", "rank", "--json")
    assert (code, err) == (0, "")
    rows = json.loads(out)["items"]
    assert {r["code"] for r in rows} == {"MK1", "MK2"}
    assert set(rows[0]) >= {"rank", "score", "why", "reason", "potential", "stock_nearby"}

    code, out, _ = invoke("markets", "rank", "--category", "石材")
    assert code == 0
    lines = out.splitlines()
    # (no language of the terminal's own: FLEET_DEFAULT_LANGUAGE, Chinese)
    assert lines[0] == "市场共 1 个，得分高的在前"
    assert lines[1].split()[:4] == ["市场", "行业", "得分", "未覆盖商户"]
    assert lines[3].startswith("1. 市场MK2 (MK2)")
    code, out, _ = invoke("markets", "rank", "--limit", "1")
    assert code == 0 and out.startswith(
        "市场共 2 个，得分高的在前，显示前 1 个（加 --all 显示全部）"
    )
    code, out, _ = invoke("markets", "rank", "--limit", "1", "--json")
    assert (json.loads(out)["total"], json.loads(out)["shown"]) == (2, 1)
    assert lines[-1].startswith("1. MK2: 未布放约1户（已知商户2户、已有机具1户）")

    code, _, err = invoke("markets", "rank", "--category", "bakery", env=EN)
    assert code == 1 and err.startswith("error: unknown market category 'bakery'")
    code, _, err = invoke("markets", "rank", "--branch", "NOPE", env=EN)
    assert (code, err.strip()) == (1, "error: branch NOPE not found")


def test_campaign_report(engine: Engine, world: World, tmp_path: Path) -> None:
    d = world.today
    with session_scope(engine) as session:
        marketing = world.actor(session, "marketing_a")
        campaign = campaigns.create_campaign(
            session,
            marketing,
            CampaignCreate(
                name="测试活动",
                market_code="MK1",
                starts_on=d - timedelta(days=50),
                ends_on=d - timedelta(days=40),
                target_placements=2,
                unit_sns=["S1"],
            ),
        )
        at = datetime.combine(d - timedelta(days=45), time(11), tzinfo=ZoneInfo("Asia/Shanghai"))
        run.place_unit(session, marketing, campaign, sn="S1", merchant_code="M5", at=at)
        cid = campaign.id
    out_file = tmp_path / "活动报告.xlsx"
    code, out, err = invoke("campaign", "report", str(cid), "--out", str(out_file))
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == "布放：1 台，目标 2 台（50%）"
    assert out.splitlines()[-1] == f"已写入：{out_file}"
    rows = list(load_workbook(out_file)["布放明细"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[7]) for r in rows] == [("S1", "M5", "否")]

    code, out, _ = invoke("campaign", "report", str(cid), "--json")
    assert code == 0 and json.loads(out)["placed"] == 1
    code, _, err = invoke("campaign", "report", "999", env=EN)
    assert (code, err.strip()) == (1, "error: campaign 999 not found")
    code, _, err = invoke("campaign", "report", str(cid), "--out", str(tmp_path / "r.csv"), env=EN)
    assert code == 1 and "written as .xlsx" in err
