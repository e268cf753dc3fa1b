"""prospect_phrases: a campaign prospect's reason stored as a phrase, not as a Chinese sentence

campaign_prospect.reason (the Chinese line fleet.markets.prospects wrote) becomes the JSON
column `why`, a phrase (fleet.core.phrases) worded in the reader's language where it is shown.
The lines fleet wrote are read back into their codes and values ("月均到柜存现20次、笔均5.0万元；
在市场MK1（五金，同业动户率50%）" -> counter visits and amount, then the market, its trade and
the trade's 动户率); any other text is kept whole as a "legacy" phrase, so nothing is lost. The
downgrade words the phrases back in Chinese.

Revision ID: prospect_phrases
Revises: contract_line_from
Create Date: 2026-12-06 23:10:00.000000
"""

import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = 'prospect_phrases'
down_revision: str | None = 'contract_line_from'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Phrase = dict[str, Any]
# The market categories' Chinese words as fleet wrote them into the reasons.
CATEGORIES = {
    '家电': 'appliances', '家居': 'furniture', '家装': 'home_decoration',
    '建材': 'building_materials', '石材': 'stone', '药材': 'medicinal_herbs', '五金': 'hardware',
    '汽配': 'auto_parts', '农资': 'farm_supplies', '其他': 'other',
}  # fmt: skip
NUMBER = r'(\d+(?:\.\d+)?)'
COUNTER = r'月均到柜存现' + NUMBER + r'次(?:、笔均' + NUMBER + r'(万)?元)?'
IN_MARKET = r'在(.+)（([^，（）]+)(?:，同业动户率(\d+)%)?）'
OUTSIDE = r'不在专业市场（(.*?)(?:，动户率(\d+)%)?）'


def _p(code: str, **values: Any) -> Phrase:
    return {'code': code, 'values': values} if values else {'code': code}


def _figure(text: str) -> int | float:
    value = float(text)
    return int(value) if value == int(value) else value


def _counter(text: str) -> Phrase | None:
    if text == '无柜面现金记录':
        return _p('prospect_no_records')
    m = re.fullmatch(COUNTER, text)
    if not m:
        return None
    visits = _figure(m.group(1))
    if m.group(2) is None:
        return _p('prospect_counter', visits=visits)
    amount = round(float(m.group(2)) * (10_000 if m.group(3) else 1), 2)
    cash = int(amount) if amount == int(amount) else amount
    return _p('prospect_counter_cash', visits=visits, cash={'yuan': cash})


def _rated(rate: str | None) -> dict[str, Any]:
    return {} if rate is None else {'rate': {'percent': int(rate) / 100, 'digits': 0}}


def _where(text: str) -> Phrase | None:
    m = re.fullmatch(OUTSIDE, text, re.S)
    if m:
        code = 'prospect_outside' if m.group(2) else 'prospect_outside_unscored'
        return _p(code, trade=m.group(1), **_rated(m.group(2)))
    m = re.fullmatch(IN_MARKET, text, re.S)
    if m:
        trade: Any = m.group(2)
        if trade in CATEGORIES:
            trade = {'word': 'market_category', 'value': CATEGORIES[trade]}
        code = 'prospect_in_market' if m.group(3) else 'prospect_in_market_unscored'
        return _p(code, market=m.group(1), trade=trade, **_rated(m.group(3)))
    return None


def prospect_phrase(reason: str | None) -> Phrase:
    """A prospect's Chinese reason -> its phrase (legacy text when not of a form fleet wrote)."""
    text = (reason or '').strip()
    if not text:
        return {}
    if text == '已有机具':
        return _p('prospect_has_unit')
    if text == '非营业状态':
        return _p('prospect_not_open')
    counter, _, where = text.partition('；')
    said = [_counter(counter), _where(where)]
    if all(p is not None for p in said):
        return _p('parts', parts=said)
    return _p('legacy', zh=text, en=text)


def _batch() -> Any:
    return op.batch_alter_table('campaign_prospect')


def _store(column: str, values: list[dict[str, Any]]) -> None:
    if values:
        op.get_bind().execute(
            sa.text(
                f'UPDATE campaign_prospect SET {column} = :v '
                'WHERE campaign_id = :c AND merchant_id = :m'
            ),
            values,
        )


def _rows(column: str) -> list[Any]:
    return list(
        op.get_bind().execute(
            sa.text(f'SELECT campaign_id, merchant_id, {column} FROM campaign_prospect')
        )
    )


def upgrade() -> None:
    with _batch() as batch_op:
        batch_op.add_column(sa.Column('why', sa.JSON(), nullable=True))
    _store(
        'why',
        [{'c': r.campaign_id, 'm': r.merchant_id,
          'v': json.dumps(prospect_phrase(r.reason), ensure_ascii=False)}
         for r in _rows('reason')],
    )  # fmt: skip
    op.get_bind().execute(sa.text("UPDATE campaign_prospect SET why = '{}' WHERE why IS NULL"))
    with _batch() as batch_op:
        batch_op.alter_column('why', existing_type=sa.JSON(), nullable=False)
        batch_op.drop_column('reason')


def downgrade() -> None:
    from fleet.core.i18n import texts_for
    from fleet.core.phrases import say

    zh = texts_for('zh')
    with _batch() as batch_op:
        batch_op.add_column(
            sa.Column('reason', sa.String(300), nullable=False, server_default='')
        )

    def load(value: Any) -> Phrase:
        return json.loads(value) if isinstance(value, str) else (value or {})

    _store(
        'reason',
        [{'c': r.campaign_id, 'm': r.merchant_id, 'v': say(load(r.why), zh)[:300]}
         for r in _rows('why')],
    )  # fmt: skip
    with _batch() as batch_op:
        batch_op.drop_column('why')
