"""phrases: reasons stored as a code and its values (fleet.core.phrases), not as sentences

recovery_request.reason_zh/reason_en, visit.reason_zh/reason_en and lifecycle_event.reason
become one JSON column `why` each; visit_plan.unplanned's entries lose their four sentences
(reason_zh/en, why_zh/en) for `why`. Sentences fleet wrote are read back into their code and
values (the English side, which fleet always wrote in a fixed form); any other text (typed by
a person, or a form this revision does not know) is kept whole as a "legacy" phrase in both
languages, so nothing is lost. The downgrade words the phrases back in Chinese and English.

Revision ID: phrases
Revises: unit_qr_code
Create Date: 2026-12-06 20:50:00.000000
"""

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'phrases'
down_revision: str | None = 'unit_qr_code'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Phrase = dict[str, Any]
DAY = r'(\d{4}-\d{2}-\d{2})'
OUTCOMES = (
    'reached_promised', 'needs_training', 'device_faulty', 'wants_recovery', 'no_need',
    'closed', 'moved', 'not_found', 'recovered',
)
STATES = (
    'in_stock', 'deployed', 'recovery_requested', 'recovery_approved', 'recovered', 'faulty',
    'in_repair', 'retired', 'lost',
)


def _p(code: str, **values: Any) -> Phrase:
    return {'code': code, 'values': values} if values else {'code': code}


def _day(text: str) -> dict[str, str]:
    return {'date': text}


def _legacy(zh: str, en: str = '') -> Phrase:
    return _p('legacy', zh=zh, en=en or zh)


def _note(code: str, note: str | None, **values: Any) -> Phrase:
    return _p(f'{code}_note', note=note, **values) if note else _p(code, **values)


def _visit(text: str) -> Phrase | None:
    """'visit 12: wants_recovery (note)' -> what the visit found (its day is not in the text)."""
    m = re.fullmatch(r'visit \d+: (\w+)(?: \((.*)\))?', text, re.S)
    if not m or m.group(1) not in OUTCOMES:
        return None
    outcome = {'word': 'outcome', 'value': m.group(1)}
    return _note('visit_found', m.group(2), outcome=outcome)


# English sentences fleet wrote for a request's reason, and the phrase each one says.
REQUEST_FORMS: list[tuple[str, Callable[[re.Match[str]], Phrase | None]]] = [
    (r'visit outcome: (.*)', lambda m: _visit(m.group(1))),
    (r'moved to recovery by a visit outcome or by hand', lambda m: _p('moved_to_recovery')),
    (
        r'unused for (\d+) days \(last used ' + DAY + r'\); still unused (\d+) days after the '
        r'revisit on ' + DAY,
        lambda m: _p(
            'rule_dormant_revisited', days=int(m.group(1)), last_used=_day(m.group(2)),
            waited=int(m.group(3)), visit_day=_day(m.group(4)),
        ),
    ),
    (
        r'not used in (\d+) days of data \(data since ' + DAY + r'; deployed on ' + DAY + r'\)',
        lambda m: _p(
            'rule_unused_in_data', days=int(m.group(1)), since=_day(m.group(2)),
            deployed=_day(m.group(3)),
        ),
    ),
    (
        r'never used in the (\d+) days since it was deployed on ' + DAY,
        lambda m: _p('rule_never_used', days=int(m.group(1)), since=_day(m.group(2))),
    ),
    (
        r'visit on ' + DAY + r': the merchant has no need of it; not used since',
        lambda m: _p('rule_no_need', visit_day=_day(m.group(1))),
    ),
    (
        r'visit on ' + DAY + r': asked us to take it; not used since',
        lambda m: _p('rule_wants_recovery', visit_day=_day(m.group(1))),
    ),
    (
        r'the merchant record says the merchant has (closed|moved away)',
        lambda m: _p('rule_closed_record' if m.group(1) == 'closed' else 'rule_moved_record'),
    ),
    (
        r'the visit on ' + DAY + r' says the merchant has (closed|moved away)',
        lambda m: _p(
            'rule_closed_visit' if m.group(2) == 'closed' else 'rule_moved_visit',
            visit_day=_day(m.group(1)),
        ),
    ),
]

# ... and for a lifecycle event's reason.
EVENT_FORMS: list[tuple[str, Callable[[re.Match[str]], Phrase | None]]] = [
    (r'registered', lambda m: _p('registered')),
    (r'registered as deployed', lambda m: _p('registered_deployed')),
    (r'recovery approved(?:: (.*))?', lambda m: _note('recovery_approved', m.group(1))),
    (r'recovery rejected: (.*)', lambda m: _p('recovery_rejected', note=m.group(1))),
    (
        r'recovery deferred until ' + DAY + r'(?:: (.*))?',
        lambda m: _note('recovery_deferred', m.group(2), until=_day(m.group(1))),
    ),
    (
        r'recovery #(\d+) collected by \S+(?:: (.*))?',
        lambda m: _note('recovery_collected', m.group(2), request=int(m.group(1))),
    ),
    (
        r'used again from ' + DAY + r' \((\d+) transactions since the request\)',
        lambda m: _p('used_again', first=_day(m.group(1)), count=int(m.group(2))),
    ),
    (
        r'unit moved to (\w+) elsewhere',
        lambda m: _p('moved_elsewhere', state={'word': 'state', 'value': m.group(1)})
        if m.group(1) in STATES
        else None,
    ),
    (r'second marketing', lambda m: _p('second_marketing')),
    (r'ticket (\d+)', lambda m: _p('fault_ticket', ticket=int(m.group(1)))),
    (r'ticket (\d+): vendor', lambda m: _p('fault_ticket_vendor', ticket=int(m.group(1)))),
    (r'ticket (\d+): cancelled', lambda m: _p('fault_ticket_cancelled', ticket=int(m.group(1)))),
    (r'campaign \d+: (.+)', lambda m: _p('campaign_placed', campaign=m.group(1))),
]

# ... and for one part ("; "-separated) of a visit's reason.
VISIT_FORMS: list[tuple[str, Callable[[re.Match[str]], Phrase | None]]] = [
    (r'recovery approved (\d+) days ago', lambda m: _p('why_recover', days=int(m.group(1)))),
    (
        r'not used in (\d+) days of data \(since ' + DAY + r'\)',
        lambda m: _p('why_unused_in_data', days=int(m.group(1)), since=_day(m.group(2))),
    ),
    (r'never used in (\d+) days', lambda m: _p('why_never_used', days=int(m.group(1)))),
    (r'dormant (\d+) days', lambda m: _p('why_dormant', days=int(m.group(1)))),
    (r'idle (\d+) days', lambda m: _p('why_idle', days=int(m.group(1)))),
    (
        r'use fell to (\d+)% of usual',
        lambda m: _p('why_declining', share={'percent': int(m.group(1)) / 100, 'digits': 0}),
    ),
    (
        r'own (\d+) txns/month, peers (\d+)',
        lambda m: _p('why_monthly', own=int(m.group(1)), peers=int(m.group(2))),
    ),
    (
        r'market (\d+)% active',
        lambda m: _p('why_market_active', rate={'percent': int(m.group(1)) / 100, 'digits': 0}),
    ),
    (r'(\d+) earlier visit\(s\) failed', lambda m: _p('why_failed_visits', n=int(m.group(1)))),
    (r'follow-up (\d+) days overdue', lambda m: _p('why_follow_up_late', days=int(m.group(1)))),
    (r'follow-up due ' + DAY, lambda m: _p('why_follow_up_due', due=_day(m.group(1)))),
    (
        r"campaign '(.*)' in (.*): prospect(?:, bring unit (\S+))?",
        lambda m: _p(
            'parts',
            parts=[_p('why_campaign', campaign=m.group(1), market=m.group(2))]
            + ([_p('why_bring_unit', sn=m.group(3))] if m.group(3) else []),
        ),
    ),
]


def _match(forms: list[tuple[str, Callable[[re.Match[str]], Phrase | None]]], text: str) -> Phrase | None:
    for pattern, make in forms:
        m = re.fullmatch(pattern, text.strip(), re.S)
        if m:
            return make(m)
    return None


def request_phrase(zh: str | None, en: str | None) -> Phrase:
    """A request's two sentences -> its phrase (a person's text, or legacy, when unknown)."""
    zh, en = (zh or '').strip(), (en or '').strip()
    if not zh and not en:
        return {}
    found = _match(REQUEST_FORMS, en) if en else None
    if found is not None:
        return found
    if en == zh or not en:
        return _p('text', text=zh)
    return _legacy(zh, en)


def event_phrase(reason: str | None) -> Phrase:
    """A lifecycle event's reason -> its phrase ('中文 / English' pairs read by their English)."""
    text = (reason or '').strip()
    if not text:
        return {}
    found = _match(EVENT_FORMS, text)
    if found is not None:
        return found
    if ' / ' in text:  # a request's reason, as raise_request joined it
        zh, _, en = text.partition(' / ')
        said = request_phrase(zh, en)
        if said.get('code') != 'legacy':
            return said
        return _legacy(zh.strip(), en.strip())
    said = _match(REQUEST_FORMS, text)
    return said if said is not None else _legacy(text)


def visit_phrase(zh: str | None, en: str | None) -> Phrase:
    """A visit's reason ('; '-separated parts) -> its phrase, or legacy text when any part is
    of a form this revision does not know."""
    zh, en = (zh or '').strip(), (en or '').strip()
    if not zh and not en:
        return {}
    found = [_match(VISIT_FORMS, part) for part in en.split('; ')] if en else [None]
    if all(p is not None for p in found):
        flat: list[Phrase] = []
        for p in found:
            assert p is not None
            flat.extend(p['values']['parts'] if p['code'] == 'parts' else [p])
        return _p('parts', parts=flat)
    return _legacy(zh, en)


def _rows(table: str, columns: str) -> list[Any]:
    return list(op.get_bind().execute(sa.text(f'SELECT id, {columns} FROM {table}')))


def _store(table: str, column: str, values: list[tuple[int, Any]]) -> None:
    if values:
        op.get_bind().execute(
            sa.text(f'UPDATE {table} SET {column} = :v WHERE id = :id'),
            [{'id': i, 'v': json.dumps(v, ensure_ascii=False)} for i, v in values],
        )


def _batch(table: str) -> Any:
    # On SQLite batch mode copies the table: keep its AUTOINCREMENT (every table here has it).
    return op.batch_alter_table(table, table_kwargs={'sqlite_autoincrement': True})


def _add_why(table: str) -> None:
    with _batch(table) as batch_op:
        batch_op.add_column(sa.Column('why', sa.JSON(), nullable=True))


def _require_why(table: str, *dropped: str) -> None:
    op.get_bind().execute(sa.text(f"UPDATE {table} SET why = '{{}}' WHERE why IS NULL"))
    with _batch(table) as batch_op:
        batch_op.alter_column('why', existing_type=sa.JSON(), nullable=False)
        for column in dropped:
            batch_op.drop_column(column)


def upgrade() -> None:
    for table in ('recovery_request', 'visit', 'lifecycle_event'):
        _add_why(table)
    _store(
        'recovery_request', 'why',
        [(r.id, request_phrase(r.reason_zh, r.reason_en))
         for r in _rows('recovery_request', 'reason_zh, reason_en')],
    )
    _store(
        'visit', 'why',
        [(r.id, visit_phrase(r.reason_zh, r.reason_en))
         for r in _rows('visit', 'reason_zh, reason_en')],
    )
    _store(
        'lifecycle_event', 'why',
        [(r.id, event_phrase(r.reason)) for r in _rows('lifecycle_event', 'reason')],
    )
    _require_why('recovery_request', 'reason_zh', 'reason_en')
    _require_why('visit', 'reason_zh', 'reason_en')
    _require_why('lifecycle_event', 'reason')
    plans = []
    for r in _rows('visit_plan', 'unplanned'):
        entries = json.loads(r.unplanned) if isinstance(r.unplanned, str) else r.unplanned
        changed = False
        for u in entries or []:
            if 'why_zh' in u or 'reason_zh' in u:
                u['why'] = visit_phrase(u.pop('why_zh', ''), u.pop('why_en', ''))
                u.pop('reason_zh', None)
                u.pop('reason_en', None)
                changed = True
        if changed:
            plans.append((r.id, entries))
    _store('visit_plan', 'unplanned', plans)


def downgrade() -> None:
    from fleet.core.i18n import texts_for
    from fleet.core.phrases import say

    zh, en = texts_for('zh'), texts_for('en')
    with _batch('recovery_request') as batch_op:
        batch_op.add_column(sa.Column('reason_zh', sa.String(500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reason_en', sa.String(500), nullable=False, server_default=''))
    with _batch('visit') as batch_op:
        batch_op.add_column(sa.Column('reason_zh', sa.String(500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('reason_en', sa.String(500), nullable=False, server_default=''))
    with _batch('lifecycle_event') as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(500), nullable=False, server_default=''))
    bind = op.get_bind()

    def load(value: Any) -> Phrase:
        return json.loads(value) if isinstance(value, str) else (value or {})

    for table in ('recovery_request', 'visit'):
        rows = _rows(table, 'why')
        if rows:
            bind.execute(
                sa.text(f'UPDATE {table} SET reason_zh = :zh, reason_en = :en WHERE id = :id'),
                [{'id': r.id, 'zh': say(load(r.why), zh)[:500], 'en': say(load(r.why), en)[:500]}
                 for r in rows],
            )
    rows = _rows('lifecycle_event', 'why')
    if rows:
        bind.execute(
            sa.text('UPDATE lifecycle_event SET reason = :r WHERE id = :id'),
            [{'id': r.id, 'r': say(load(r.why), en)[:500]} for r in rows],
        )
    for table in ('recovery_request', 'visit', 'lifecycle_event'):
        with _batch(table) as batch_op:
            batch_op.drop_column('why')
