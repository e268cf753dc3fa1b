"""The migrations build exactly the schema the models describe, on the database under test."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import col, delete, select

from fleet.auth.models import User
from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.db import make_engine, metadata, session_scope
from fleet.inventory.models import Branch
from fleet.migrations import alembic_config, current_head, load_models, upgrade
from tests import factories
from tests.conftest import TEST_URL


def test_models_and_migrations_agree(engine: Engine) -> None:
    command.check(alembic_config(TEST_URL))  # raises when autogenerate would find a change


def test_one_head() -> None:
    assert current_head() is not None


def _autoincrement_tables(url: str) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        found = {name for name, sql in rows if "AUTOINCREMENT" in sql}
    engine.dispose()
    return found


def test_every_table_that_numbers_its_rows_never_reuses_an_id_on_sqlite(tmp_path: Path) -> None:
    """A database the migrations build declares AUTOINCREMENT exactly where the models do: on
    every table whose key SQLite numbers itself."""
    url = f"sqlite:///{tmp_path / 'new.db'}"
    upgrade(url)
    load_models()
    declared = {
        t.name for t in metadata.tables.values() if t.dialect_options["sqlite"]["autoincrement"]
    }
    assert {"campaign", "visit", "audit_log", "user", "txn"} <= declared
    assert _autoincrement_tables(url) == declared


def test_an_existing_sqlite_database_keeps_its_rows_and_links(tmp_path: Path) -> None:
    """Upgrading a database with data copies every table with its rows; the rows that point at
    others still do (foreign keys are checked after), and a deleted newest id stays used."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "revoked_tokens")
    engine = make_engine(url)
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.branch(session, "A", "LY", level="county")
        factories.user(session, "ops_a", Role.branch_ops, "A")
        newest = factories.branch(session, "B", "LY", level="county")
        newest_id = newest.id
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        branches = {b.code: b for b in session.execute(select(Branch)).scalars()}
        user = session.execute(select(User)).scalar_one()
        assert branches["A"].parent_id == branches["LY"].id
        assert user.branch_id == branches["A"].id
        session.execute(delete(AuditEntry).where(col(AuditEntry.branch_id) == newest_id))
        session.delete(branches["B"])
    with session_scope(engine) as session:
        again = factories.branch(session, "C", "LY", level="county")
        assert again.id is not None and newest_id is not None and again.id > newest_id
    engine.dispose()
