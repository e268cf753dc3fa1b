"""The `plan_notes_phrases` revision turns the notes a revisit plan and a service day plan
stored as the solver's English sentences into phrases (code and values), so they read in the
reader's language; a note of a form it does not know is kept whole as legacy text. Tried on the
database under test's kind (SQLite file, or a PostgreSQL database of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from fleet.aftersales.models import ServicePlan
from fleet.core.db import make_engine, session_scope
from fleet.core.i18n import texts_for
from fleet.migrations import upgrade
from fleet.visits.models import VisitPlan
from tests import factories
from tests.conftest import TEST_URL

BEFORE = "visit_ticket_description"
ZH, EN = texts_for("zh"), texts_for("en")
NOON = "2026-11-20 04:00:00"
HOW = "geodesic distance x 1.4, 30 km/h within 3 km of a city or county branch, 50 km/h elsewhere"
VISIT_NOTES = [
    "scores: none on or before 2026-11-20; scored as of 2026-11-20 now",
    "scores: the newest from 2026-11-01; scored as of 2026-11-20 now",
    "staff already routed by another plan that day: field_a1, field_a2",
    "3 units visited in the last 14 days left out (no follow-up due)",
    "2 units awaiting a recovery decision left out",
    "1 units already on another plan for the day left out",
    "15 candidates left for capacity: routes drawn from the best 24 (1x the 24 visits 1 staff "
    "could make at most, at least 0)",
    f"travel times are estimates: {HOW}",
    "routing server http://osrm:5000 could not be used (ConnectError: refused); travel times "
    f"are estimates: {HOW}",
    "the routing server found no road for 1 of 20 legs; those are estimated",
    "the required stops could not all be served; as many as fit were kept",
    "route check: stop 2: visit overlaps lunch; its last stop was dropped",
    "3 field staff; 12 candidates; solved in 1.5 s (420 iterations)",
    "not planned: no_time 2, over_capacity 15",
    "a note of a form no revision knows",
]
SERVICE_NOTES = [
    "2 tickets due today cannot be reached by their deadline",
    "svc_a takes 2 spares: T100, T200",
    "3 service staff; 9 tickets, 4 due today; solved in 0.8 s (100 iterations)",
]


@pytest.fixture
def old_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, migrated to the revision before plan notes became phrases."""
    if not TEST_URL.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import psycopg

    parsed = make_url(TEST_URL)
    name = f"{parsed.database}_notes"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield parsed.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _old_plans(url: str) -> None:
    """A revisit plan and a service day plan with notes as fleet stored them before."""
    engine = make_engine(url)
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
    columns = (
        "branch_id, plan_date, created_at, created_by_name, travel_source, solver_seconds, "
        "distance_m, notes, routes, unplanned"
    )
    values = f":b, '2026-11-20', '{NOON}', 'cli', 'geodesic', 0, 0, :n, '[]', '[]'"
    with engine.begin() as conn:
        branch = conn.execute(text("SELECT id FROM branch")).scalar_one()
        conn.execute(
            text(
                f"INSERT INTO visit_plan ({columns}, candidates, prize_total, prize_planned, "
                f"objective) VALUES ({values}, 0, 0, 0, 0)"
            ),
            {"b": branch, "n": json.dumps(VISIT_NOTES)},
        )
        conn.execute(
            text(f"INSERT INTO service_plan ({columns}, tickets) VALUES ({values}, 0)"),
            {"b": branch, "n": json.dumps(SERVICE_NOTES)},
        )
    engine.dispose()


def test_stored_notes_become_phrases_that_read_in_either_language(old_url: str) -> None:
    upgrade(old_url, BEFORE)
    _old_plans(old_url)
    upgrade(old_url)
    engine = make_engine(old_url)
    with session_scope(engine) as session:
        plan = session.execute(select(VisitPlan)).scalar_one()
        service = session.execute(select(ServicePlan)).scalar_one()
        notes, service_notes = list(plan.notes), list(service.notes)
    engine.dispose()
    codes = [n["code"] for n in notes]
    assert codes == [
        "note_scored_none",
        "note_scored_stale",
        "note_staff_busy",
        "note_left_visited_recently",
        "note_left_recovery_requested",
        "note_left_planned_elsewhere",
        "note_capacity",
        "note_estimates",
        "note_osrm_failed",
        "note_osrm_missing",
        "note_relaxed",
        "note_route_check_dropped",
        "note_solved",
        "note_not_planned",
        "legacy",
    ]
    assert [n["code"] for n in service_notes] == [
        "note_tickets_late",
        "note_spares",
        "note_service_solved",
    ]
    # In English the sentences fleet wrote (days now in the reader's format) ...
    english = [EN.phrase(n) for n in notes]
    assert english[0] == "scores: none on or before Nov 20, 2026; scored as of Nov 20, 2026 now"
    unchanged = set(range(2, 15)) - {8}  # (8: "could not be used" words the error the same)
    assert [english[i] for i in sorted(unchanged) if i != 13] == [
        VISIT_NOTES[i] for i in sorted(unchanged) if i != 13
    ]
    assert english[8] == VISIT_NOTES[8]
    assert english[13] == (
        "not planned: No time left in the day for it: 2; More candidates than the day's staff "
        "can visit; lower priority: 15"
    )
    assert [EN.phrase(n) for n in service_notes] == SERVICE_NOTES
    # ... and in Chinese, those fleet knows.
    chinese = [ZH.phrase(n) for n in notes]
    assert chinese[2] == "以下人员当天已排入其他计划：field_a1、field_a2"
    assert chinese[12] == "外勤人员 3 人；候选 12 个；求解用时 1.5 秒（迭代 420 次）"
    assert chinese[7].startswith("行车时间为估算：直线距离×1.4，市县网点3公里内按30 km/h")
    assert chinese[14] == VISIT_NOTES[14]
    assert [ZH.phrase(n) for n in service_notes][1] == "svc_a携带备机2台：T100、T200"
