"""The `prospect_phrases` revision turns a campaign prospect's stored reason (the Chinese line
fleet wrote) into phrases that read in either language; any other text is kept whole as legacy
text, and the downgrade words the phrases back in Chinese. Tried on the database under test's
kind (SQLite file, or a PostgreSQL database of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlmodel import col, select

from fleet.core.access import Role
from fleet.core.db import make_engine, session_scope
from fleet.core.i18n import texts_for
from fleet.inventory.models import Merchant
from fleet.markets.models import CampaignProspect
from fleet.migrations import alembic_config, upgrade
from tests import factories
from tests.own_database import own_database

BEFORE = "contract_line_from"
ZH, EN = texts_for("zh"), texts_for("en")
NOON = "2026-11-20 04:00:00"
# (merchant, stored reason): the forms fleet wrote, then text it did not.
OLD = [
    ("M1", "月均到柜存现20次、笔均5.0万元；在市场MK1（五金，同业动户率50%）"),
    ("M2", "月均到柜存现8次；不在专业市场（粮油，动户率67%）"),
    ("M3", "无柜面现金记录；在市场MK1（五金）"),
    ("M4", "月均到柜存现2.5次、笔均800元；在东关（新市场）（五金，同业动户率5%）"),
    ("M5", "已有机具"),
    ("M6", "老板很热情，下周再来"),
    ("M7", ""),
]


@pytest.fixture
def old_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own (migrated to the revision before by each test)."""
    with own_database(tmp_path, "prospect_phrases") as url:
        yield url


def _old_rows(url: str) -> None:
    """A campaign whose prospects carry reasons as fleet stored them before phrases (by hand:
    the services of today write the new column)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.user(session, "marketing_a", Role.marketing, "LY")
        factories.market(session, "MK1", "LY")
        for code, _ in OLD:
            factories.merchant(session, code, "LY")
    with engine.begin() as conn:
        market = conn.execute(text("SELECT id FROM market")).scalar_one()
        conn.execute(
            text(
                "INSERT INTO campaign (name, market_id, starts_on, ends_on, target_placements, "
                f"created_at, updated_at) VALUES ('春季', :m, '2026-11-01', '2026-11-30', 2, "
                f"'{NOON}', '{NOON}')"
            ),
            {"m": market},
        )
        campaign = conn.execute(text("SELECT id FROM campaign")).scalar_one()
        merchants = dict(conn.execute(text("SELECT code, id FROM merchant")).all())
        for priority, (code, reason) in enumerate(OLD):
            conn.execute(
                text(
                    "INSERT INTO campaign_prospect (campaign_id, merchant_id, priority, reason, "
                    "source, status, added_at, updated_at) VALUES (:c, :m, :p, :r, 'market', "
                    f"'pending', '{NOON}', '{NOON}')"
                ),
                {"c": campaign, "m": merchants[code], "p": priority, "r": reason},
            )
    engine.dispose()


def _reasons(url: str) -> dict[str, dict[str, object]]:
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Merchant.code, CampaignProspect.why).join(
                Merchant, col(Merchant.id) == col(CampaignProspect.merchant_id)
            )
        ).all()
    engine.dispose()
    return {code: why for code, why in rows}


def test_stored_reasons_become_phrases_that_read_in_either_language(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    _old_rows(old_url)
    upgrade(old_url)
    why = _reasons(old_url)

    # Each line fleet wrote reads as it did in Chinese, and now in English too.
    for code, reason in OLD[:5]:
        assert ZH.phrase(why[code]) == reason, code
    assert why["M1"] == {
        "code": "parts",
        "values": {
            "parts": [
                {
                    "code": "prospect_counter_cash",
                    "values": {"visits": 20, "cash": {"yuan": 50000}},
                },
                {
                    "code": "prospect_in_market",
                    "values": {
                        "market": "市场MK1",
                        "trade": {"word": "market_category", "value": "hardware"},
                        "rate": {"percent": 0.5, "digits": 0},
                    },
                },
            ]
        },
    }
    assert EN.phrase(why["M1"]) == (
        "20 counter cash visits a month, 50,000 yuan on average; "
        "in 市场MK1 (Hardware, trade 50% active)"
    )
    assert (
        EN.phrase(why["M2"]) == "8 counter cash visits a month; not in a market (粮油, 67% active)"
    )
    assert EN.phrase(why["M3"]) == "No counter cash records; in 市场MK1 (Hardware)"
    # A market name with brackets of its own, a fraction of a visit, an amount under 10,000.
    assert EN.phrase(why["M4"]) == (
        "2.5 counter cash visits a month, 800 yuan on average; "
        "in 东关（新市场） (Hardware, trade 5% active)"
    )
    assert (why["M5"], EN.phrase(why["M5"])) == ({"code": "prospect_has_unit"}, "Has a unit")
    # Text fleet did not write is kept whole; an empty reason stays empty.
    assert why["M6"] == {"code": "legacy", "values": {"zh": OLD[5][1], "en": OLD[5][1]}}
    assert ZH.phrase(why["M6"]) == EN.phrase(why["M6"]) == OLD[5][1]
    assert why["M7"] == {}


def test_the_downgrade_words_the_phrases_back_in_chinese(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    _old_rows(old_url)
    upgrade(old_url)
    command.downgrade(alembic_config(old_url), BEFORE)
    engine = make_engine(old_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT merchant.code, campaign_prospect.reason FROM campaign_prospect "
                "JOIN merchant ON merchant.id = campaign_prospect.merchant_id"
            )
        ).all()
    engine.dispose()
    assert dict(rows) == dict(OLD)
