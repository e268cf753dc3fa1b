"""`fleet db backup` / `restore`: a snapshot taken while fleet runs restores to the same data,
and a restore replaces what was there; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.backup import backup, restore
from fleet.core.db import session_scope
from tests import factories
from tests.conftest import TEST_URL
from tests.terminal import EN


@pytest.fixture
def scratch_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's, to restore into."""
    if not TEST_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    import psycopg

    parsed = make_url(TEST_URL)
    name = f"{parsed.database}_restore"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parsed.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def branch_codes(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT code FROM branch ORDER BY code")).scalars())
    finally:
        engine.dispose()


def test_a_backup_restores_to_the_same_data(
    engine: Engine, tmp_path: Path, scratch_url: str
) -> None:
    with session_scope(engine) as session:
        factories.two_branches(session)
    saved = backup(TEST_URL, tmp_path / "fleet.backup")
    assert saved.stat().st_size > 0
    restore(scratch_url, saved)
    assert branch_codes(scratch_url) == ["A", "A1", "B", "B1", "LY"]

    # Restoring again replaces what changed since.
    other = create_engine(scratch_url)
    with other.begin() as conn:
        conn.execute(text("UPDATE branch SET name = 'renamed' WHERE code = 'LY'"))
    other.dispose()
    restore(scratch_url, saved)
    engine2 = create_engine(scratch_url)
    with engine2.connect() as conn:
        assert conn.execute(text("SELECT name FROM branch WHERE code = 'LY'")).scalar_one() == (
            "网点LY"
        )
    engine2.dispose()


def test_the_command_line_backs_up_and_refuses_a_missing_file(
    engine: Engine, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "nightly.backup"
    done = runner.invoke(app, ["db", "backup", str(out)])
    assert done.exit_code == 0, done.output
    assert out.is_file() and "的备份已写入" in done.output  # the default language, Chinese
    missing = runner.invoke(app, ["db", "restore", str(tmp_path / "nope"), "--yes"], env=EN)
    assert missing.exit_code != 0
    assert "no backup at" in missing.output
