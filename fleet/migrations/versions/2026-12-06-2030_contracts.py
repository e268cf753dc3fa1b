"""contracts (承包): terms, members, listed merchants, and the settlements' lines

Revision ID: contracts
Revises: scorecard
Create Date: 2026-12-06 19:30:01.975835
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'contracts'
down_revision: str | None = 'scorecard'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'approved', 'running', 'settled', name='contractstatus', native_enum=False, length=30), nullable=False),
    sa.Column('portfolio_kind', sa.Enum('branch', 'market', 'merchants', name='portfoliokind', native_enum=False, length=30), nullable=False),
    sa.Column('portfolio_branch_id', sa.Integer(), nullable=True),
    sa.Column('portfolio_market_id', sa.Integer(), nullable=True),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('target_active_rate', sa.Float(), nullable=True),
    sa.Column('target_revenue_fen', sa.Integer(), nullable=True),
    sa.Column('commission_ppm', sa.Integer(), nullable=False),
    sa.Column('above_baseline', sa.Boolean(), nullable=False),
    sa.Column('threshold_pct', sa.Integer(), nullable=False),
    sa.Column('cap_pct', sa.Integer(), nullable=False),
    sa.Column('clawback_days', sa.Integer(), nullable=False),
    sa.Column('baseline_net_fen', sa.Integer(), nullable=True),
    sa.Column('baseline_active_rate', sa.Float(), nullable=True),
    sa.Column('created_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('approved_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('settled_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('settled_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('settled_total_fen', sa.Integer(), nullable=True),
    sa.Column('settlement', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by_id'], ['user.id'], name=op.f('fk_contract_approved_by_id_user')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_contract_branch_id_branch')),
    sa.ForeignKeyConstraint(['portfolio_branch_id'], ['branch.id'], name=op.f('fk_contract_portfolio_branch_id_branch')),
    sa.ForeignKeyConstraint(['portfolio_market_id'], ['market.id'], name=op.f('fk_contract_portfolio_market_id_market')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_period_end'), ['period_end'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_period_start'), ['period_start'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_status'), ['status'], unique=False)

    op.create_table('contract_member',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_member_contract_id_contract')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_contract_member_user_id_user')),
    sa.PrimaryKeyConstraint('contract_id', 'user_id', name=op.f('pk_contract_member'))
    )
    with op.batch_alter_table('contract_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_member_user_id'), ['user_id'], unique=False)

    op.create_table('contract_merchant',
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_merchant_contract_id_contract')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_contract_merchant_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('contract_id', 'merchant_id', name=op.f('pk_contract_merchant'))
    )
    with op.batch_alter_table('contract_merchant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_merchant_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('contract_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('unit', 'baseline', 'clawback', name='linekind', native_enum=False, length=30), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=True),
    sa.Column('sn', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('merchant_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('merchant_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('branch_code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('txn_count', sa.Integer(), nullable=False),
    sa.Column('net_fen', sa.Integer(), nullable=False),
    sa.Column('commission_fen', sa.Integer(), nullable=False),
    sa.Column('lapsed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_contract_line_contract_id_contract')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_contract_line_terminal_id_terminal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contract_line')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('contract_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contract_line_contract_id'), ['contract_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('contract_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_line_contract_id'))

    op.drop_table('contract_line')
    with op.batch_alter_table('contract_merchant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_merchant_merchant_id'))

    op.drop_table('contract_merchant')
    with op.batch_alter_table('contract_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_member_user_id'))

    op.drop_table('contract_member')
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contract_status'))
        batch_op.drop_index(batch_op.f('ix_contract_period_start'))
        batch_op.drop_index(batch_op.f('ix_contract_period_end'))
        batch_op.drop_index(batch_op.f('ix_contract_branch_id'))

    op.drop_table('contract')
