"""after-sales: fault tickets, spares, vendor repairs, contractors

Revision ID: aftersales
Revises: sqlite_autoincrement
Create Date: 2026-12-06 04:26:23.462547
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'aftersales'
down_revision: str | None = 'sqlite_autoincrement'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contractor',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sa.Enum('company', 'person', name='contractorkind', native_enum=False, length=30), nullable=False),
    sa.Column('annual_fee_per_outlet', sa.Float(), nullable=False),
    sa.Column('fee_per_ticket', sa.Float(), nullable=False),
    sa.Column('penalty_per_breach', sa.Float(), nullable=False),
    sa.Column('created_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contractor')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('contractor', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contractor_code'), ['code'], unique=True)

    op.create_table('contractor_branch',
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_contractor_branch_branch_id_branch')),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_contractor_branch_contractor_id_contractor')),
    sa.PrimaryKeyConstraint('contractor_id', 'branch_id', name=op.f('pk_contractor_branch'))
    )
    op.create_table('statement_sign_off',
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('amount_due', sa.Float(), nullable=False),
    sa.Column('signed_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('signed_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_statement_sign_off_contractor_id_contractor')),
    sa.PrimaryKeyConstraint('contractor_id', 'month', name=op.f('pk_statement_sign_off'))
    )
    op.create_table('contractor_staff',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('contractor_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contractor_id'], ['contractor.id'], name=op.f('fk_contractor_staff_contractor_id_contractor')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_contractor_staff_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_contractor_staff'))
    )
    with op.batch_alter_table('contractor_staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contractor_staff_contractor_id'), ['contractor_id'], unique=False)

    op.create_table('spare_unit',
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('marked_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('marked_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_spare_unit_branch_id_branch')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_spare_unit_terminal_id_terminal')),
    sa.PrimaryKeyConstraint('terminal_id', name=op.f('pk_spare_unit'))
    )
    with op.batch_alter_table('spare_unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_spare_unit_branch_id'), ['branch_id'], unique=False)

    op.create_table('fault_ticket',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=True),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('field_visit', 'phone', 'qr', 'feed', 'service', name='ticketsource', native_enum=False, length=30), nullable=False),
    sa.Column('symptom', sa.Enum('phone_line', 'card_reader', 'printer', 'keypad', 'display', 'power', 'key_injection', 'tampering', 'other', name='symptom', native_enum=False, length=30), nullable=False),
    sa.Column('priority', sa.Enum('high', 'normal', 'low', name='priority', native_enum=False, length=30), nullable=False),
    sa.Column('area', sa.Enum('town', 'rural', name='area', native_enum=False, length=30), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('state', sa.Enum('suspected', 'open', 'assigned', 'on_site', 'awaiting_parts', 'at_vendor', 'restored', 'closed', 'cancelled', name='ticketstate', native_enum=False, length=30), nullable=False),
    sa.Column('state_since', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('opened_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('opened_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('respond_by', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_site_by', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('restore_by', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_since', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_hours', sa.Float(), nullable=False),
    sa.Column('responded_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('on_site_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('restored_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('breached_response', sa.Boolean(), nullable=False),
    sa.Column('breached_on_site', sa.Boolean(), nullable=False),
    sa.Column('breached_restore', sa.Boolean(), nullable=False),
    sa.Column('repeat_of_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Enum('repaired_on_site', 'swapped', 'sent_to_vendor', 'no_fault_found', 'merchant_caused', name='resolution', native_enum=False, length=30), nullable=True),
    sa.Column('resolution_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('parts_cost', sa.Float(), nullable=False),
    sa.Column('labour_minutes', sa.Integer(), nullable=False),
    sa.Column('travel_km', sa.Float(), nullable=False),
    sa.Column('vendor_fee', sa.Float(), nullable=False),
    sa.Column('spare_terminal_id', sa.Integer(), nullable=True),
    sa.Column('suspicion', sa.JSON(), nullable=True),
    sa.Column('verified_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('callback_due', sa.Boolean(), nullable=False),
    sa.Column('updated_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['user.id'], name=op.f('fk_fault_ticket_assignee_id_user')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_fault_ticket_branch_id_branch')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_fault_ticket_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_fault_ticket_opened_by_id_user')),
    sa.ForeignKeyConstraint(['repeat_of_id'], ['fault_ticket.id'], name=op.f('fk_fault_ticket_repeat_of_id_fault_ticket')),
    sa.ForeignKeyConstraint(['spare_terminal_id'], ['terminal.id'], name=op.f('fk_fault_ticket_spare_terminal_id_terminal')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_fault_ticket_terminal_id_terminal')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_fault_ticket_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_ticket')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('fault_ticket', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fault_ticket_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fault_ticket_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fault_ticket_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fault_ticket_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_fault_ticket_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_fault_ticket_terminal_id'), ['terminal_id'], unique=False)
        batch_op.create_index('uq_fault_ticket_live_terminal', ['terminal_id'], unique=True, sqlite_where=sa.text("state NOT IN ('closed', 'cancelled')"), postgresql_where=sa.text("state NOT IN ('closed', 'cancelled')"))

    op.create_table('fault_ticket_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('from_state', sa.Enum('suspected', 'open', 'assigned', 'on_site', 'awaiting_parts', 'at_vendor', 'restored', 'closed', 'cancelled', name='ticketstate', native_enum=False, length=30), nullable=True),
    sa.Column('to_state', sa.Enum('suspected', 'open', 'assigned', 'on_site', 'awaiting_parts', 'at_vendor', 'restored', 'closed', 'cancelled', name='ticketstate', native_enum=False, length=30), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user.id'], name=op.f('fk_fault_ticket_event_actor_id_user')),
    sa.ForeignKeyConstraint(['ticket_id'], ['fault_ticket.id'], name=op.f('fk_fault_ticket_event_ticket_id_fault_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fault_ticket_event')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('fault_ticket_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fault_ticket_event_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('vendor_repair',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('terminal_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('vendor', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('sent_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('returned_at', fleet.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('in_stock', 'retired', name='repairoutcome', native_enum=False, length=30), nullable=True),
    sa.Column('cost', sa.Float(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_vendor_repair_branch_id_branch')),
    sa.ForeignKeyConstraint(['terminal_id'], ['terminal.id'], name=op.f('fk_vendor_repair_terminal_id_terminal')),
    sa.ForeignKeyConstraint(['ticket_id'], ['fault_ticket.id'], name=op.f('fk_vendor_repair_ticket_id_fault_ticket')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vendor_repair')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('vendor_repair', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vendor_repair_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_vendor_repair_terminal_id'), ['terminal_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vendor_repair', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_repair_terminal_id'))
        batch_op.drop_index(batch_op.f('ix_vendor_repair_branch_id'))

    op.drop_table('vendor_repair')
    with op.batch_alter_table('fault_ticket_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fault_ticket_event_ticket_id'))

    op.drop_table('fault_ticket_event')
    with op.batch_alter_table('fault_ticket', schema=None) as batch_op:
        batch_op.drop_index('uq_fault_ticket_live_terminal', sqlite_where=sa.text("state NOT IN ('closed', 'cancelled')"), postgresql_where=sa.text("state NOT IN ('closed', 'cancelled')"))
        batch_op.drop_index(batch_op.f('ix_fault_ticket_terminal_id'))
        batch_op.drop_index(batch_op.f('ix_fault_ticket_state'))
        batch_op.drop_index(batch_op.f('ix_fault_ticket_opened_at'))
        batch_op.drop_index(batch_op.f('ix_fault_ticket_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_fault_ticket_branch_id'))
        batch_op.drop_index(batch_op.f('ix_fault_ticket_assignee_id'))

    op.drop_table('fault_ticket')
    with op.batch_alter_table('spare_unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_spare_unit_branch_id'))

    op.drop_table('spare_unit')
    with op.batch_alter_table('contractor_staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contractor_staff_contractor_id'))

    op.drop_table('contractor_staff')
    op.drop_table('statement_sign_off')
    op.drop_table('contractor_branch')
    with op.batch_alter_table('contractor', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contractor_code'))

    op.drop_table('contractor')
