"""who held each merchant from which day (pay counts a moved portfolio by days held)

Revision ID: merchant_holder
Revises: ingest_run_branch
Create Date: 2026-12-06 19:40:00.000000

Filled from what is known: each merchant's staff member at creation held it since ever
(2000-01-01), and every change of its staff member in the audit log (an update's
`staff_id: [old, new]`, on the local day of the entry) closes one hold and opens the next.
A merchant whose log is gone is held by its staff member of today since ever.
"""

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = 'merchant_holder'
down_revision: str | None = 'ingest_run_branch'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SINCE_EVER = date(2000, 1, 1)
ZONE = ZoneInfo('Asia/Shanghai')


def _day(value: object) -> date:
    stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return stamp.astimezone(ZONE).date()


def upgrade() -> None:
    holder = op.create_table('merchant_holder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('merchant_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('held_from', sa.Date(), nullable=False),
    sa.Column('held_to', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_merchant_holder_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['staff_id'], ['user.id'], name=op.f('fk_merchant_holder_staff_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant_holder')),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('merchant_holder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_holder_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_merchant_holder_staff_id'), ['staff_id'], unique=False)
    bind = op.get_bind()
    merchants = {
        code: (mid, staff) for mid, code, staff in bind.execute(sa.text('SELECT id, code, staff_id FROM merchant'))
    }
    users = {uid for (uid,) in bind.execute(sa.text('SELECT id FROM "user"'))}
    changes: dict[int, list[tuple[date, int | None, int | None]]] = defaultdict(list)
    logged = bind.execute(sa.text(
        "SELECT entity_id, at, changes FROM audit_log WHERE entity = 'merchant' "
        "AND action IN ('update', 'hand_over') ORDER BY at, id"
    ))
    for code, at, raw in logged:
        found = json.loads(raw) if isinstance(raw, str) else raw
        moved = (found or {}).get('staff_id')
        if code in merchants and isinstance(moved, list) and len(moved) == 2:
            day = date.fromisoformat(found['from']) if 'from' in found else _day(at)
            changes[merchants[code][0]].append((day, moved[0], moved[1]))
    rows = []
    for mid, staff in merchants.values():
        moves = changes.get(mid, [])
        holder_id = moves[0][1] if moves else staff
        since = SINCE_EVER
        for day, _old, new in moves:
            if holder_id in users and day > since:
                rows.append({'merchant_id': mid, 'staff_id': holder_id, 'held_from': since, 'held_to': day})
            holder_id, since = new, max(day, since)
        if holder_id in users:
            rows.append({'merchant_id': mid, 'staff_id': holder_id, 'held_from': since, 'held_to': None})
    if rows:
        op.bulk_insert(holder, rows)


def downgrade() -> None:
    with op.batch_alter_table('merchant_holder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_holder_staff_id'))
        batch_op.drop_index(batch_op.f('ix_merchant_holder_merchant_id'))
    op.drop_table('merchant_holder')
