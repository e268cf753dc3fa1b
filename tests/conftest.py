"""Test database: SQLite file by default, PostgreSQL when FLEET_TEST_DATABASE_URL names one.

The schema is built once per run by the real Alembic migrations; every test starts from
empty tables. `.ci/run` runs the whole suite once per database.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session

_TMP = Path(tempfile.mkdtemp(prefix="fleet-tests-"))
TEST_URL = os.environ.get("FLEET_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'fleet-test.db'}"
os.environ["FLEET_DATABASE_URL"] = TEST_URL
os.environ["FLEET_ENVIRONMENT"] = "test"
os.environ["FLEET_SECRET_KEY"] = "test-secret-key-for-the-suite-only"
os.environ["FLEET_GEOCODER"] = "none"

from fleet import wiring  # noqa: E402
from fleet.core.config import get_settings  # noqa: E402
from fleet.core.db import get_engine, metadata, session_scope  # noqa: E402
from fleet.core.memo import memo  # noqa: E402
from fleet.migrations import upgrade  # noqa: E402


def _fresh_postgres_schema(url: str) -> None:
    import psycopg

    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    name = parsed.database
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(
        parsed.set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
    ) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    get_settings.cache_clear()
    if TEST_URL.startswith("postgresql"):
        _fresh_postgres_schema(TEST_URL)
    upgrade(TEST_URL)
    wiring.plug_in()
    yield get_engine()


@pytest.fixture(autouse=True)
def _empty_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "engine" not in request.fixturenames:
        return
    # Emptying tables behind fleet's back restarts ids, and with them the data version that
    # heavy answers are kept under: forget them.
    memo.clear()
    engine: Engine = request.getfixturevalue("engine")
    tables = [t.name for t in metadata.sorted_tables]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            _empty_postgres(conn, tables)
        else:
            for table in reversed(tables):
                conn.execute(text(f'DELETE FROM "{table}"'))
            # Ids restart, as PostgreSQL's RESTART IDENTITY does (AUTOINCREMENT keeps counting).
            conn.execute(text("DELETE FROM sqlite_sequence"))


# The tables a test wrote to, and the id sequences (owned by a table) it drew from, in one
# query each: most tests touch a few of the ~60 tables.
_USED_SEQUENCES = """
    SELECT quote_ident(n.nspname) || '.' || quote_ident(s.relname)
    FROM pg_class s
    JOIN pg_namespace n ON n.oid = s.relnamespace
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
        AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
    WHERE s.relkind = 'S' AND n.nspname = current_schema()
        -- (CASE: the function must not see the rows of other kinds the plan may try first)
        AND CASE WHEN s.relkind = 'S' THEN pg_sequence_last_value(s.oid) END IS NOT NULL
"""


def _empty_postgres(conn: Connection, tables: list[str]) -> None:
    """Leaves every table empty and every id sequence restarted, as TRUNCATE ... RESTART
    IDENTITY of all the tables would, at a fraction of its cost: TRUNCATE makes new files for
    every table it names (0.2-0.5 s for all of them, after each of ~1,400 tests), where
    deleting the rows of the few tables used costs milliseconds."""
    probe = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
    written = {row[0] for row in conn.execute(text(probe))}
    for table in reversed(tables):  # children before their parents
        if table in written:
            conn.execute(text(f'DELETE FROM "{table}"'))
    for sequence in conn.execute(text(_USED_SEQUENCES)).scalars().all():
        conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture(scope="session")
def app(engine: Engine) -> FastAPI:
    """The API and pages, built once: building them costs ~0.7 s (FastAPI's route models),
    and they keep no state of their own between requests."""
    from fleet.web.app import create_app

    return create_app()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A unit of work that commits at the end of the test, like a request or a CLI command."""
    with session_scope(engine) as s:
        yield s


@pytest.fixture
def db_url(engine: Engine) -> str:
    return TEST_URL


@pytest.fixture
def tmp_dir(tmp_path: Path) -> Path:
    return tmp_path
