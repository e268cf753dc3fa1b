"""contractor_terms: a contractor's rates by the month they start from

A contractor's rates (per outlet per year, per ticket, per SLA breach) were three columns of the
contractor, so a renewal at new rates rewrote the statements of every earlier month. They become
terms kept by the month they start from; each contractor's rates become its first terms, from
the month it was added (in China's time), set by whoever added it (from the audit log).
The downgrade puts the latest terms back on the contractor.

Revision ID: contractor_terms
Revises: plan_notes_phrases
Create Date: 2026-12-07 05:00:00.000000
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fleet.core.db

revision: str = 'contractor_terms'
down_revision: str | None = 'plan_notes_phrases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATES = ('annual_fee_per_outlet', 'fee_per_ticket', 'penalty_per_breach')


def _month(moment: object) -> str:
    from fleet.core.config import get_settings

    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(get_settings().feed_timezone)).strftime('%Y-%m')


def upgrade() -> None:
    op.create_table(
        'contractor_terms',
        sa.Column('contractor_id', sa.Integer(), nullable=False),
        sa.Column('from_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column('annual_fee_per_outlet', sa.Float(), nullable=False),
        sa.Column('fee_per_ticket', sa.Float(), nullable=False),
        sa.Column('penalty_per_breach', sa.Float(), nullable=False),
        sa.Column('set_by_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('set_at', fleet.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['contractor_id'], ['contractor.id'],
            name=op.f('fk_contractor_terms_contractor_id_contractor'),
        ),
        sa.PrimaryKeyConstraint('contractor_id', 'from_month', name=op.f('pk_contractor_terms')),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            'SELECT id, code, created_at, annual_fee_per_outlet, fee_per_ticket, '
            'penalty_per_breach FROM contractor'
        )
    ).all()
    terms = []
    for r in rows:
        creator = bind.execute(
            sa.text(
                "SELECT actor_name FROM audit_log WHERE entity = 'contractor' "
                "AND action = 'create' AND entity_id = :code ORDER BY id LIMIT 1"
            ),
            {'code': r.code},
        ).scalar()
        terms.append(
            {
                'contractor_id': r.id,
                'from_month': _month(r.created_at),
                'annual_fee_per_outlet': r.annual_fee_per_outlet,
                'fee_per_ticket': r.fee_per_ticket,
                'penalty_per_breach': r.penalty_per_breach,
                'set_by_name': creator or 'system',
                'set_at': r.created_at,
            }
        )
    if terms:
        bind.execute(
            sa.text(
                'INSERT INTO contractor_terms (contractor_id, from_month, annual_fee_per_outlet, '
                'fee_per_ticket, penalty_per_breach, set_by_name, set_at) VALUES (:contractor_id, '
                ':from_month, :annual_fee_per_outlet, :fee_per_ticket, :penalty_per_breach, '
                ':set_by_name, :set_at)'
            ),
            terms,
        )
    # SQLite copies the table to drop the columns: keep its ids never reused (AUTOINCREMENT).
    with op.batch_alter_table(
        'contractor', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        for name in RATES:
            batch_op.drop_column(name)


def downgrade() -> None:
    with op.batch_alter_table(
        'contractor', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        for name, default in zip(RATES, ('4000', '0', '0'), strict=True):
            batch_op.add_column(
                sa.Column(name, sa.Float(), nullable=False, server_default=sa.text(default))
            )
    bind = op.get_bind()
    latest = bind.execute(
        sa.text(
            'SELECT t.contractor_id, t.annual_fee_per_outlet, t.fee_per_ticket, '
            't.penalty_per_breach FROM contractor_terms t WHERE t.from_month = (SELECT '
            'max(u.from_month) FROM contractor_terms u WHERE u.contractor_id = t.contractor_id)'
        )
    ).all()
    for r in latest:
        bind.execute(
            sa.text(
                'UPDATE contractor SET annual_fee_per_outlet = :a, fee_per_ticket = :f, '
                'penalty_per_breach = :p WHERE id = :id'
            ),
            {'a': r[1], 'f': r[2], 'p': r[3], 'id': r[0]},
        )
    op.drop_table('contractor_terms')
