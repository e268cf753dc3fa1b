"""terminal_day.failed_count: the day's failed transactions, for after-sales' failed share

Revision ID: terminal_day_failed
Revises: phrases
Create Date: 2026-12-06 21:00:00.000000

Existing rollups get theirs from the transactions already stored (one pass over `txn`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'terminal_day_failed'
down_revision: str | None = 'phrases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('terminal_day', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('failed_count', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(
        "UPDATE terminal_day SET failed_count = f.n FROM ("
        "SELECT terminal_id, day, count(*) AS n FROM txn WHERE status = 'failed' "
        "GROUP BY terminal_id, day) AS f "
        "WHERE terminal_day.terminal_id = f.terminal_id AND terminal_day.day = f.day"
    )


def downgrade() -> None:
    with op.batch_alter_table('terminal_day', schema=None) as batch_op:
        batch_op.drop_column('failed_count')
