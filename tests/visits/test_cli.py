"""`fleet revisits` as a user runs it: a summary, files by suffix, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from fleet.cli.main import app
from tests.visits.conftest import Region

runner = CliRunner()


def run(*args: str, lang: str = "") -> tuple[int, str, str]:
    """The command on a terminal in `lang` (as tests/cli/test_help.py sets it; none: the
    default language, Chinese)."""
    env = {"LANG": lang, "LC_ALL": "", "LC_MESSAGES": ""} if lang else None
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_summary_then_files(region: Region, tmp_path: Path) -> None:
    day = str(region.today)
    code, out, err = run("revisits", "--branch", "A", "--date", day, "--seconds", "0.3")
    assert (code, err) == (0, ""), err
    first = out.splitlines()[0]
    assert first.startswith(f"网点A (A) {day}：4 个候选中已安排 4 个，客户经理 3 人")
    # The plan's notes (stored as phrases) in the terminal's language.
    assert "(field_a1)" in out and "说明：行车时间为估算：" in out
    code, out, err = run(
        "revisits", "--branch", "A", "--date", day, "--seconds", "0.3", lang="en_US.UTF-8"
    )
    assert (code, err) == (0, ""), err
    assert "note: travel times are estimates: geodesic distance x " in out
    assert "field staff; 4 candidates; solved in " in out
    assert out.startswith(f"网点A (A) {day}: 4 of 4 candidates planned for 3 staff, ")

    for suffix in ("xlsx", "csv", "json", "html"):
        path = tmp_path / f"plan.{suffix}"
        code, out, _ = run(
            "revisits", "--branch", "A", "--date", day, "--staff", "2", "--out", str(path)
        )
        assert code == 0 and out.strip().endswith(f"已写入 {path}")
        assert path.stat().st_size > 0
    assert load_workbook(tmp_path / "plan.xlsx").sheetnames == [
        "汇总",
        "1 Field_A1",
        "2 Field_A2",
        "未安排",
    ]
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert [r["username"] for r in data["routes"]] == ["field_a1", "field_a2"]


def test_bad_input_is_one_line_and_a_non_zero_exit(region: Region, tmp_path: Path) -> None:
    english = "en_US.UTF-8"  # the refusals read in English
    day = str(region.today)
    assert run("revisits", "--branch", "A", "--date", "tomorrow", lang=english)[2] == (
        "error: --date 'tomorrow' is not a date; write it as YYYY-MM-DD\n"
    )
    code, _, err = run("revisits", "--branch", "ZZ", "--date", day, lang=english)
    assert (code, err) == (1, "error: branch ZZ not found\n")
    code, _, err = run(
        "revisits", "--branch", "A", "--date", day, "--out", str(tmp_path / "x.pdf"), lang=english
    )
    assert (code, err) == (1, "error: --out x.pdf: use a .xlsx, .csv, .json or .html file\n")
    code, _, err = run("revisits", "--branch", "A", "--date", day, "--staff", "0", lang=english)
    assert (code, err) == (1, "error: --staff must be at least 1\n")
    # The help in the terminal's language: Chinese where no English locale is set.
    english = runner.invoke(app, ["revisits", "--help"], env={"LC_ALL": "en_US.UTF-8"}).stdout
    assert "Plans who visits" in english
    chinese = runner.invoke(app, ["revisits", "--help"], env={"LC_ALL": "zh_CN.UTF-8"}).stdout
    assert "安排某天由谁回访哪些闲置终端" in chinese
