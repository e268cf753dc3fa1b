"""suspicion_phrases: a feed-suspected ticket keeps why as a phrase only, not as sentences

fault_ticket.suspicion stored before suspicions had phrases carries the two sentences
`reason_zh` and `reason_en` beside its code and figures: they become `why` (suspect_silent or
suspect_failing, from the same figures; legacy text when the figures are missing), and the
sentences go. A suspected ticket's description (and its opening event's note) was the Chinese
sentence again: it is emptied, since the pages and the command line word `why` in the reader's
language. The downgrade puts the sentences back.

Revision ID: suspicion_phrases
Revises: prospect_phrases
Create Date: 2026-12-06 23:20:00.000000
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'suspicion_phrases'
down_revision: str | None = 'prospect_phrases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Phrase = dict[str, Any]
SILENT = ('silent_days', 'baseline_days', 'active_share')
FAILING = ('recent_days', 'attempts', 'failed', 'failed_share', 'baseline_share')


def _p(code: str, **values: Any) -> Phrase:
    return {'code': code, 'values': values} if values else {'code': code}


def _share(value: Any) -> dict[str, Any]:
    return {'percent': value, 'digits': 0}


def suspicion_why(stored: dict[str, Any]) -> Phrase:
    """What a suspicion's figures say, as the phrase fleet.aftersales.watch makes today."""
    if stored.get('code') == 'silent' and all(k in stored for k in SILENT):
        return _p(
            'suspect_silent', days=stored['silent_days'], baseline=stored['baseline_days'],
            share=_share(stored['active_share']),
        )  # fmt: skip
    if stored.get('code') == 'failed_share' and all(k in stored for k in FAILING):
        return _p(
            'suspect_failing', days=stored['recent_days'], share=_share(stored['failed_share']),
            failed=stored['failed'], attempts=stored['attempts'],
            before=_share(stored['baseline_share']),
        )  # fmt: skip
    zh, en = str(stored.get('reason_zh') or ''), str(stored.get('reason_en') or '')
    return _p('legacy', zh=zh or en, en=en or zh) if zh or en else {}


def _load(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


def _tickets() -> list[Any]:
    return list(
        op.get_bind().execute(
            sa.text(
                'SELECT id, source, description, suspicion FROM fault_ticket '
                'WHERE suspicion IS NOT NULL'
            )
        )
    )


def _set(ticket: int, suspicion: dict[str, Any], description: str | None) -> None:
    bind = op.get_bind()
    bind.execute(
        sa.text('UPDATE fault_ticket SET suspicion = :s WHERE id = :id'),
        {'id': ticket, 's': json.dumps(suspicion, ensure_ascii=False)},
    )
    if description is None:
        return
    old = bind.execute(
        sa.text('SELECT description FROM fault_ticket WHERE id = :id'), {'id': ticket}
    ).scalar_one()
    bind.execute(
        sa.text('UPDATE fault_ticket SET description = :d WHERE id = :id'),
        {'id': ticket, 'd': description},
    )
    bind.execute(
        sa.text(
            'UPDATE fault_ticket_event SET note = :d '
            'WHERE ticket_id = :id AND from_state IS NULL AND note = :old'
        ),
        {'id': ticket, 'd': description, 'old': old},
    )


def upgrade() -> None:
    from fleet.core.i18n import texts_for
    from fleet.core.phrases import say

    zh = texts_for('zh')
    for row in _tickets():
        stored = _load(row.suspicion)
        why = stored.get('why') or suspicion_why(stored)
        # The sentences a feed ticket's description held: the stored one, or today's wording.
        said = {str(stored.get('reason_zh') or '').strip(), say(why, zh).strip()} - {''}
        stored['why'] = why
        stored.pop('reason_zh', None)
        stored.pop('reason_en', None)
        clear = row.source == 'feed' and (row.description or '').strip() in said
        _set(row.id, stored, '' if clear else None)


def downgrade() -> None:
    from fleet.core.i18n import texts_for
    from fleet.core.phrases import say

    zh, en = texts_for('zh'), texts_for('en')
    for row in _tickets():
        stored = _load(row.suspicion)
        why = stored.get('why') or {}
        stored['reason_zh'], stored['reason_en'] = say(why, zh), say(why, en)
        refill = row.source == 'feed' and not (row.description or '').strip()
        _set(row.id, stored, stored['reason_zh'][:1000] if refill else None)
