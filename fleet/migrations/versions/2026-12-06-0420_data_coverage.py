"""data coverage (from which day each source's feed is complete) and the start a score used

Revision ID: data_coverage
Revises: app_secret
Create Date: 2026-12-06 04:20:00.000000

An existing database gets the default source's start from the rollups it holds, by the rule of
fleet.feeds.coverage.derived_start (copied here: a migration must not change with the code).
"""

from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'data_coverage'
down_revision: str | None = 'app_secret'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('data_coverage',
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('origin', sa.Enum('admin', 'derived', name='coverageorigin', native_enum=False, length=30), nullable=False),
    sa.Column('ingest_id', sa.Integer(), nullable=True),
    sa.Column('oldest_day', sa.Date(), nullable=True),
    sa.Column('updated_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('source', name=op.f('pk_data_coverage'))
    )
    with op.batch_alter_table('terminal_score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data_from', sa.Date(), nullable=True))
    _derive_default_start()


def _derive_default_start() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.text('SELECT day, sum(txn_count + other_count) FROM terminal_day GROUP BY day')
    ).all()
    per_day = {date.fromisoformat(str(day)): int(n) for day, n in rows if n}
    if not per_day:
        return
    counts = sorted(per_day.values())
    floor = 0.1 * counts[len(counts) // 2]
    dense = sorted(day for day, n in per_day.items() if n >= floor)
    start = dense[-1]
    for earlier in reversed(dense[:-1]):
        if (start - earlier).days > 7:
            break
        start = earlier
    table = sa.table(
        'data_coverage',
        sa.column('source', sa.String),
        sa.column('starts_on', sa.Date),
        sa.column('origin', sa.String),
        sa.column('oldest_day', sa.Date),
        sa.column('updated_at', fleet.core.db.UTCDateTime(timezone=True)),
        sa.column('updated_by_name', sa.String),
    )
    op.bulk_insert(table, [{
        'source': 'default', 'starts_on': start, 'origin': 'derived', 'oldest_day': min(per_day),
        'updated_at': fleet.core.db.utcnow(), 'updated_by_name': 'migration',
    }])


def downgrade() -> None:
    with op.batch_alter_table('terminal_score', schema=None) as batch_op:
        batch_op.drop_column('data_from')
    op.drop_table('data_coverage')
