"""visit_ticket_description: a ticket from a field visit without a note stores no sentence

A "device faulty" visit outcome without a note opened its ticket with the English line
"reported faulty at visit 12" as description (and as its opening event's note): a sentence
stored in one language, which Chinese pages showed as it was. The ticket's source (field visit)
and visit_id already say where it came from, so those lines are emptied; a description someone
typed is left alone. The downgrade writes the lines back.

Revision ID: visit_ticket_description
Revises: suspicion_phrases
Create Date: 2026-12-06 23:50:00.000000
"""

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'visit_ticket_description'
down_revision: str | None = 'suspicion_phrases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINE = r'reported faulty at visit (\d+)'


def _tickets() -> list[Any]:
    return list(
        op.get_bind().execute(
            sa.text(
                'SELECT id, visit_id, description FROM fault_ticket '
                "WHERE source = 'field_visit' AND visit_id IS NOT NULL"
            )
        )
    )


def _set(ticket: int, old: str, new: str) -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text('UPDATE fault_ticket SET description = :new WHERE id = :id'),
        {'id': ticket, 'new': new},
    )
    bind.execute(
        sa.text(
            'UPDATE fault_ticket_event SET note = :new '
            'WHERE ticket_id = :id AND from_state IS NULL AND note = :old'
        ),
        {'id': ticket, 'new': new, 'old': old},
    )


def upgrade() -> None:
    for row in _tickets():
        m = re.fullmatch(LINE, (row.description or '').strip())
        if m and int(m.group(1)) == row.visit_id:
            _set(row.id, row.description, '')


def downgrade() -> None:
    for row in _tickets():
        if not (row.description or '').strip():
            _set(row.id, row.description or '', f'reported faulty at visit {row.visit_id}')
