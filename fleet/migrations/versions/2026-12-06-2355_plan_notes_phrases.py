"""plan notes as phrases: visit_plan.notes and service_plan.notes hold codes and values

A plan's notes (how it was made: scores, staff, travel times, capacity, the solve) were the
solver's English sentences; they become phrases (fleet.core.phrases), worded in the reader's
language when shown. The sentences fleet wrote are read back into their code and values; any
other text is kept whole as a "legacy" phrase. The downgrade words them back in English.

Revision ID: plan_notes_phrases
Revises: visit_ticket_description
Create Date: 2026-12-06 23:55:00.000000
"""

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'plan_notes_phrases'
down_revision: str | None = 'visit_ticket_description'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Phrase = dict[str, Any]
DAY = r'(\d{4}-\d{2}-\d{2})'
NUM = r'(\d+(?:\.\d+)?)'
HOW = (
    r'geodesic distance x ' + NUM + ', ' + NUM + ' km/h within ' + NUM
    + ' km of a city or county branch, ' + NUM + ' km/h elsewhere'
)
UNPLANNED = (
    'no_time', 'outside_hours', 'too_far', 'no_location', 'no_staff', 'no_goods',
    'assigned_elsewhere', 'over_capacity',
)
TABLES = ('visit_plan', 'service_plan')


def _p(code: str, **values: Any) -> Phrase:
    return {'code': code, 'values': values} if values else {'code': code}


def _day(text: str) -> dict[str, str]:
    return {'date': text}


def _num(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and '.' not in text else value


def _how(m: re.Match[str], first: int) -> Phrase:
    circuity, urban, radius, rural = (float(m.group(first + i)) for i in range(4))
    return _p(
        'note_estimate_how', circuity=circuity, urban_kmh=urban, radius_km=radius,
        rural_kmh=rural,
    )


def _not_planned(text: str) -> Phrase | None:
    counts = []
    for part in text.split(', '):
        m = re.fullmatch(r'(\w+) (\d+)', part)
        if not m or m.group(1) not in UNPLANNED:
            return None
        counts.append(_p('note_count', what=_p(f'unplanned_{m.group(1)}'), n=int(m.group(2))))
    return _p('note_not_planned', counts=counts)


# The English sentences fleet wrote in a plan's notes, and the phrase each one says.
FORMS: list[tuple[str, Callable[[re.Match[str]], Phrase | None]]] = [
    (
        r'scores: none on or before ' + DAY + '; scored as of ' + DAY + ' now',
        lambda m: _p('note_scored_none', plan_day=_day(m.group(1)), day=_day(m.group(2))),
    ),
    (
        r'scores: the newest from ' + DAY + '; scored as of ' + DAY + ' now',
        lambda m: _p('note_scored_stale', found=_day(m.group(1)), day=_day(m.group(2))),
    ),
    (
        r'staff already routed by another plan that day: (.+)',
        lambda m: _p('note_staff_busy', staff=m.group(1).split(', ')),
    ),
    (
        r'(\d+) units visited in the last (\d+) days left out \(no follow-up due\)',
        lambda m: _p('note_left_visited_recently', count=int(m.group(1)), days=int(m.group(2))),
    ),
    (
        r'(\d+) units awaiting a recovery decision left out',
        lambda m: _p('note_left_recovery_requested', count=int(m.group(1))),
    ),
    (
        r'(\d+) units already on another plan for the day left out',
        lambda m: _p('note_left_planned_elsewhere', count=int(m.group(1))),
    ),
    (
        r'(\d+) candidates left for capacity: routes drawn from the best (\d+) \(' + NUM
        + r'x the (\d+) visits (\d+) staff could make at most, at least (\d+)\)',
        lambda m: _p(
            'note_capacity', over=int(m.group(1)), limit=int(m.group(2)),
            factor=float(m.group(3)), capacity=int(m.group(4)), staff=int(m.group(5)),
            floor=int(m.group(6)),
        ),
    ),
    (r'travel times are estimates: ' + HOW, lambda m: _p('note_estimates', how=_how(m, 1))),
    (
        r'routing server (\S+) could not be used \((.*)\); travel times are estimates: ' + HOW,
        lambda m: _p('note_osrm_failed', server=m.group(1), error=m.group(2), how=_how(m, 3)),
    ),
    (
        r'the routing server found no road for (\d+) of (\d+) legs; those are estimated',
        lambda m: _p('note_osrm_missing', n=int(m.group(1)), legs=int(m.group(2))),
    ),
    (
        r'the required stops could not all be served; as many as fit were kept',
        lambda m: _p('note_relaxed'),
    ),
    (
        r'route check: (.*); its last stop was dropped',
        lambda m: _p('note_route_check_dropped', problem=m.group(1)),
    ),
    (r'route check: (.*)', lambda m: _p('note_route_check', problem=m.group(1))),
    (
        r'(\d+) field staff; (\d+) candidates; solved in ' + NUM + r' s \((\d+) iterations\)',
        lambda m: _p(
            'note_solved', staff=int(m.group(1)), candidates=int(m.group(2)),
            seconds=float(m.group(3)), iterations=int(m.group(4)),
        ),
    ),
    (r'not planned: (.+)', lambda m: _not_planned(m.group(1))),
    (
        r'(\d+) tickets due today cannot be reached by their deadline',
        lambda m: _p('note_tickets_late', n=int(m.group(1))),
    ),
    (
        r'(\S+) takes (\d+) spares: (.*)',
        lambda m: _p(
            'note_spares', user=m.group(1), n=int(m.group(2)), spares=m.group(3).split(', '),
        ),
    ),
    (
        r'(\d+) service staff; (\d+) tickets, (\d+) due today; solved in ' + NUM
        + r' s \((\d+) iterations\)',
        lambda m: _p(
            'note_service_solved', staff=int(m.group(1)), tickets=int(m.group(2)),
            due=int(m.group(3)), seconds=float(m.group(4)), iterations=int(m.group(5)),
        ),
    ),
]


def note_phrase(note: Any) -> Phrase:
    """One stored note -> its phrase (a phrase already is one; unknown text is legacy)."""
    if isinstance(note, dict):
        return note
    text = str(note).strip()
    for pattern, make in FORMS:
        m = re.fullmatch(pattern, text, re.S)
        if m:
            found = make(m)
            if found is not None:
                return found
    return _p('legacy', zh=text, en=text)


def _load(value: Any) -> list[Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return loaded if isinstance(loaded, list) else []


def _rewrite(convert: Callable[[Any], Any]) -> None:
    bind = op.get_bind()
    for table in TABLES:
        rows = list(bind.execute(sa.text(f'SELECT id, notes FROM {table}')))
        changed = []
        for r in rows:
            notes = _load(r.notes)
            new = [convert(n) for n in notes]
            if new != notes:
                changed.append({'id': r.id, 'n': json.dumps(new, ensure_ascii=False)})
        if changed:
            bind.execute(sa.text(f'UPDATE {table} SET notes = :n WHERE id = :id'), changed)


def upgrade() -> None:
    _rewrite(note_phrase)


def downgrade() -> None:
    from fleet.core.i18n import texts_for
    from fleet.core.phrases import say

    en = texts_for('en')
    _rewrite(lambda n: say(n, en) if isinstance(n, dict) else n)
