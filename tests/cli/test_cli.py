"""The command line as a user runs it: exit codes, one-line errors, what lands in the database."""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session
from typer.testing import CliRunner

from fleet.auth import service as auth
from fleet.cli.common import use_database
from fleet.cli.main import app
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from tests import factories
from tests.factories import SYSTEM

runner = CliRunner()


EN = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ZH = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The command on an English terminal unless `env` says otherwise."""
    result = runner.invoke(app, list(args), env=env or EN)
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_db_upgrade_reports_the_database(engine: Engine) -> None:
    code, out, _ = run("db", "upgrade")
    assert code == 0
    assert out.startswith("database at newest schema:")


def test_import_then_export_round_trip(engine: Engine, tmp_path: Path) -> None:
    branches = write(
        tmp_path / "网点.csv",
        "网点编号,网点名称,层级,上级网点编号\nLY,临沂分行,分行,\nLS,兰山支行,支行,LY\n",
        encoding="gbk",
    )
    code, out, err = run("import", "branches", str(branches))
    assert (code, err) == (0, "")
    assert out.strip() == "branches: 2 rows: 2 created, 0 updated, 0 unchanged, 0 skipped"

    exported = tmp_path / "out.xlsx"
    code, out, _ = run("export", "branches", "--out", str(exported))
    assert (code, out.strip()) == (0, f"2 branches written to {exported}")
    code, out, _ = run("import", "branches", str(exported), "--json")
    assert code == 0
    assert '"created": 0' in out and '"updated": 0' in out and '"unchanged": 2' in out


def test_a_bad_file_imports_nothing_and_says_why(engine: Engine, tmp_path: Path) -> None:
    bad = write(
        tmp_path / "b.csv", "code,name,level,parent_code\nLY,临沂分行,city,\nX,,outlet,NOPE\n"
    )
    code, out, err = run("import", "branches", str(bad))
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith("error: b.csv: 1 of 2 rows have errors, so nothing was imported")
    assert any(line.strip().startswith("row 3, column name") for line in lines[1:])
    with session_scope(engine) as session:
        assert inventory.list_branches(session, SYSTEM)[1] == 0

    # On a Chinese terminal each bad row in Chinese too, and what was done.
    code, out, err = run("import", "branches", str(bad), env=ZH)
    lines = err.strip().splitlines()
    assert lines[0].startswith("错误：b.csv：")
    assert any(line.strip().startswith("第 3 行 name 列：") for line in lines[1:]), err
    assert "row" not in err and "column" not in err, err

    code, out, err = run("import", "branches", str(bad), "--skip-bad")
    assert code == 0
    assert "1 created" in out and "1 skipped" in out
    assert (tmp_path / "b.rejects.csv").exists()


def test_a_file_of_bad_rows_lists_the_first_and_counts_the_rest(
    engine: Engine, tmp_path: Path
) -> None:
    rows = "".join(f"X{n},,outlet,\n" for n in range(150))
    bad = write(tmp_path / "many.csv", "code,name,level,parent_code\n" + rows)
    code, _, err = run("import", "branches", str(bad))
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 + 100 + 1
    # How many more, and how to see them (issue 17, item 11; failed before: "... and 50 more").
    assert lines[-1].strip() == (
        "... and 50 more (--rejects FILE writes every bad row with its reason)"
    )
    # --rejects on a refused file: nothing imported, every bad row in the file.
    rejects = tmp_path / "many.rejects.csv"
    code, _, err = run("import", "branches", str(bad), "--rejects", str(rejects))
    lines = err.strip().splitlines()
    assert code == 1 and lines[-1].strip() == f"all 150 bad rows, with their reasons: {rejects}"
    assert len(rejects.read_text(encoding="utf-8-sig").splitlines()) == 1 + 150
    code, _, err = run("import", "branches", str(bad), env=ZH)
    assert err.strip().splitlines()[-1].strip() == (
        "……另有 50 处（--rejects 文件 可把每个错误行连同原因写入文件）"
    )
    # On a Chinese terminal the file says why in Chinese too (it was English before), and
    # imports again as it is once the rows are fixed (its added columns are ignored).
    run("import", "branches", str(bad), "--rejects", str(rejects), env=ZH)
    table = list(csv.reader(io.StringIO(rejects.read_text(encoding="utf-8-sig"))))
    assert table[0][-3:] == ["行号", "出错列", "原因"], table[0]
    assert re.search("[\u4e00-\u9fff]", table[1][-1]) and not re.search("[a-z]{4}", table[1][-1]), (
        table[1]
    )
    with session_scope(engine) as session:
        assert inventory.list_branches(session, SYSTEM)[1] == 0


def test_unknown_kind_and_missing_file_fail_in_one_line(engine: Engine, tmp_path: Path) -> None:
    code, _, err = run("import", "widgets", str(write(tmp_path / "w.csv", "a\n1\n")))
    assert code == 1
    assert err.strip() == (
        "error: unknown kind 'widgets'; use branches, staff, markets, merchants or terminals"
    )
    code, _, err = run("import", "branches", str(tmp_path / "missing.csv"))
    assert code == 2
    assert "does not exist" in err


def test_user_create_makes_a_user_who_can_sign_in(session: Session) -> None:
    factories.branch(session, "LY", level="city")
    session.commit()
    code, out, _ = run(
        "user",
        "create",
        "wang",
        "--role",
        "field",
        "--branch",
        "LY",
        "--password",
        "long-enough-9",
        "--full-name",
        "王芳",
    )
    assert (code, out.strip()) == (0, "user wang (Field officer) created at branch LY")
    with session_scope() as check:
        assert auth.authenticate(check, "wang", "long-enough-9").full_name == "王芳"
    code, _, err = run(
        "user", "create", "wang", "--role", "field", "--branch", "LY", "--password", "long-enough-9"
    )
    assert (code, err.strip()) == (1, "error: user wang already exists")
    code, _, err = run("user", "create", "li", "--role", "boss", "--branch", "LY")
    assert code == 2
    code, _, err = run(
        "user", "create", "li", "--role", "field", "--branch", "LY", "--password", "short"
    )
    assert (code, err.strip()) == (1, "error: the password must have at least 8 characters")


@pytest.mark.slow
def test_demo_builds_a_region_and_reports_it(tmp_path: Path, elsewhere: None) -> None:
    db = tmp_path / "demo.db"
    code, out, err = run("demo", "--db", str(db), "--no-serve", "--scale", "0.05")
    assert code == 0, err
    summary = next(line for line in out.splitlines() if line.startswith("demo region (Linyi)"))
    # It says which database later commands should name.
    assert f"export FLEET_DATABASE_URL=sqlite:///{db.resolve()}" in out
    assert "43 branches, 68 staff, 21 markets, 155 merchants, 130 terminals" in summary
    # An English terminal reads fleet's words in English (the logins' too): its Chinese is
    # the data's names, never a sentence of fleet's own.
    assert "demo logins (username / password):" in out
    assert [line for line in out.splitlines() if re.search(r"[：，；（）]", line)] == []
    # The same seed builds the same region again, from scratch.
    code, again, _ = run("demo", "--db", str(db), "--no-serve", "--scale", "0.05")
    assert code == 0
    again_summary = next(x for x in again.splitlines() if x.startswith("demo region (Linyi)"))
    assert again_summary.split(": ", 1)[1] == summary.split(": ", 1)[1]


def _on_database(url: str) -> tuple[int, str, str, str]:
    """Runs `fleet import` and `fleet kpi` against `url`; both must fail alike."""
    use_database(url)
    code, out, err = run("import", "branches", "branches.csv")
    kpi_code, _, kpi_err = run("kpi")
    assert (kpi_code, kpi_err) == (code, err)
    return code, out, err, url


@pytest.mark.parametrize("empty_file", [False, True], ids=["missing", "empty"])
def test_a_database_not_set_up_is_one_line_with_the_fix_and_no_new_file(
    tmp_path: Path, elsewhere: None, empty_file: bool
) -> None:
    db = tmp_path / "fleet.db"
    if empty_file:
        db.touch()
    code, out, err, _ = _on_database(f"sqlite:///{db}")
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: the database sqlite:///{db} is not set up")
    assert "`fleet db upgrade`" in err and "FLEET_DATABASE_URL=sqlite:///" in err
    assert db.exists() == empty_file and not Path(f"{db}-wal").exists()
    # --help needs no database; `fleet db upgrade` sets it up, and then the command runs.
    assert run("import", "--help")[0] == 0
    assert run("db", "upgrade")[0] == 0
    assert run("score", "--json")[0] == 0


def test_a_database_with_no_tables_says_so(tmp_path: Path, elsewhere: None) -> None:
    db = tmp_path / "fleet.db"
    sqlite3.connect(db).execute("CREATE TABLE IF NOT EXISTS x (a)").connection.close()
    sqlite3.connect(db).execute("DROP TABLE x").connection.close()
    code, _, err, _ = _on_database(f"sqlite:///{db}")
    assert code == 1 and err.startswith("error: the database") and "has no tables" in err


def test_an_unreachable_database_is_one_line(engine: Engine, elsewhere: None) -> None:
    url = make_url(os.environ["FLEET_DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        missing = url.set(database=str(Path(url.database or "x").parent / "nowhere" / "f.db"))
    else:
        missing = url.set(database="fleet_t17_no_such_database")
    code, out, err, _ = _on_database(missing.render_as_string(hide_password=False))
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith(("error: the database", "error: cannot reach the database"))
    assert "Traceback" not in err
