"""terminal_day clustered by its key on SQLite (WITHOUT ROWID)

A terminal's days then sit side by side in the table itself: scoring reads them in one pass
instead of one row lookup each, and an ingest's rollup upsert writes one B-tree, not two.
PostgreSQL has no rowid and is left as it is.

Revision ID: terminal_day_clustered
Revises: setting_overrides
Create Date: 2026-11-28 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'terminal_day_clustered'
down_revision: str | None = 'setting_overrides'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = 'terminal_id, day, txn_count, amount_fen, other_count'


def _rebuild(with_rowid: bool) -> None:
    op.create_table('terminal_day_rebuilt',
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('txn_count', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('other_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_terminal_day_terminal_id_terminal')),
    sa.PrimaryKeyConstraint('terminal_id', 'day', name=op.f('pk_terminal_day')),
    sqlite_with_rowid=with_rowid,
    )
    op.execute(
        f'INSERT INTO terminal_day_rebuilt ({COLUMNS}) SELECT {COLUMNS} FROM terminal_day '
        'ORDER BY terminal_id, day'
    )
    op.drop_index(op.f('ix_terminal_day_day'), table_name='terminal_day')
    op.drop_table('terminal_day')
    op.rename_table('terminal_day_rebuilt', 'terminal_day')
    op.create_index(op.f('ix_terminal_day_day'), 'terminal_day', ['day'], unique=False)


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(with_rowid=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _rebuild(with_rowid=True)
