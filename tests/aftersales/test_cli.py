"""`fleet tickets list|open|suspect` as a script runs them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from fleet.cli.main import app
from tests.aftersales.conftest import World
from tests.terminal import EN

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_open_list_and_refusals(world: World) -> None:
    code, out, err = run(
        "tickets", "open", "SNA1", "--symptom", "card_reader", "--note", "刷不了卡", "--json"
    )
    assert (code, err) == (0, ""), err
    [ticket] = json.loads(out)
    assert (ticket["sn"], ticket["state"], ticket["symptom_zh"]) == ("SNA1", "open", "读卡器故障")
    assert ticket["source"] == "phone" and ticket["hours_left"] is not None

    code, out, err = run("tickets", "open", "SNA1", "--symptom", "power", env=EN)
    assert code == 1 and out == ""
    assert err == f"error: terminal SNA1 has an open ticket already ({ticket['id']})\n"
    code, _, err = run("tickets", "open", "SNB1", "--symptom", "smoke", env=EN)
    assert code == 1 and err.startswith("error: --symptom 'smoke': use one of phone_line,")
    code, _, err = run("tickets", "open", "SPA1", "--symptom", "power", env=EN)
    assert code == 1 and "not at a merchant" in err

    code, out, _ = run("tickets", "list")
    # The branch by name, its code after it.
    assert code == 0
    # (no language of the terminal's own: FLEET_DEFAULT_LANGUAGE, Chinese)
    assert out.startswith(
        "工单共 1 张\n#1  SNA1  网点A1 (A1)  商户CA1  待派单  读卡器故障  普通/城区"
    )
    code, out, _ = run("tickets", "list", "--branch", "B", "--json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = run("tickets", "list", "--state", "closed", "--json")
    assert code == 0 and json.loads(out) == []
    code, _, err = run("tickets", "list", "--state", "broken", env=EN)
    assert code == 1 and err.startswith("error: --state 'broken'")


def test_suspect_runs_and_reruns_without_change(world: World) -> None:
    code, out, err = run("tickets", "suspect", "--as-of", "2026-11-30", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "as_of": "2026-11-30",
        "suspected": [],
        "verified": 0,
        "callback_due": 0,
    }
    code, _, err = run("tickets", "suspect", "--as-of", "yesterday", env=EN)
    assert code == 1 and err == "error: --as-of 'yesterday': use YYYY-MM-DD\n"


def test_statement_and_kpi(world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fleet.aftersales import contractors
    from fleet.core.db import session_scope
    from tests.aftersales.conftest import SYSTEM

    with session_scope() as session:
        contractors.create(
            session,
            SYSTEM,
            contractors.ContractorCreate(code="RT", name="返聘售后组", branch_codes=["A"]),
        )
    run("tickets", "open", "SNA1", "--symptom", "power")
    out = tmp_path / "rt.xlsx"
    code, text, err = run("service", "statement", "RT", "--month", "2026-12", "--out", str(out))
    assert (code, err) == (0, ""), err
    assert text.startswith("RT 2026-12（暂定）：工单 1 张，基本费 333.33 + 工单费 0.00")
    assert out.exists()
    code, text, _ = run(
        "service", "statement", "RT", "--month", "2026-12", "--out", str(out), "--json"
    )
    assert code == 0 and json.loads(text)["amount_due"] == 333.33
    code, _, err = run(
        "service", "statement", "NOPE", "--month", "2026-12", "--out", str(out), env=EN
    )
    assert code == 1 and err == "error: contractor NOPE not found\n"
    code, _, err = run("service", "statement", "RT", "--month", "2026-12", "--out", "x.csv")
    assert code == 1 and "xlsx" in err

    code, text, _ = run("service", "kpi", "--json")
    assert code == 0
    [a1] = json.loads(text)
    assert (a1["group"], a1["tickets"], a1["restored"]) == ("A1", 1, 0)
    code, text, _ = run("service", "kpi", "--branch", "B")
    assert code == 0 and text.startswith("按网点分 0 组，近 365 天")
    code, _, err = run("service", "kpi", "--by", "colour", env=EN)
    assert code == 1 and err.startswith("error: --by 'colour'")


def test_open_says_the_deadlines_in_beijing_time(world: World) -> None:
    code, out, err = run("tickets", "open", "SNA1", "--symptom", "power")
    assert code == 0, err
    [ticket] = json.loads(run("tickets", "list", "--json")[1])
    restore_by = datetime.fromisoformat(ticket["restore_by"])
    if restore_by.tzinfo is None:  # stored moments are UTC
        restore_by = restore_by.replace(tzinfo=UTC)
    beijing = restore_by.astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"修复时限 {beijing:%Y-%m-%d %H:%M}（北京时间）" in out, out
