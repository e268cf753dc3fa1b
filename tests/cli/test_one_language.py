"""One rule for the language of everything a command says (issue 17): its text report, its
own refusal (fail), a domain error, its help and click's words around a mistake all follow
fleet.cli.common.cli_lang — the locale when it names Chinese or English, else
FLEET_DEFAULT_LANGUAGE (Chinese unless set). A bare C locale (a server's, a cron job's) used
to get Chinese reports with English refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fleet.cli.main import app
from fleet.core.config import get_settings

NO_LOCALE = {"LC_ALL": None, "LC_MESSAGES": None}
# (the terminal, the language it gets)
TERMINALS: list[tuple[dict[str, str | None], str]] = [
    ({**NO_LOCALE, "LANG": "C"}, "zh"),
    ({**NO_LOCALE, "LANG": "C.UTF-8"}, "zh"),
    ({**NO_LOCALE, "LANG": None}, "zh"),
    ({**NO_LOCALE, "LANG": "POSIX", "FLEET_DEFAULT_LANGUAGE": "zh"}, "zh"),
    ({**NO_LOCALE, "LANG": "en_US.UTF-8"}, "en"),
    ({**NO_LOCALE, "LANG": "zh_CN.UTF-8"}, "zh"),
    ({**NO_LOCALE, "LANG": "C", "FLEET_DEFAULT_LANGUAGE": "en"}, "en"),
    ({**NO_LOCALE, "LANG": "zh_CN.UTF-8", "FLEET_DEFAULT_LANGUAGE": "en"}, "zh"),
    ({"LC_ALL": "en_US.UTF-8", "LC_MESSAGES": None, "LANG": "zh_CN.UTF-8"}, "en"),
]
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def run(words: list[str], terminal: dict[str, str | None]) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, words, env={**WIDE, **terminal})
    finally:
        get_settings.cache_clear()


@pytest.mark.usefixtures("engine")
def test_reports_refusals_errors_and_help_in_one_language() -> None:
    for terminal, lang in TERMINALS:
        said = {
            "report": run(["jobs", "list"], terminal).stdout,
            "refusal": run(["kpi", "--as-of", "2026-13-01"], terminal).stderr,
            "domain error": run(["kpi", "--branch", "NOPE"], terminal).stderr,
            "help": run(["jobs", "list", "--help"], terminal).stdout,
            "click's words": run(["jobs", "list", "extra"], terminal).stderr,
        }
        for what, text in said.items():
            assert text.strip(), (terminal, what)
            assert has_chinese(text) == (lang == "zh"), (terminal, what, text)
        assert said["refusal"] == (
            "错误：--as-of '2026-13-01' 不是日期，请写成 YYYY-MM-DD\n"
            if lang == "zh"
            else "error: --as-of '2026-13-01' is not a date; write it as YYYY-MM-DD\n"
        )
        assert said["domain error"] == (
            "错误：未找到网点 NOPE\n" if lang == "zh" else "error: branch NOPE not found\n"
        )


def test_a_bad_setting_is_said_in_the_default_language_too() -> None:
    # The settings cannot be read (a mistyped database URL): FLEET_DEFAULT_LANGUAGE still holds.
    for default, start in (("en", "error: configuration: "), (None, "错误：配置有误：")):
        terminal = {**NO_LOCALE, "LANG": "C", "FLEET_DEFAULT_LANGUAGE": default}
        done = run(["kpi"], {**terminal, "FLEET_DATABASE_URL": "not a url"})
        assert done.exit_code == 2 and done.stderr.startswith(start), done.stderr


@pytest.mark.usefixtures("engine")
def test_a_real_c_locale_terminal() -> None:
    fleet = Path(sys.executable).parent / "fleet"
    command = [str(fleet)] if fleet.is_file() else [sys.executable, "-m", "fleet.cli.main"]
    base = {k: v for k, v in os.environ.items() if k not in ("LC_ALL", "LC_MESSAGES")}
    for extra, expected in (
        ({}, "错误：未找到网点 NOPE\n"),
        ({"FLEET_DEFAULT_LANGUAGE": "en"}, "error: branch NOPE not found\n"),
    ):
        done = subprocess.run(
            [*command, "kpi", "--branch", "NOPE"],
            capture_output=True,
            text=True,
            env={**base, "LANG": "C", **extra},
            timeout=120,
            check=False,
        )
        assert (done.returncode, done.stderr) == (1, expected)
