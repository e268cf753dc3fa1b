"""A lock wait that runs out on SQLite is "busy, retry", not "unreachable": the API answers 503
with code `busy` and Retry-After, in the caller's language; the pages say so too; the CLI says
it in one line. (PostgreSQL waits on row locks instead of refusing: nothing to test there.)"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from fleet.cli.main import app as cli
from fleet.core.db import session_scope
from fleet.core.errors import Busy
from fleet.inventory.models import Branch
from tests import factories
from tests.terminal import EN

BUSY_EN = "the database is busy with another change; try again in a few seconds"
BUSY_ZH = "数据库正忙于处理其他修改，请几秒后重试"


@pytest.fixture
def short_lock_wait(engine: Engine) -> Iterator[None]:
    """The suite's database, with connections that wait 0.2 s for a lock instead of 10 s."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's lock waits only")

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=200")
        cursor.close()

    event.listen(engine, "connect", impatient)
    engine.dispose()
    yield
    event.remove(engine, "connect", impatient)
    engine.dispose()


@contextmanager
def write_lock_held(engine: Engine) -> Iterator[None]:
    """Another process's long write transaction (as a nightly job's used to be)."""
    other = sqlite3.connect(str(engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_write_that_waits_out_the_lock_is_busy(engine: Engine, short_lock_wait: None) -> None:
    refused = pytest.raises(Busy, match="busy with another change")
    with write_lock_held(engine), refused, session_scope(engine) as session:
        factories.branch(session, "Z", level="city")
    with session_scope(engine) as session:
        assert session.execute(select(Branch)).first() is None  # nothing half-written


def test_the_api_answers_busy_with_retry_after_in_the_callers_language(
    client: TestClient, as_user: Any, engine: Engine, short_lock_wait: None
) -> None:
    ops = as_user("branch_ops_a")
    body = {"code": "M100", "name": "鑫源五金商行", "branch_code": "A1"}
    with write_lock_held(engine):
        english = client.post("/api/v1/merchants", headers=ops, json=body)
        chinese = client.post(
            "/api/v1/merchants", headers=ops | {"Accept-Language": "zh-CN"}, json=body
        )
    assert english.status_code == 503
    assert english.headers["Retry-After"] == "2"
    assert english.json()["error"]["code"] == "busy"
    assert english.json()["error"]["message"] == BUSY_EN
    assert (chinese.status_code, chinese.json()["error"]["message"]) == (503, BUSY_ZH)
    # And once the other writer is done, the same request goes through.
    assert client.post("/api/v1/merchants", headers=ops, json=body).status_code == 201


def test_the_pages_say_busy_in_the_users_language(
    client: TestClient, world: Any, engine: Engine, short_lock_wait: None
) -> None:
    with write_lock_held(engine):
        page = client.post(
            "/login",
            data={"username": "branch_ops_a", "password": factories.PASSWORD},
            headers={"Accept-Language": "zh-CN"},
            follow_redirects=False,
        )
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "2"
    assert page.headers["content-type"].startswith("text/html")
    assert BUSY_ZH in page.text


def test_the_cli_says_busy_in_one_line(
    engine: Engine, short_lock_wait: None, tmp_path: Path
) -> None:
    branches = tmp_path / "branches.csv"
    branches.write_text("code,name,level,parent_code\nLY,临沂分行,city,\n", encoding="utf-8")
    with write_lock_held(engine):
        result = CliRunner().invoke(cli, ["import", "branches", str(branches)], env=EN)
    assert result.exit_code == 1
    assert result.stderr == f"error: {BUSY_EN}\n"


def test_a_lock_wait_past_postgresqls_lock_timeout_is_busy(engine: Engine) -> None:
    """PostgreSQL waits on locks with no limit unless lock_timeout is set (a deployment may
    set it); when it runs out, the answer is the same "busy, retry"."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's lock_timeout only")
    with engine.connect() as other:
        other.execute(text("LOCK TABLE branch IN ACCESS EXCLUSIVE MODE"))
        refused = pytest.raises(Busy, match="busy with another change")
        with refused, session_scope(engine) as session:
            session.execute(text("SET LOCAL lock_timeout = '200ms'"))
            factories.branch(session, "Z", level="city")
        other.rollback()
