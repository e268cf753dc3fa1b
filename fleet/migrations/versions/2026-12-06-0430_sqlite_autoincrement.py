"""ids never reused on SQLite: AUTOINCREMENT on every table's integer primary key

Without it SQLite hands the id of a deleted newest row to the next one (a deleted campaign's id,
and with it its audit history, went to the next campaign; a re-planned day's visit ids went to
other visits). Each such table is copied into one declared `INTEGER PRIMARY KEY AUTOINCREMENT`
(batch mode), with its rows, indexes and constraints. PostgreSQL's sequences never go back:
nothing to do there.

Revision ID: sqlite_autoincrement
Revises: data_coverage
Create Date: 2026-12-06 04:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'sqlite_autoincrement'
down_revision: str | None = 'data_coverage'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tables(autoincrement: bool) -> list[str]:
    """The tables whose key is one INTEGER column that SQLite numbers (the rowid), with or
    without AUTOINCREMENT."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    found = []
    rows = bind.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
    )
    for name, sql in rows.all():
        key = inspector.get_pk_constraint(name)["constrained_columns"]
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        if len(key) != 1 or not isinstance(columns[key[0]]["type"], sa.Integer):
            continue
        if any(key == fk["constrained_columns"] for fk in inspector.get_foreign_keys(name)):
            continue  # the key is another table's id (campaign_placement), not made here
        if ("AUTOINCREMENT" in sql.upper()) == autoincrement:
            found.append(name)
    return found


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _tables(autoincrement=not autoincrement):
        with op.batch_alter_table(
            name, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _recreate(autoincrement=True)


def downgrade() -> None:
    _recreate(autoincrement=False)
