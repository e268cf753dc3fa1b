"""pay: the fee schedule, merchants' fee classes, and revenue in terminal_day by type

terminal_day's new columns (per fee-earning type: count, amount, fee; and the bank's net) are
backfilled from the stored transactions: counts and amounts of the successful ones. Their fees
are zero here because no schedule exists before this revision; `fleet fees rebuild` prices
them once an admin has set one.

Revision ID: pay
Revises: aftersales
Create Date: 2026-12-06 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'pay'
down_revision: str | None = 'aftersales'
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
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_rule')),
    sqlite_autoincrement=True,
    )
    op.create_table('merchant_fee_class',
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('merchant_class', sa.Enum(*CLASSES, name='merchantclass', native_enum=False, length=30), nullable=False),
    sa.Column('updated_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_merchant_fee_class_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_merchant_fee_class'))
    )
    for kind in FEE_TYPES:
        op.add_column('terminal_day', sa.Column(f'{kind}_count', sa.Integer(), server_default='0', nullable=False))
        op.add_column('terminal_day', sa.Column(f'{kind}_fen', sa.BigInteger(), server_default='0', nullable=False))
        op.add_column('terminal_day', sa.Column(f'{kind}_fee_fen', sa.BigInteger(), server_default='0', nullable=False))
    op.add_column('terminal_day', sa.Column('net_fen', sa.BigInteger(), server_default='0', nullable=False))
    sets, sums = [], []
    for kind in FEE_TYPES:
        this = f"txn_type = '{kind}' AND status = 'success'"
        sets += [f'{kind}_count = t.{kind}_count', f'{kind}_fen = t.{kind}_fen']
        sums += [
            f'sum(CASE WHEN {this} THEN 1 ELSE 0 END) AS {kind}_count',
            f'sum(CASE WHEN {this} THEN amount_fen ELSE 0 END) AS {kind}_fen',
        ]
    op.execute(
        f"UPDATE terminal_day SET {', '.join(sets)} FROM (SELECT terminal_id, day, "
        f"{', '.join(sums)} FROM txn GROUP BY terminal_id, day) AS t "
        'WHERE terminal_day.terminal_id = t.terminal_id AND terminal_day.day = t.day'
    )


def downgrade() -> None:
    # SQLite (3.35+) and PostgreSQL drop a column alike; a batch copy would lose SQLite's
    # WITHOUT ROWID (see terminal_day_clustered).
    for kind in FEE_TYPES:
        for column in (f'{kind}_count', f'{kind}_fen', f'{kind}_fee_fen'):
            op.execute(f'ALTER TABLE terminal_day DROP COLUMN {column}')
    op.execute('ALTER TABLE terminal_day DROP COLUMN net_fen')
    op.drop_table('merchant_fee_class')
    op.drop_table('fee_rule')
