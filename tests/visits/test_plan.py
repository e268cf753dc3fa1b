"""Planning a branch's day end to end: stored routes that keep every rule, re-planning around
visits already done, the staff limit, who may plan, and the travel source."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.auth import service as auth
from fleet.auth.models import User
from fleet.core.config import Settings, get_settings
from fleet.core.db import session_scope
from fleet.core.errors import Forbidden, NotFound
from fleet.core.phrases import PHRASES
from fleet.inventory import service as inventory
from fleet.inventory.models import MerchantUpdate
from fleet.visits import exports, outcomes, present, verify
from fleet.visits import plan as planning
from fleet.visits.models import Outcome, Visit, VisitPlan, VisitStatus
from fleet.visits.schemas import OutcomeRequest
from tests.factories import SYSTEM
from tests.visits.conftest import Region
from tests.visits.osrm import fake_osrm


def actor(session: Session, username: str):  # type: ignore[no-untyped-def]
    user = session.execute(select(User).where(User.username == username)).scalar_one()
    return auth.actor_for(session, user)


def stored_routes_keep_the_rules(session: Session, plan: VisitPlan, settings: Settings) -> None:
    assert verify.stored_plan_problems(session, plan, settings) == []


def test_a_plan_shares_the_list_and_every_stored_route_keeps_the_rules(
    engine: Engine, region: Region
) -> None:
    with session_scope(engine) as session:
        plan = planning.plan_day(
            session, actor(session, "ops_a"), branch_code="A", plan_date=region.today
        )
        shown = present.plan_public(session, plan)
        stored_routes_keep_the_rules(session, plan, get_settings())
    assert [r.username for r in shown.routes] == ["field_a1", "field_a2", "field_a3"]
    assert shown.candidates == 4 and shown.planned == 4 and shown.unplanned == []
    stops = [s for r in shown.routes for s in r.stops]
    assert sorted(s.sn or "" for s in stops) == ["DECL", "DORM", "IDLE", "NEVER"]
    assert shown.prize_planned == shown.prize_total
    assert (
        shown.objective == round(shown.distance_km * 1000)
        or abs(shown.objective - shown.distance_km * 1000) < 10
    )
    m2 = next(s for s in stops if s.merchant_code == "M2")  # 08:00-12:00,13:30-18:00
    assert m2.window in ("08:00-12:00", "13:30-18:00")
    assert shown.travel_source == "geodesic" and shown.created_by == "ops_a"
    for route in shown.routes:
        assert [s.seq for s in route.stops] == list(range(1, len(route.stops) + 1))


def test_the_notes_are_phrases_worded_where_shown(engine: Engine, region: Region) -> None:
    """Issue 17: a plan stores its notes as codes and values, not the solver's English; the
    API says them in English beside their codes, the workbook in Chinese."""
    with session_scope(engine) as session:
        plan = planning.plan_day(session, SYSTEM, branch_code="A", plan_date=region.today)
        shown = present.plan_public(session, plan)
    assert plan.notes and all(isinstance(n, dict) for n in plan.notes)
    codes = [n["code"] for n in plan.notes]
    assert set(codes) <= set(PHRASES) and "legacy" not in codes
    assert {"note_estimates", "note_solved"} <= set(codes)
    assert shown.note_phrases == plan.notes
    assert shown.notes == present.notes_said(plan.notes, "en")
    solved = shown.notes[codes.index("note_solved")]
    assert solved.startswith("3 field staff; ") and " candidates; solved in " in solved
    chinese = present.notes_said(plan.notes, "zh")
    assert chinese[codes.index("note_solved")].startswith("外勤人员 3 人；")
    assert chinese[codes.index("note_estimates")].startswith("行车时间为估算：")
    english = [n for n in chinese if re.search("[A-Za-z]{3,}", n.replace("km/h", ""))]
    assert not english, english
    summary = [
        str(c)
        for row in load_workbook(io.BytesIO(exports.render(shown, "xlsx")))["汇总"].iter_rows(
            values_only=True
        )
        for c in row
        if c
    ]
    assert set(chinese) <= set(summary) and not set(shown.notes) & set(summary)


def test_re_planning_keeps_the_visits_done_and_replaces_the_rest(
    engine: Engine, region: Region
) -> None:
    with session_scope(engine) as session:
        plan = planning.plan_day(session, SYSTEM, branch_code="A", plan_date=region.today)
        first = (
            session.execute(
                select(Visit).where(col(Visit.plan_id) == plan.id).order_by(col(Visit.id))
            )
            .scalars()
            .all()
        )
        done = first[0]
        outcomes.record_outcome(
            session, SYSTEM, done.id or 0, OutcomeRequest(outcome=Outcome.reached_promised)
        )
        kept = (done.id, done.staff_id, done.seq, done.planned_arrival, done.planned_departure)
    with session_scope(engine) as session:
        # One person now: whoever has a visit done today stays, and takes all the rest.
        again = planning.plan_day(
            session, SYSTEM, branch_code="A", plan_date=region.today, staff_limit=1
        )
        assert again.id == plan.id
        stored = list(session.execute(select(Visit).where(col(Visit.plan_id) == plan.id)).scalars())
        visits = sorted(
            (v for v in stored if v.status is not VisitStatus.cancelled), key=lambda v: v.seq
        )
        # The visits replaced keep their ids, cancelled; the new ones get ids never used before.
        replaced = {v.id for v in first} - {done.id}
        assert {v.id for v in stored if v.status is VisitStatus.cancelled} == replaced
        assert min(v.id or 0 for v in visits[1:]) > max(v.id or 0 for v in first)
        still = visits[0]
        assert (
            still.id,
            still.staff_id,
            still.seq,
            still.planned_arrival,
            still.planned_departure,
        ) == kept
        assert still.status is VisitStatus.done
        assert {v.staff_id for v in visits} == {still.staff_id}
        assert sum(v.terminal_id == still.terminal_id for v in visits) == 1
        assert [v.seq for v in visits] == [1, 2, 3, 4]
        for later in visits[1:]:
            assert later.status is VisitStatus.planned
            assert later.planned_arrival >= still.planned_departure
        shown = present.plan_public(session, again)
        assert shown.planned == 4


def test_staff_limit_and_a_day_too_short(engine: Engine, region: Region) -> None:
    # Four-hour visits: one person fits one visit before lunch and one after.
    long_visits = Settings(revisit_service_minutes=210, revisit_lunch_latest_start="12:00")
    with session_scope(engine) as session:
        plan = planning.plan_day(
            session,
            SYSTEM,
            branch_code="A",
            plan_date=region.today,
            staff_limit=1,
            settings=long_visits,
        )
        shown = present.plan_public(session, plan)
        stored_routes_keep_the_rules(session, plan, long_visits)
    assert [r.username for r in shown.routes] == ["field_a1"]
    assert shown.planned == 2
    assert len(shown.unplanned) == 2
    assert {u.reason_code for u in shown.unplanned} == {"no_time"}
    assert shown.unplanned[0].reason_code == "no_time"
    assert exports.left_out("no_time") == "当天时间已排满更重要的回访"
    assert "not planned: No time left in the day for it: 2" in shown.notes


def test_a_merchant_without_coordinates_is_listed_not_routed(
    engine: Engine, region: Region
) -> None:
    with session_scope(engine) as session:
        m1 = inventory.merchant_by_code(session, SYSTEM, "M1")
        m1.lat = m1.lng = None  # as an import without a geocoder leaves it
        session.add(m1)
        plan = planning.plan_day(session, SYSTEM, branch_code="A", plan_date=region.today)
    assert [(u["sn"], u["reason_code"]) for u in plan.unplanned] == [("IDLE", "no_location")]


def test_who_may_plan(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        with pytest.raises(Forbidden):
            planning.plan_day(
                session, actor(session, "field_a1"), branch_code="A1", plan_date=region.today
            )
        with pytest.raises(NotFound):
            planning.plan_day(
                session, actor(session, "ops_b"), branch_code="A", plan_date=region.today
            )
        with pytest.raises(NotFound):
            planning.get_plan(session, SYSTEM, branch_code="A", plan_date=region.today)


def test_a_plan_with_a_routing_server(engine: Engine, region: Region) -> None:
    with fake_osrm() as server, session_scope(engine) as session:
        plan = planning.plan_day(
            session,
            SYSTEM,
            branch_code="A",
            plan_date=region.today,
            settings=Settings(osrm_url=server.url),
        )
        assert server.requests
    assert plan.travel_source == "osrm"
    assert not any("estimate" in note for note in present.notes_said(plan.notes))
    with session_scope(engine) as session:
        # A server that went away: the plan says so, and is made with the estimate.
        plan = planning.plan_day(
            session,
            SYSTEM,
            branch_code="A",
            plan_date=region.today + timedelta(days=1),
            settings=Settings(osrm_url=server.url, osrm_timeout_seconds=1),
        )
    assert plan.travel_source == "geodesic"
    assert any("could not be used" in note for note in present.notes_said(plan.notes))


def test_closed_shops_can_still_be_recovered(engine: Engine, region: Region) -> None:
    """A closed shop's unit with an approved recovery gets a recover visit."""
    from fleet.inventory import lifecycle
    from fleet.inventory.models import Terminal, TerminalState

    with session_scope(engine) as session:
        shut = session.get(Terminal, region.units["SHUT"])
        assert shut is not None
        for state in (TerminalState.recovery_requested, TerminalState.recovery_approved):
            lifecycle.transition(session, SYSTEM, shut, state, reason="closed")
        m7 = inventory.merchant_by_code(session, SYSTEM, "M7")
        assert m7.status.value == "closed"
        inventory.update_merchant(session, SYSTEM, m7, MerchantUpdate(name="商户M7(已关)"))
        plan = planning.plan_day(session, SYSTEM, branch_code="A", plan_date=region.today)
        kinds = {
            v.terminal_id: v.kind.value
            for v in session.execute(select(Visit).where(col(Visit.plan_id) == plan.id)).scalars()
        }
    assert kinds[region.units["SHUT"]] == "recover"


def test_without_field_staff_everything_is_listed_as_unplanned(
    engine: Engine, region: Region
) -> None:
    from fleet.auth.models import UserUpdate

    with session_scope(engine) as session:
        field_b1 = session.execute(select(User).where(User.username == "field_b1")).scalar_one()
        auth.update_user(session, SYSTEM, field_b1, UserUpdate(is_active=False))
        plan = planning.plan_day(session, SYSTEM, branch_code="B", plan_date=region.today)
    assert plan.routes == []
    assert [(u["sn"], u["reason_code"]) for u in plan.unplanned] == [("B1IDLE", "no_staff")]
