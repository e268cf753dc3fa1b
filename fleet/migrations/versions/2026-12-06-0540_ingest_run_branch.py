"""the branches each ingest run accepted transactions for (who may see the run)

Revision ID: ingest_run_branch
Revises: pay
Create Date: 2026-12-06 05:40:00.000000

Existing runs get theirs from the transactions they brought (one pass over `txn`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'ingest_run_branch'
down_revision: str | None = 'pay'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ingest_run_branch',
    sa.Column('ingest_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_ingest_run_branch_branch_id_branch')),
    sa.ForeignKeyConstraint(['ingest_id'], ['ingest_run.id'], name=op.f('fk_ingest_run_branch_ingest_id_ingest_run')),
    sa.PrimaryKeyConstraint('ingest_id', 'branch_id', name=op.f('pk_ingest_run_branch'))
    )
    with op.batch_alter_table('ingest_run_branch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ingest_run_branch_branch_id'), ['branch_id'], unique=False)
    op.execute(
        'INSERT INTO ingest_run_branch (ingest_id, branch_id) '
        'SELECT DISTINCT x.ingest_id, t.branch_id FROM txn x '
        'JOIN terminal t ON t.id = x.terminal_id '
        'JOIN ingest_run r ON r.id = x.ingest_id'
    )


def downgrade() -> None:
    with op.batch_alter_table('ingest_run_branch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ingest_run_branch_branch_id'))
    op.drop_table('ingest_run_branch')
