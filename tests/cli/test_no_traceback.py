"""No traceback ever reaches a user from the CLI (issue 17, item 6), audited as a hostile user
would: every `fleet` command (walked from the click tree, so a new one is in the matrix by
itself) on a database that is not there, an empty file, a PostgreSQL nobody listens on, a
mistyped FLEET_DATABASE_URL; then missing and unreadable inputs, a folder where a file is
meant, outputs nowhere writable, a file of the wrong kind, wrong types of arguments, a
database gone in the middle of a command, a read-only database, Ctrl-C. Each ends in one line
on stderr, in the terminal's language, with the fix, exit code non-zero, no "Traceback".

In-process through CliRunner (which goes through the group's invoke, where mendable failures
are said, but not through the crash handler of `fleet` itself: any exception CliRunner sees is
one the user would have met as "failed unexpectedly", so it fails here); real subprocesses for
the read-only database and Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from fleet.cli.main import app
from fleet.core.config import get_settings

EN = {"LANG": "en_US.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
ZH = {"LANG": "zh_CN.UTF-8", "LC_ALL": "", "LC_MESSAGES": ""}
FLEET = Path(sys.executable).parent / "fleet"
NOBODY_LISTENS = "postgresql+psycopg://postgres@127.0.0.1:1/fleet_nowhere"
MISTYPED_URLS = [
    "not a url",
    "postgresql://x@host:port/db",  # the port is no number
    "mysql://x@127.0.0.1/db",
    "",
]


def every_command() -> list[list[str]]:
    """The words of every `fleet` command, walked from the click tree."""
    root = typer.main.get_command(app)
    found: list[list[str]] = []

    def walk(command: Any, words: list[str]) -> None:
        if hasattr(command, "list_commands"):
            ctx = typer.Context(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                walk(sub, [*words, name])
        else:
            found.append(words)

    walk(root, [])
    return found


COMMANDS = every_command()


def said(result: Result, *, code: int = 1) -> str:
    """The one line a refused command said: checked for the exit code, no traceback, nothing
    on stdout, one line on stderr; the line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"the user meets an unexpected failure: {result.exception!r}"
    )
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert result.exit_code == code, (result.exit_code, out)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def run(words: list[str], url: str, env: dict[str, str] = EN) -> Result:
    get_settings.cache_clear()
    done = CliRunner().invoke(app, words, env={**env, "FLEET_DATABASE_URL": url})
    get_settings.cache_clear()
    return done


def test_the_matrix_walks_every_command() -> None:
    assert len(COMMANDS) > 40 and ["db", "upgrade"] in COMMANDS and ["demo"] in COMMANDS


@pytest.mark.usefixtures("elsewhere")
def test_every_command_on_a_database_not_there_leaves_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    db = folder / "fleet.db"
    backup = tmp_path / "nightly.backup"
    for words in COMMANDS:
        if words in (["db", "upgrade"], ["db", "restore"], ["demo"]):
            continue  # they make their database (below)
        args = [str(backup)] if words == ["db", "backup"] else []
        line = said(run([*words, *args], f"sqlite:///{db}"))
        assert line.startswith(f"error: the database sqlite:///{db} is not set up"), line
        assert "`fleet db upgrade`" in line
        assert list(folder.iterdir()) == [], (words, list(folder.iterdir()))
    assert not backup.exists()  # no backup of nothing
    # On a Chinese terminal, in Chinese.
    line = said(run(["kpi"], f"sqlite:///{db}", ZH))
    assert line.startswith(f"错误：数据库 sqlite:///{db} 尚未建好"), line


@pytest.mark.usefixtures("elsewhere")
def test_every_command_on_an_empty_file(tmp_path: Path) -> None:
    db = tmp_path / "fleet.db"
    db.write_bytes(b"")
    for words in COMMANDS:
        if words in (["db", "upgrade"], ["db", "restore"], ["demo"]):
            continue
        args = [str(tmp_path / "nightly.backup")] if words == ["db", "backup"] else []
        line = said(run([*words, *args], f"sqlite:///{db}"))
        assert "is not set up (no such file or an empty one)" in line, (words, line)


@pytest.mark.usefixtures("elsewhere")
def test_every_command_on_a_postgresql_nobody_listens_on(tmp_path: Path) -> None:
    for words in COMMANDS:
        args = {
            ("db", "backup"): [str(tmp_path / "out.dump")],
            ("db", "restore"): [str(Path(__file__)), "--yes"],
            ("demo",): ["--no-serve"],
        }.get(tuple(words), [])
        line = said(run([*words, *args], NOBODY_LISTENS))
        if words == ["db", "restore"]:
            assert "pg_restore" in line, line  # its words
            continue
        assert line == (
            f"error: cannot reach the database {NOBODY_LISTENS}: nothing answers at that host "
            "and port; start PostgreSQL there, or correct FLEET_DATABASE_URL"
        ), (words, line)


@pytest.mark.usefixtures("elsewhere")
def test_a_postgresql_server_without_the_database_or_the_user() -> None:
    suite = os.environ["FLEET_DATABASE_URL"]
    if not suite.startswith("postgresql"):
        pytest.skip("needs a PostgreSQL server (the suite's)")
    from sqlalchemy.engine import make_url

    server = make_url(suite)
    no_database = server.set(database="fleet_no_such_database")
    for words in (["kpi"], ["db", "upgrade"]):
        line = said(run(words, no_database.render_as_string(hide_password=False)))
        assert line.startswith(
            "error: the database fleet_no_such_database does not exist on the server of "
        ) and line.endswith(
            "create it (createdb fleet_no_such_database), then run `fleet db upgrade`"
        )
    stranger = server.set(username="fleet_no_such_user", password="x")
    line = said(run(["kpi"], stranger.render_as_string(hide_password=False)))
    assert "refused its user or password: correct them in FLEET_DATABASE_URL" in line, line
    assert ":x@" not in line  # the password stays hidden


@pytest.mark.usefixtures("elsewhere")
def test_a_mistyped_database_url_is_one_line_with_the_form_to_write() -> None:
    for url in MISTYPED_URLS:
        for words in (["kpi"], ["db", "upgrade"], ["serve"], ["demo", "--no-serve"]):
            line = said(run(words, url), code=2)
            assert line == (
                "error: configuration: FLEET_DATABASE_URL is not a database URL fleet can use: "
                "write sqlite:////path/to/fleet.db or postgresql+psycopg://user@host:5432/name"
            ), (url, words, line)
    line = said(run(["kpi"], "not a url", ZH), code=2)
    assert line.startswith("错误：配置有误：FLEET_DATABASE_URL 不是 fleet 能用的数据库地址"), line


@pytest.mark.usefixtures("elsewhere")
def test_a_database_in_a_folder_that_is_not_there(tmp_path: Path) -> None:
    db = tmp_path / "no-such-folder" / "fleet.db"
    for words in (["db", "upgrade"], ["demo", "--no-serve"]):
        line = said(run(words, f"sqlite:///{db}"))
        assert line == (
            f"error: cannot open the database file {db}: its folder must exist and be writable"
        ), line
    assert not db.parent.exists()


@pytest.mark.usefixtures("engine")
def test_files_missing_folders_and_places_nothing_can_be_written(tmp_path: Path) -> None:
    url = os.environ["FLEET_DATABASE_URL"]
    missing = tmp_path / "nope" / "missing.csv"
    folder = tmp_path / "a-folder.csv"
    folder.mkdir()
    nowhere = Path("/proc/fleet-nowhere.csv")  # not even root may write there
    binary = tmp_path / "feed.csv"
    binary.write_bytes(b"SQLite format 3\x00\x10\x00\x01\x01\x00@  \x00\x00\x00\x01")
    # (the words, what the line says): one line each, the fix in it
    cases: list[tuple[list[str], str]] = [
        (["ingest", str(missing)], "is not a file or an http(s) URL"),
        (["ingest", str(folder)], "is not a file or an http(s) URL"),
        (["ingest", str(binary)], "is not a text (CSV) file"),
        (["fees", "set", str(missing)], f"{missing} does not exist: check the path"),
        (["fees", "set", str(folder)], f"{folder} is a folder"),
        (["scorecard", "import", str(folder)], "is not a file"),
        (["db", "restore", str(missing), "--yes"], "no backup at"),
        (["export", "branches", "--out", str(folder)], f"{folder} is a folder"),
        (["export", "branches", "--out", str(nowhere)], f"{nowhere} does not exist"),
        (["db", "backup", str(folder)], f"{folder} is a folder"),
        (["db", "backup", str(nowhere)], "does not exist"),
        (["map", "coverage", "--out", str(nowhere.with_suffix(".html"))], "does not exist"),
    ]
    if url.startswith("sqlite"):  # (PostgreSQL's restore is pg_restore's to refuse)
        cases += [
            (["db", "restore", str(Path(__file__)), "--yes"], "is not a backup written by"),
            (["db", "restore", str(binary), "--yes"], "is not a backup written by"),
        ]
    for words, expected in cases:
        line = said(run(words, url))
        assert line.startswith("error: ") and expected in line, (words, line)
    line = said(run(["export", "branches", "--out", str(tmp_path)], url))
    assert line == f"error: --out {tmp_path.name}: use a .csv or .xlsx file", line
    # an output's folder that is not there yet is made, as every command that writes does
    deeper = tmp_path / "new" / "folder" / "branches.csv"
    done = run(["export", "branches", "--out", str(deeper)], url)
    assert done.exit_code == 0 and deeper.is_file(), done.stderr
    line = said(run(["export", "branches", "--out", str(folder)], url, ZH))
    assert line == f"错误：{folder} 是文件夹：请给出其中一个文件的路径", line
    # The database survived the restores it refused.
    assert run(["jobs", "list"], url).exit_code == 0


@pytest.mark.usefixtures("engine")
def test_wrong_types_of_arguments_are_refused_without_a_traceback() -> None:
    url = os.environ["FLEET_DATABASE_URL"]
    for words in (
        ["serve", "--port", "abc"],
        ["contracts", "show", "abc"],
        ["campaign", "report", "x"],
        ["recovery", "list", "--limit", "many"],
        ["user", "create", "u", "--role", "king", "--branch", "LY01"],
        ["service", "plan", "--branch", "LY01", "--day", "soon"],
        ["import", "branches", "/no/such/file.csv"],
    ):
        done = run(words, url)
        # click's usage error: exit 2, its usage line, what was wrong, how to get help
        assert done.exception is None or isinstance(done.exception, SystemExit), words
        assert done.exit_code == 2 and "Traceback" not in done.stderr, (words, done.stderr)
        assert "--help" in done.stderr
    for words, expected in (
        (["score", "--as-of", "2026-02-30"], "is not a date"),
        (["coverage", "set", "x", "notadate"], "is not a date"),
        (["redeploy", "suggest", "--limit", "0"], "--limit must be at least 1"),
        (["import", "widgets", __file__], "unknown kind 'widgets'"),
        (["import", "branches", __file__], "use a .csv or .xlsx file"),
        (["fees", "set", __file__], "is not a JSON list of fee rows"),
    ):
        assert expected in said(run(words, url)), words


@pytest.mark.usefixtures("elsewhere")
def test_a_database_gone_in_the_middle_of_a_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check before the command passed, then the tables went (a restore, a drop): the
    # first query meets "no such table".
    db = tmp_path / "fleet.db"
    with sqlite3.connect(db) as conn:  # a file, its tables gone
        conn.execute("CREATE TABLE gone (x)")
        conn.execute("DROP TABLE gone")
    conn.close()
    monkeypatch.setattr("fleet.cli.main.database_not_set_up", lambda url: None)
    for words in (["jobs", "list"], ["kpi"], ["export", "branches", "--out", "x.csv"]):
        line = said(run(words, f"sqlite:///{db}"))
        assert line.startswith(f"error: the database sqlite:///{db} is not set up"), line
        assert "`fleet db upgrade`" in line


def _fleet(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    command = [str(FLEET)] if FLEET.is_file() else [sys.executable, "-m", "fleet.cli.main"]
    return subprocess.Popen(
        [*command, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.mark.usefixtures("engine")
def test_a_read_only_database_in_a_real_terminal(tmp_path: Path) -> None:
    if not os.environ["FLEET_DATABASE_URL"].startswith("sqlite"):
        pytest.skip("a read-only file is SQLite's case")
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv is None:
        pytest.skip("root ignores file modes and setpriv is not there to drop that")
    folder = tmp_path / "read-only"
    folder.mkdir()
    db = folder / "fleet.db"
    source = sqlite3.connect(os.environ["FLEET_DATABASE_URL"].removeprefix("sqlite:///"))
    with sqlite3.connect(db) as copy:
        source.backup(copy)
    copy.close()
    source.close()
    db.chmod(0o444)
    folder.chmod(0o555)
    # root keeps file modes only without the capabilities that override them
    prefix = (
        [str(setpriv), "--bounding-set=-dac_override,-dac_read_search,-fowner"]
        if os.geteuid() == 0
        else []
    )
    command = [str(FLEET)] if FLEET.is_file() else [sys.executable, "-m", "fleet.cli.main"]
    try:
        for lang, expected in (
            (EN, f"error: the database file {db} is read-only: fleet must be able to write it"),
            (ZH, f"错误：数据库文件 {db} 是只读的"),
        ):
            done = subprocess.run(
                [*prefix, *command, "score"],
                capture_output=True,
                text=True,
                env={**os.environ, **lang, "FLEET_DATABASE_URL": f"sqlite:///{db}"},
                timeout=120,
                check=False,
            )
            assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
            assert done.stderr.startswith(expected), done.stderr
            assert len(done.stderr.strip().splitlines()) == 1
    finally:
        folder.chmod(0o755)


def test_ctrl_c_says_it_stopped(tmp_path: Path) -> None:
    for lang, expected in ((EN, "error: stopped (Ctrl-C)\n"), (ZH, "错误：已停止（Ctrl-C）\n")):
        running = _fleet(
            "demo",
            "--no-serve",
            "--scale",
            "0.02",
            "--db",
            str(tmp_path / "demo.db"),
            env={**lang, "FLEET_CLI_LOG_FILE": str(tmp_path / "cli.log")},
        )
        assert running.stdout is not None
        running.stdout.readline()  # the demo has begun its steps
        time.sleep(0.5)
        running.send_signal(signal.SIGINT)
        out, err = running.communicate(timeout=120)
        assert running.returncode == 130, (out, err)
        assert err == expected and "Traceback" not in out


# A Ctrl-C that lands while the garbage collector runs a weakref callback (or a finalizer):
# Python prints 'Exception ignored in …' with a traceback and goes on. Seen in CI: the demo
# ran to its end and exited 0 after SIGINT. The callback here raises what the signal would.
CTRL_C_IN_A_CALLBACK = """
import sys, time, weakref
from fleet.cli.main import app

@app.command("ctrl-c-in-a-callback", hidden=True)
def _command() -> None:
    class Thing: ...
    def collected(ref: object) -> None:
        raise KeyboardInterrupt
    thing = Thing()
    kept = weakref.ref(thing, collected)
    del thing
    for _ in range(300):
        time.sleep(0.01)
    print("ran to its end", kept)

sys.argv = ["fleet", "ctrl-c-in-a-callback"]
app()
"""


@pytest.mark.usefixtures("engine")
def test_ctrl_c_in_a_weakref_callback_still_stops_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_IN_A_CALLBACK],
        capture_output=True,
        text=True,
        env={**os.environ, **EN},
        timeout=120,
        check=False,
    )
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert done.stderr == "error: stopped (Ctrl-C)\n" and "ran to its end" not in done.stdout


@pytest.mark.usefixtures("elsewhere")
def test_a_database_of_an_older_schema_says_upgrade(tmp_path: Path) -> None:
    # Fleet upgraded, `fleet db upgrade` forgotten: a column the code reads is not there yet.
    from fleet.core.db import make_engine, metadata
    from fleet.migrations import load_models

    load_models()
    db = tmp_path / "fleet.db"
    engine = make_engine(f"sqlite:///{db}")
    metadata.create_all(engine)
    engine.dispose()
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE feed_source DROP COLUMN enabled")
    conn.close()
    line = said(run(["jobs", "list"], f"sqlite:///{db}"))
    assert line == (
        f"error: the database sqlite:///{db} has an older schema than this fleet: run "
        "`fleet db upgrade` (`fleet db backup FILE` first keeps a copy)"
    ), line


@pytest.mark.usefixtures("engine")
def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    import socket

    url = os.environ["FLEET_DATABASE_URL"]
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        line = said(run(["serve", "--port", port], url))
        assert line == (
            f"error: port {port} on 127.0.0.1 is in use: stop what serves there or choose "
            "another --port"
        ), line
        # the demo says so before it builds for minutes, not after
        db = tmp_path / "demo.db"
        line = said(run(["demo", "--port", port, "--db", str(db)], url))
        assert line.startswith(f"error: port {port} on 127.0.0.1 is in use"), line
        assert not db.exists()
        line = said(run(["serve", "--port", port], url, ZH))
        assert line.startswith(f"错误：127.0.0.1 上的端口 {port} 已被占用"), line
