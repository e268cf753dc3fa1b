"""The command line's own refusals in the terminal's language (issue 17): the words click and
typer say around a mistake on the command line (no such option or command, a missing argument
or option, an invalid value, an extra argument, the usage line, "try --help", the error
panel's title) read Chinese on a Chinese terminal and stay English on an English one; the
language is chosen as tests/cli/test_help.py chooses it (LANG)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fleet.cli.main import app

FLEET = Path(sys.executable).parent / "fleet"
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400", "LC_ALL": "", "LC_MESSAGES": ""}
ZH, EN = "zh_CN.UTF-8", "en_US.UTF-8"
# (the words after `fleet`, what a Chinese terminal says, what an English one says)
MISTAKES = [
    (["--nosuch"], "没有这个选项：--nosuch", "No such option: --nosuch"),
    (["nosuch"], "没有这个命令：'nosuch'。", "No such command 'nosuch'."),
    (
        ["scor"],
        "没有这个命令：'scor'。您是不是要：'score', 'scorecard'？",
        "No such command 'scor'. Did you mean 'score', 'scorecard'?",
    ),
    (["kpi", "extra"], "多余的参数：extra", "Got unexpected extra argument(s) (extra)"),
    (["revisits"], "缺少选项 '--branch'。", "Missing option '--branch'."),
    (["contracts", "settle"], "缺少参数 'contract_id'。", "Missing argument 'contract_id'."),
    (
        ["kpi", "--group-by"],
        "选项 '--group-by' 需要一个值。",
        "Option '--group-by' requires an argument.",
    ),
    (
        ["kpi", "--weeks", "abc"],
        "'--weeks' 的值无效：应为整数",
        "Invalid value for '--weeks': Input should be a valid integer",
    ),
]


def _said(result_err: str) -> str:
    """The words of an error's output, without the panel's frame."""
    lines = [line.strip().strip("│╭╮╰╯─").strip() for line in result_err.splitlines()]
    return " ".join(line for line in lines if line)


@pytest.mark.usefixtures("engine")  # a database set up: the commands parse after the callback
def test_mistakes_read_in_the_terminals_language() -> None:
    runner = CliRunner()
    for lang in (ZH, EN, ZH):  # back and forth in one process: nothing sticks
        for words, zh, en in MISTAKES:
            result = runner.invoke(app, words, env={**WIDE, "LANG": lang})
            assert result.exit_code == 2, (words, result.stderr)
            said = _said(result.stderr)
            assert (zh if lang == ZH else en) in said, (lang, words, said)
            if lang == ZH:
                assert "Usage" not in said and "Error" not in said and "Try" not in said, said
                assert "错误" in said  # the panel's title
            else:
                assert not any("\u4e00" <= ch <= "\u9fff" for ch in said), said


@pytest.mark.usefixtures("engine")
def test_a_real_terminal_in_either_language() -> None:
    command = [str(FLEET)] if FLEET.is_file() else [sys.executable, "-m", "fleet.cli.main"]
    for lang, usage, hint in (
        (ZH, "用法：fleet kpi [OPTIONS]", "运行 'fleet kpi --help' 查看帮助。"),
        (EN, "Usage: fleet kpi [OPTIONS]", "Try 'fleet kpi --help' for help."),
    ):
        done = subprocess.run(
            [*command, "kpi", "extra"],
            capture_output=True,
            text=True,
            env={**os.environ, **WIDE, "LANG": lang},
            timeout=120,
            check=False,
        )
        assert done.returncode == 2
        said = _said(done.stderr)
        assert usage in said and hint in said, said
        assert ("多余的参数：extra" if lang == ZH else "(extra)") in said
