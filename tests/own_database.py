"""A database of a migration test's own, of the kind under test: a SQLite file, or a
PostgreSQL database beside the test database (dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.conftest import TEST_URL


@contextmanager
def own_database(tmp_path: Path, suffix: str) -> Iterator[str]:
    """The URL of an empty database named after the test database and `suffix`."""
    if not TEST_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / f'{suffix}.db'}"
        return
    import psycopg

    parsed = make_url(TEST_URL)
    name = f"{parsed.database}_{suffix}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
