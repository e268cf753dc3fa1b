"""pay: the fee schedule, merchants' fee classes, and revenue per terminal, day and type

revenue_day is backfilled from the stored transactions: count and amount of the successful
financial ones. Their fees are zero here because no schedule exists before this revision;
`fleet fees rebuild` prices them once an admin has set one.

Revision ID: pay
Revises: revoked_tokens
Create Date: 2026-12-06 04:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'pay'
down_revision: str | None = 'revoked_tokens'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEE_TYPES = ('transfer', 'card_payment', 'bill_payment')
CLASSES = ('standard', 'preferential', 'non_profit')


def upgrade() -> None:
    op.create_table('fee_rule',
    sa.Column('txn_type', sa.Enum(*FEE_TYPES, name='feetype', native_enum=False, length=30), nullable=False),
    sa.Column('merchant_class', sa.Enum(*CLASSES, name='merchantclass', native_enum=False, length=30), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('effective_to', sa.Date(), nullable=True),
    sa.Column('rate_ppm', sa.Integer(), nullable=False),
    sa.Column('fixed_fen', sa.Integer(), nullable=False),
    sa.Column('min_fen', sa.Integer(), nullable=False),
    sa.Column('cap_fen', sa.Integer(), nullable=True),
    sa.Column('network_ppm', sa.Integer(), nullable=False),
    sa.Column('network_cap_fen', sa.Integer(), nullable=True),
    sa.Column('issuer_ppm', sa.Integer(), nullable=False),
    sa.Column('issuer_cap_fen', sa.Integer(), nullable=True),
    sa.Column('example', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rule'))
    )
    op.create_table('merchant_fee_class',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('merchant_class', sa.Enum(*CLASSES, name='merchantclass', native_enum=False, length=30), nullable=False),
    sa.Column('updated_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_merchant_fee_class_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_merchant_fee_class'))
    )
    op.create_table('revenue_day',
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('txn_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('txn_count', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('fee_fen', sa.BigInteger(), nullable=False),
    sa.Column('net_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_revenue_day_terminal_id_terminal')),
    sa.PrimaryKeyConstraint('terminal_id', 'day', 'txn_type', name=op.f('pk_revenue_day')),
    sqlite_with_rowid=False,
    )
    with op.batch_alter_table('revenue_day', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_revenue_day_day'), ['day'], unique=False)
    types = ', '.join(f"'{t}'" for t in FEE_TYPES)
    op.execute(
        'INSERT INTO revenue_day (terminal_id, day, txn_type, txn_count, amount_fen, fee_fen, '
        'net_fen) SELECT terminal_id, day, txn_type, count(*), sum(amount_fen), 0, 0 FROM txn '
        f"WHERE status = 'success' AND txn_type IN ({types}) GROUP BY terminal_id, day, txn_type"
    )


def downgrade() -> None:
    with op.batch_alter_table('revenue_day', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_revenue_day_day'))
    op.drop_table('revenue_day')
    op.drop_table('merchant_fee_class')
    op.drop_table('fee_rule')
