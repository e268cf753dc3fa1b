"""contract_line.from_contract_id: a clawback carried from the contractor's earlier contract

Revision ID: contract_line_from
Revises: terminal_day_failed
Create Date: 2026-12-06 23:00:00.000000

A unit credited as activated in a contract's months that falls back after the contract ended
is taken back in the same contractor's next contract; its line names the contract it came from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'contract_line_from'
down_revision: str | None = 'terminal_day_failed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite copies the table to add the key: keep its ids never reused (AUTOINCREMENT).
    with op.batch_alter_table(
        'contract_line', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(sa.Column('from_contract_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_contract_line_from_contract_id_contract', 'contract', ['from_contract_id'], ['id']
        )


def downgrade() -> None:
    # SQLite copies the table to add the key: keep its ids never reused (AUTOINCREMENT).
    with op.batch_alter_table(
        'contract_line', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_constraint('fk_contract_line_from_contract_id_contract', type_='foreignkey')
        batch_op.drop_column('from_contract_id')
