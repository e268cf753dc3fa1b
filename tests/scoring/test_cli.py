"""`fleet score` and `fleet kpi` as a user runs them: exit codes, output, JSON keys."""

from __future__ import annotations

import json
import re

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.db import session_scope
from fleet.scoring.models import TerminalScore
from tests.scoring.conftest import Region

runner = CliRunner()


def run(*args: str, lang: str = "zh_CN.UTF-8") -> tuple[int, str, str]:
    """The command on a terminal in `lang` (as tests/cli/test_help.py sets it)."""
    env = {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_score_prints_a_line_per_as_of_date(region: Region) -> None:
    code, out, err = run("score", "--as-of", str(region.today))
    assert (code, err) == (0, "")
    line = out.strip()
    assert line.startswith(f"{region.today}：已为 8 台终端评分，用时 ")
    assert line.endswith("活跃 5，使用下滑 0，闲置 1，休眠 1，从未使用 0，新布放 1")
    code, out, _ = run("score", "--as-of", str(region.today), lang="en_US.UTF-8")
    assert out.strip().endswith(
        "active 5, declining 0, idle 1, dormant 1, never used 0, newly placed 1"
    )

    code, out, _ = run("score", "--as-of", str(region.today), "--weeks", "1", "--json")
    assert code == 0
    summaries = json.loads(out)
    assert [s["as_of"] for s in summaries] == [str(region.before), str(region.today)]
    assert set(summaries[0]) == {"as_of", "terminals", "by_status", "seconds"}

    code, out, _ = run("score", "--json")  # today, by default
    assert code == 0
    assert json.loads(out)["as_of"] == str(region.today)


def test_kpi_table_and_json(region: Region) -> None:
    code, out, err = run("kpi", "--group-by", "branch", "--weeks", "2", lang="zh_CN.UTF-8")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"截至 {region.today} 的指标（30 天窗口；激活数对比 {region.before}）"
    header = lines[2]
    # One language, the catalogue's words (the pages' overview): no "网点 branch" pairs.
    assert header.split() == [
        "网点",
        "布放终端数",
        "活跃终端数",
        "动户率",
        "使用率",
        "激活数",
        "使用下滑",
        "闲置",
        "休眠",
        "从未使用",
        "新布放",
    ]
    county_a = next(line for line in lines if line.startswith("A "))
    assert county_a.split()[-10:] == ["5", "3", "60.0%", "0.07", "2", "0", "1", "1", "0", "0"]
    total = next(line for line in lines if line.startswith("合计"))
    assert total.split()[1:6] == ["8", "5", "62.5%", "0.12", "3"]
    assert "按周趋势（合计）：" in lines
    assert not [line for line in lines if re.search("[A-Za-z]{3,}", line.replace("KPI", ""))]
    # Columns line up, counting a Chinese character as two.
    assert len({_display_width(line) for line in lines[2:6]}) == 1

    code, out, err = run("kpi", "--group-by", "market", lang="en_US.UTF-8")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"KPIs as of {region.today} (30-day window; activations vs {region.before})"
    assert lines[2].split()[:3] == ["Market", "Deployed", "terminals"]
    assert "Never used" in lines[2] and ["Total"] in [line.split()[:1] for line in lines]
    # (the markets' own names are Chinese: only the words fleet writes are checked)
    assert not [line for line in lines if re.search("[\u4e00-\u9fff]", line.split("MK")[0])]

    code, out, _ = run("kpi", "--group-by", "staff", "--branch", "A", "--json")
    assert code == 0
    body = json.loads(out)
    assert {"as_of", "group_by", "branch_id", "window_days", "rows", "total"} <= set(body)
    assert [r["code"] for r in body["rows"]] == ["field_a1", "field_a2"]
    assert {"deployed", "active_rate", "usage_rate", "activations", "by_status", "weeks"} <= set(
        body["rows"][0]
    )


def test_a_branchs_own_units_in_the_terminals_words(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:  # one unit scored at county A itself
        session.execute(
            update(TerminalScore)
            .where(col(TerminalScore.terminal_id) == region.ids["t1"])
            .values(branch_id=region.branches["A"])
        )
    code, out, err = run("kpi", "--group-by", "branch", "--branch", "A")
    assert (code, err) == (0, "")
    own = next(line for line in out.splitlines() if line.startswith("A "))
    assert own.split()[:2] == ["A", "网点A（本级机具）"]
    code, out, _ = run("kpi", "--group-by", "branch", "--branch", "A", lang="en_US.UTF-8")
    assert "\nA 网点A (its own units) " in out
    code, out, _ = run("kpi", "--group-by", "branch", "--branch", "A", "--json")
    rows = json.loads(out)["rows"]
    assert (rows[0]["label"], rows[0]["kind"]) == ("网点A", "own")
    assert json.loads(out)["total"]["label"] == "Total"


def test_bad_input_fails_in_one_line(region: Region) -> None:
    for args, message in (
        (("score", "--as-of", "2026-13-01"), "error: --as-of '2026-13-01' is not a date"),
        (("score", "--as-of", "2999-01-01"), "error: as-of date 2999-01-01 is in the future"),
        (("kpi", "--group-by", "colour"), "error: --group-by 'colour': use branch, market"),
        (("kpi", "--as-of", "2020-01-01"), "error: no scores as of 2020-01-01"),
        (("kpi", "--branch", "NOPE"), "error: branch NOPE not found"),
        (("kpi", "--weeks", "0"), "error: weeks must be between 1 and 104"),
    ):
        code, out, err = run(*args, lang="en_US.UTF-8")  # the English messages
        assert (code, out) == (1, ""), args
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith(message), err


def _display_width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text.rstrip())
