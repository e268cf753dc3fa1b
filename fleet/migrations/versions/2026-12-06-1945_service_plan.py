"""service plan: the routed service day

Revision ID: service_plan
Revises: merchant_holder
Create Date: 2026-12-06 19:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'service_plan'
down_revision: str | None = 'merchant_holder'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('service_plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('plan_date', sa.Date(), nullable=False),
    sa.Column('created_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('travel_source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('solver_seconds', sa.Float(), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('distance_m', sa.Integer(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('routes', sa.JSON(), nullable=False),
    sa.Column('unplanned', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_service_plan_branch_id_branch')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_service_plan_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_plan')),
    sa.UniqueConstraint('branch_id', 'plan_date', name='uq_service_plan_branch_day'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('service_plan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_plan_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_plan_plan_date'), ['plan_date'], unique=False)

    op.create_table('service_stop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('plan_date', sa.Date(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('planned_arrival', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('planned_start', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('planned_departure', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('travel_m', sa.Integer(), nullable=False),
    sa.Column('travel_s', sa.Integer(), nullable=False),
    sa.Column('swap', sa.Boolean(), nullable=False),
    sa.Column('due', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['service_plan.id'], name=op.f('fk_service_stop_plan_id_service_plan')),
    sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_service_stop_staff_id_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['fault_ticket.id'], name=op.f('fk_service_stop_ticket_id_fault_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_stop')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('service_stop', schema=None) as batch_op:
        batch_op.create_index('ix_service_stop_day_staff', ['plan_date', 'staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_stop_plan_id'), ['plan_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_stop_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('service_stop', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_stop_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_service_stop_plan_id'))
        batch_op.drop_index('ix_service_stop_day_staff')

    op.drop_table('service_stop')
    with op.batch_alter_table('service_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_plan_plan_date'))
        batch_op.drop_index(batch_op.f('ix_service_plan_branch_id'))

    op.drop_table('service_plan')
