"""The command line's help in the terminal's language (issue 17): `fleet --help` and every
command's `--help` read Chinese on a Chinese terminal and English on an English one; a help
text without its Chinese in the catalogues fails here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from fleet.cli.helptext import help_texts
from fleet.cli.main import app
from fleet.core.i18n import catalogue

FLEET = Path(sys.executable).parent / "fleet"
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400", "LC_ALL": "", "LC_MESSAGES": ""}


def _tree() -> list[tuple[list[str], object]]:
    """(the words after `fleet`, the command) for the group and every command below it."""
    found: list[tuple[list[str], object]] = []

    def walk(command: object, words: list[str]) -> None:
        found.append((words, command))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*words, name])

    walk(typer.main.get_command(app), [])
    return found


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip()


def run_fleet(*args: str, lang: str) -> str:
    command = [str(FLEET)] if FLEET.is_file() else [sys.executable, "-m", "fleet.cli.main"]
    env = {**os.environ, **WIDE, "LANG": lang}
    done = subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_every_help_text_has_its_chinese() -> None:
    zh = catalogue("zh")
    missing = {m: where for m, where in help_texts(typer.main.get_command(app)).items()}
    missing = {m: where for m, where in missing.items() if m not in zh}
    assert not missing, "no Chinese in cli.po for:\n" + "\n".join(
        f"{where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda i: i[1])
    )
    assert len(_tree()) > 50  # the walk reaches the subcommands of every group


@pytest.mark.parametrize("words", [w for w, _ in _tree()], ids=lambda w: " ".join(w) or "fleet")
def test_each_commands_help_reads_chinese_on_a_chinese_terminal(words: list[str]) -> None:
    command = dict((tuple(w), c) for w, c in _tree())[tuple(words)]
    zh = catalogue("zh")
    shown = CliRunner().invoke(app, [*words, "--help"], env={**WIDE, "LANG": "zh_CN.UTF-8"})
    assert shown.exit_code == 0, shown.output
    texts = [command.help] + [p.help for p in command.params if getattr(p, "help", None)]  # type: ignore[attr-defined]
    for text in filter(None, texts):
        assert _first_line(zh[text]) in shown.output, (text, shown.output)
        english = _first_line(text)
        if not english.isascii() or len(english) < 12:
            continue  # a short or mixed text may sit inside its own translation
        assert english not in shown.output, shown.output
    assert "选项" in shown.output and "Show this message and exit." not in shown.output


def test_the_real_command_speaks_the_terminals_language() -> None:
    top = run_fleet("--help", lang="zh_CN.UTF-8")
    assert "fleet：管理银行的转账电话终端。" in top and "命令" in top
    for name in ("demo", "serve", "import", "ingest", "revisits", "recovery", "redeploy"):
        assert name in top
    assert "Builds the Linyi demo region" not in top
    assert "用用户所用的导入代码构建临沂演示区域，然后提供服务。" in top

    serve = run_fleet("serve", "--help", lang="zh_CN.UTF-8")
    assert "监听端口。" in serve and "[默认：8000]" in serve and "Port to listen on." not in serve
    upgrade = run_fleet("db", "upgrade", "--help", lang="zh_CN.UTF-8")
    assert "把 FLEET_DATABASE_URL 指定的数据库升级到最新结构。" in upgrade

    # An English terminal reads the English msgids.
    english = run_fleet("serve", "--help", lang="en_US.UTF-8")
    assert "Port to listen on." in english and "[default: 8000]" in english
    assert "监听端口" not in english and "Options" in english
