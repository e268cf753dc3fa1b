"""No traceback ever reaches a user from the CLI (issue 17): the real `fleet` command, run in
a subprocess on a failure nobody foresaw (a bug, planted: the export's service divides by
zero), says in one line, in the user's language, where the full log went, and exits 1; the log
has the traceback. (A failure the user can mend, such as an export onto a folder, is said with
its fix instead: tests/cli/test_no_traceback.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from fleet.core.config import get_settings
from fleet.core.logs import write_crash

# `fleet` itself (fleet.cli.main's app, as the console script calls it), with a bug planted.
WITH_A_BUG = (
    "import sys; import fleet.imports.service as s; "
    "s.export_kind = lambda *a, **k: 1 / 0; "
    "from fleet.cli.main import app; sys.argv[0] = 'fleet'; app()"
)


def run_fleet(*args: str, lang: str, log: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": lang, "LC_ALL": "", "FLEET_CLI_LOG_FILE": str(log)}
    return subprocess.run(
        [sys.executable, "-c", WITH_A_BUG, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_an_unexpected_failure_is_one_line_naming_the_log(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "branches.csv"
    log = tmp_path / "logs" / "cli.log"
    done = run_fleet("export", "branches", "--out", str(out), lang="zh_CN.UTF-8", log=log)
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0] == (
        f"错误：命令意外失败（ZeroDivisionError）；详细信息已写入 {log}"
        "（设置 FLEET_CLI_LOG_FILE 可改写到别处）"
    )
    written = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in written and "ZeroDivisionError" in written
    assert f"fleet export branches --out {out}" in written

    # An English terminal reads it in English; the log gains a second entry.
    done = run_fleet("export", "branches", "--out", str(out), lang="en_US.UTF-8", log=log)
    assert done.returncode == 1 and done.stderr.startswith(
        "error: the command failed unexpectedly (ZeroDivisionError); the details are in"
    ), done.stderr
    assert log.read_text(encoding="utf-8").count("Traceback") == 2


def test_the_log_hides_secrets_and_falls_back_to_the_temporary_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    try:
        int("not a number")
    except ValueError as exc:
        failure = exc
    unwritable = Path("/proc/fleet-no-such-dir/cli.log")  # not even root may write there
    monkeypatch.setenv("FLEET_CLI_LOG_FILE", str(unwritable))
    get_settings.cache_clear()
    try:
        argv = ["user", "create", "ann", "--password", "s3cret", "--token=t0k"]
        where = write_crash(failure, argv)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert where is not None and where != unwritable and where.name == "fleet-cli.log"
    text = where.read_text(encoding="utf-8")
    entry = text[text.rindex("--- ") :]
    assert "user create ann --password *** --token=***" in entry and "ValueError" in entry
    assert "s3cret" not in entry and "t0k" not in entry
