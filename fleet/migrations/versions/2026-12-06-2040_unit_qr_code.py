"""unit qr code: the merchant's QR sticker codes and the QR page's rate-limit counts

Revision ID: unit_qr_code
Revises: contracts
Create Date: 2026-12-06 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'unit_qr_code'
down_revision: str | None = 'contracts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('unit_qr_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('issued_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('issued_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('revoked_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_unit_qr_code_terminal_id_terminal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit_qr_code')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('unit_qr_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_qr_code_terminal_id'), ['terminal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_qr_code_token'), ['token'], unique=True)

    op.create_table('qr_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qr_attempt')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('qr_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_qr_attempt_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_qr_attempt_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('qr_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_qr_attempt_key'))
        batch_op.drop_index(batch_op.f('ix_qr_attempt_at'))
    op.drop_table('qr_attempt')
    with op.batch_alter_table('unit_qr_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_qr_code_token'))
        batch_op.drop_index(batch_op.f('ix_unit_qr_code_terminal_id'))
    op.drop_table('unit_qr_code')
