"""The command line's own refusals (fleet.cli.common.fail: a date that is not a date, an
option's value it does not know, a file of the wrong kind, a database not set up) in the
terminal's language, as its domain errors are: one line, "错误：…" in Chinese, "error: …" in
English (the rule: tests/cli/test_one_language.py). Each message is a msgid of the catalogues,
never an f-string (which no catalogue could look up)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleet.cli.common import use_database
from fleet.cli.main import app
from fleet.core.i18n import FLEET, catalogue

ZH = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
EN = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
# (the words after `fleet`, the Chinese line, the English line)
REFUSALS = [
    (
        ["kpi", "--as-of", "2026-13-01"],
        "错误：--as-of '2026-13-01' 不是日期，请写成 YYYY-MM-DD",
        "error: --as-of '2026-13-01' is not a date; write it as YYYY-MM-DD",
    ),
    (
        ["revisits", "--branch", "LY", "--date", "tomorrow"],
        "错误：--date 'tomorrow' 不是日期，请写成 YYYY-MM-DD",
        "error: --date 'tomorrow' is not a date; write it as YYYY-MM-DD",
    ),
    (
        ["kpi", "--group-by", "colour"],
        "错误：--group-by 'colour' 无效：请用 branch（网点）、market（市场）、category（行业）"
        "或 staff（员工）",
        "error: --group-by 'colour': use branch, market, category or staff",
    ),
    (
        ["scorecard"],
        "错误：请给出 --period：月份如 2026-11、季度如 2026-Q4 或年份如 2026",
        "error: --period is needed: a month 2026-11, a quarter 2026-Q4 or a year 2026",
    ),
    (
        ["revenue", "--by", "colour"],
        "错误：--by 'colour' 无效：请用 unit（终端）、staff（员工）、branch（网点）"
        "或 market（市场）",
        "error: --by 'colour' is not unit, staff, branch or market",
    ),
    (
        ["contracts", "list", "--status", "open"],
        "错误：--status 'open' 无效：请用 draft（草稿）、approved（已批准）、running（执行中）"
        "或 settled（已结算）",
        "error: --status 'open' is not draft, approved, running or settled",
    ),
    (
        ["map", "coverage", "--lang", "fr"],
        "错误：--lang 只能是 zh 或 en，而不是 'fr'",
        "error: --lang must be zh or en, not 'fr'",
    ),
    (
        ["fees", "example", "--from", "soon"],
        "错误：--from 'soon' 不是日期（YYYY-MM-DD）",
        "error: --from 'soon' is not a date (YYYY-MM-DD)",
    ),
    (
        ["user", "create", "wang", "--role", "field", "--branch", "LY", "--password", "short"],
        "错误：密码至少要 8 个字符",
        "error: the password must have at least 8 characters",
    ),
    # a domain error on the same path, as before
    (
        ["kpi", "--branch", "NOPE"],
        "错误：未找到网点 NOPE",
        "error: branch NOPE not found",
    ),
]


@pytest.mark.usefixtures("engine")
def test_refusals_read_in_the_terminals_language() -> None:
    runner = CliRunner()
    for env in (ZH, EN, ZH):  # back and forth in one process: nothing sticks
        for words, zh, en in REFUSALS:
            done = runner.invoke(app, words, env=env)
            assert done.exit_code == 1, (words, done.stderr)
            assert done.stdout == ""
            assert done.stderr == (zh if env is ZH else en) + "\n", (words, done.stderr)


@pytest.mark.usefixtures("elsewhere")
def test_a_database_not_set_up_in_chinese(tmp_path: Path) -> None:
    db = tmp_path / "fleet.db"
    use_database(f"sqlite:///{db}")
    done = CliRunner().invoke(app, ["kpi"], env=ZH)
    code, out, err = done.exit_code, done.stdout, done.stderr
    assert (code, out) == (1, "")
    assert err.startswith(f"错误：数据库 sqlite:///{db} 尚未建好（文件不存在或是空文件）：请运行")
    assert "`fleet db upgrade`" in err and len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("engine")
def test_a_real_chinese_terminal() -> None:
    fleet = Path(sys.executable).parent / "fleet"
    command = [str(fleet)] if fleet.is_file() else [sys.executable, "-m", "fleet.cli.main"]
    done = subprocess.run(
        [*command, "score", "--weeks", "-1"],
        capture_output=True,
        text=True,
        env={**os.environ, **ZH},
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (1, "错误：--weeks 不能为负数\n")


def _fail_calls() -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted((FLEET / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "fail":
                found.append((f"{path.name}:{node.lineno}", node))
    return found


def test_every_refusal_is_a_msgid_with_its_chinese() -> None:
    calls = _fail_calls()
    assert len(calls) > 40
    zh = catalogue("zh")
    for where, call in calls:
        first = call.args[0]
        if isinstance(first, ast.Name) and first.id == "problem":
            continue  # database_not_set_up's reason, its msgids among the catalogue's
        assert isinstance(first, ast.Constant) and isinstance(first.value, str), where
        assert first.value in zh, (where, first.value)
        fields = set(re.findall(r"\{(\w+)", first.value))
        assert fields == {k.arg for k in call.keywords if k.arg != "code"}, where
        assert fields == set(re.findall(r"\{(\w+)", zh[first.value])), where
