"""The `phrases` revision turns the reasons stored as sentences (a Chinese and an English one,
or "中文 / English" joined) into phrases: the sentences fleet wrote become their code and
values, so they read right in either language; any other text is kept whole as legacy text.
Tried on the database under test's kind (SQLite file, or a PostgreSQL database of its own)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from fleet.core.access import Role
from fleet.core.db import make_engine, session_scope
from fleet.core.i18n import texts_for
from fleet.inventory.models import LifecycleEvent
from fleet.migrations import upgrade
from fleet.recovery.models import RecoveryRequest
from fleet.visits.models import Visit, VisitPlan
from tests import factories
from tests.conftest import TEST_URL

BEFORE = "unit_qr_code"
ZH, EN = texts_for("zh"), texts_for("en")
NOON = "2026-11-20 04:00:00"


@pytest.fixture
def old_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated to the revision before phrases."""
    if not TEST_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import psycopg

    parsed = make_url(TEST_URL)
    name = f"{parsed.database}_phrases"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parsed.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _old_rows(url: str) -> None:
    """Rows as fleet stored them before phrases (terminals, events and reasons by hand: the
    services of today write the new columns)."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.user(session, "field_a", Role.field, "LY")
        factories.merchant(session, "M1", "LY")
    with engine.begin() as conn:
        ids = {
            "branch": conn.execute(text("SELECT id FROM branch")).scalar_one(),
            "user": conn.execute(text('SELECT id FROM "user"')).scalar_one(),
            "merchant": conn.execute(text("SELECT id FROM merchant")).scalar_one(),
        }
        conn.execute(
            text(
                "INSERT INTO terminal (model, sn, branch_id, state, merchant_id, state_since, "
                "created_at, updated_at) VALUES ('T100', 'S1', :b, 'recovery_requested', :m, "
                f"'{NOON}', '{NOON}', '{NOON}')"
            ),
            {"b": ids["branch"], "m": ids["merchant"]},
        )
        unit = conn.execute(text("SELECT id FROM terminal")).scalar_one()
        events = [
            "registered",
            "registered as deployed",
            "商户从未使用 / never used in the 70 days since it was deployed on 2026-09-01",
            "recovery rejected: 商户还在用",
            "recovery deferred until 2026-12-01",
            "recovery #3 collected by field:field_a: 完好",
            "搬到仓库了",
        ]
        for reason in events:
            conn.execute(
                text(
                    "INSERT INTO lifecycle_event (terminal_id, at, actor_name, to_state, reason) "
                    f"VALUES (:t, '{NOON}', 'field:field_a', 'deployed', :r)"
                ),
                {"t": unit, "r": reason},
            )
        requests = [
            (
                "rule",
                "布放 70 天（2026-09-01 起）从未使用",
                "never used in the 70 days since it was deployed on 2026-09-01",
            ),
            (
                "visit",
                "回访结果：visit 2: wants_recovery (老板说)",
                "visit outcome: visit 2: wants_recovery (老板说)",
            ),
            ("manual", "商户从未使用", "商户从未使用"),
            ("rule", "某种旧说法", "some old wording"),
        ]
        for source, zh, en in requests:
            conn.execute(
                text(
                    "INSERT INTO recovery_request (terminal_id, branch_id, merchant_id, status, "
                    "version, source, reason_zh, reason_en, evidence, raised_at, raised_by_name) "
                    f"VALUES (:t, :b, :m, 'rejected', 1, :s, :zh, :en, '{{}}', '{NOON}', 'cli')"
                ),
                {"t": unit, "b": ids["branch"], "m": ids["merchant"], "s": source, "zh": zh,
                 "en": en},
            )  # fmt: skip
        unplanned = [
            {"sn": "S1", "reason_code": "no_time", "reason_zh": "当天时间已排满",
             "reason_en": "no time left", "why_zh": "休眠40天", "why_en": "dormant 40 days"}
        ]  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO visit_plan (branch_id, plan_date, created_at, created_by_name, "
                "travel_source, solver_seconds, candidates, prize_total, prize_planned, "
                "distance_m, objective, notes, routes, unplanned) VALUES (:b, '2026-11-20', "
                f"'{NOON}', 'cli', 'haversine', 0, 1, 0, 0, 0, 0, '[]', '[]', :u)"
            ),
            {"b": ids["branch"], "u": json.dumps(unplanned, ensure_ascii=False)},
        )
        plan = conn.execute(text("SELECT id FROM visit_plan")).scalar_one()
        visits = [
            (
                "休眠40天；自身月均12笔，同类月均30笔；市场动户率45%",
                "dormant 40 days; own 12 txns/month, peers 30; market 45% active",
            ),
            (
                "专项营销「春季」：意向商户；携带机具 S9",
                "campaign '春季' in 市场A: prospect, bring unit S9",
            ),
            ("一句旧话", "an old sentence; dormant 3 days"),
        ]
        for seq, (zh, en) in enumerate(visits):
            conn.execute(
                text(
                    "INSERT INTO visit (plan_id, plan_date, staff_id, seq, kind, status, "
                    "terminal_id, merchant_id, branch_id, planned_arrival, planned_start, "
                    "planned_departure, time_window, travel_m, travel_s, priority, reason, "
                    "reason_zh, reason_en, next_steps) VALUES (:p, '2026-11-20', :u, :seq, "
                    f"'revisit', 'planned', :t, :m, :b, '{NOON}', '{NOON}', '{NOON}', '', 0, 0, "
                    "50, '{}', :zh, :en, '[]')"
                ),
                {"p": plan, "u": ids["user"], "seq": seq, "t": unit, "m": ids["merchant"],
                 "b": ids["branch"], "zh": zh, "en": en},
            )  # fmt: skip
    engine.dispose()


def test_stored_sentences_become_phrases_that_read_in_either_language(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    _old_rows(old_url)
    upgrade(old_url)
    engine = make_engine(old_url)
    with session_scope(engine) as session:
        events = list(session.execute(select(LifecycleEvent).order_by(LifecycleEvent.id)).scalars())
        requests = list(
            session.execute(select(RecoveryRequest).order_by(RecoveryRequest.id)).scalars()
        )
        visits = list(session.execute(select(Visit).order_by(Visit.seq)).scalars())
        plan = session.execute(select(VisitPlan)).scalar_one()

        said = [(e.why.get("code"), ZH.phrase(e.why), EN.phrase(e.why)) for e in events]
        assert said[0] == ("registered", "登记入库", "Registered")
        assert said[1][0] == "registered_deployed"
        # A request's reason joined " / " into the event: read by its English.
        assert said[2] == (
            "rule_never_used",
            "布放 70 天（2026年9月1日 起）从未使用",
            "Never used in the 70 days since it was deployed on Sep 1, 2026",
        )
        assert said[3] == (
            "recovery_rejected",
            "已驳回回收：商户还在用",
            "Recovery rejected: 商户还在用",
        )
        assert said[4][0] == "recovery_deferred" and "2026年12月1日" in said[4][1]
        assert said[5][0] == "recovery_collected_note" and said[5][1] == (
            "回收申请 #3：机具已收回（完好）"
        )
        # Text fleet did not write is kept whole.
        assert said[6] == ("legacy", "搬到仓库了", "搬到仓库了")

        reasons = [(r.why.get("code"), ZH.phrase(r.why), EN.phrase(r.why)) for r in requests]
        assert reasons[0][0] == "rule_never_used" and "从未使用" in reasons[0][1]
        assert reasons[1] == (
            "visit_found_note",
            "回访结果：商户要求回收（老板说）",
            "Visit outcome: Merchant wants the unit taken back (老板说)",
        )
        assert reasons[2] == ("text", "商户从未使用", "商户从未使用")
        assert reasons[3] == ("legacy", "某种旧说法", "some old wording")

        assert (
            ZH.phrase(visits[0].why) == "休眠 40 天；自身月均 12 笔，同类月均 30 笔；市场动户率 45%"
        )
        assert EN.phrase(visits[0].why) == (
            "Dormant for 40 days; Own 12 transactions a month, similar units 30; Market 45% active"
        )
        assert ZH.phrase(visits[1].why) == "专项营销「春季」（市场A）：意向商户；携带机具 S9"
        # One part of an unknown form: the whole reason is kept as it was, in both languages.
        assert visits[2].why["code"] == "legacy"
        assert EN.phrase(visits[2].why) == "an old sentence; dormant 3 days"

        (left_out,) = plan.unplanned
        assert set(left_out) == {"sn", "reason_code", "why"}
        assert ZH.phrase(left_out["why"]) == "休眠 40 天"
    engine.dispose()


def test_today_a_reason_is_stored_as_a_code_and_worded_when_shown(engine: object) -> None:
    """A recovery decided today keeps a phrase, and its history reads in each language."""
    from fleet.core import phrases
    from fleet.core.db import get_engine
    from fleet.inventory import lifecycle
    from fleet.inventory.models import TerminalState

    with session_scope(get_engine()) as session:
        factories.branch(session, "LY", level="city")
        factories.merchant(session, "M1", "LY")
        unit = factories.terminal(session, "S1", "LY", "M1")
        when = dt.datetime.now(dt.UTC)
        event = lifecycle.transition(
            session,
            factories.SYSTEM,
            unit,
            TerminalState.recovery_requested,
            reason=phrases.phrase(
                "rule_never_used", days=70, since=phrases.day(dt.date(2026, 9, 1))
            ),
            at=when,
        )
        assert event.why == {
            "code": "rule_never_used",
            "values": {"days": 70, "since": {"date": "2026-09-01"}},
        }
        assert ZH.phrase(event.why) == "布放 70 天（2026年9月1日 起）从未使用"
        assert (
            EN.phrase(event.why) == "Never used in the 70 days since it was deployed on Sep 1, 2026"
        )
