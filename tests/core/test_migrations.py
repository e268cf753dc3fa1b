"""The migrations build exactly the schema the models describe, on the database under test."""

from __future__ import annotations

from alembic import command
from sqlalchemy.engine import Engine

from fleet.migrations import alembic_config, current_head
from tests.conftest import TEST_URL


def test_models_and_migrations_agree(engine: Engine) -> None:
    command.check(alembic_config(TEST_URL))  # raises when autogenerate would find a change


def test_one_head() -> None:
    assert current_head() is not None
