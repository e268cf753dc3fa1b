"""The day's capacity caps what the solver is offered: a big outlet's best candidates are
routed, the rest are listed as over capacity; a small outlet is never capped."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine

from fleet.core.config import Settings
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.scoring import service as scoring
from fleet.visits import exports, present
from fleet.visits import plan as planning
from fleet.visits.day import Day
from fleet.visits.schemas import PlanPublic
from tests import factories
from tests.factories import SYSTEM
from tests.visits.conftest import Region, deploy, use

EXTRA = 37  # units added to outlet A1, whose own three make 40 candidates
SOLVER_CODES = {"no_time", "outside_hours", "too_far"}


def big_outlet(engine: Engine, region: Region) -> None:
    """Outlet A1 with 40 idle units around it, idle from 31 to 67 days (two units each
    time, so that priorities tie in pairs), and IDLE's shop without coordinates."""
    with session_scope(engine) as session:
        for k in range(EXTRA):
            code = f"X{k:02d}"
            factories.merchant(
                session,
                code,
                "A1",
                lat=35.055 + 0.002 * (k % 6),
                lng=118.355 + 0.002 * (k // 6),
                opening_hours="08:00-18:00",
            )
            unit = deploy(session, f"SNX{k:02d}", "A1", code, region.today - timedelta(days=200))
            use(session, unit.id, region.today - timedelta(days=31 + 2 * (k // 2)), 5)
        m1 = inventory.merchant_by_code(session, SYSTEM, "M1")
        m1.lat = m1.lng = None  # as an import without a geocoder leaves it
        session.add(m1)
        scoring.score(session, as_of=region.today)


def plan_a1(engine: Engine, region: Region, settings: Settings) -> PlanPublic:
    """One person's day in A1: at most 24 visits of 20 minutes in 8 working hours."""
    with session_scope(engine) as session:
        plan = planning.plan_day(
            session,
            SYSTEM,
            branch_code="A1",
            plan_date=region.today,
            staff_limit=1,
            settings=settings,
        )
        return present.plan_public(session, plan)


def ranked(plan: PlanPublic) -> list[tuple[float, str, str]]:
    """Every candidate of the plan as (priority, serial, what became of it), best first."""
    rows = [(s.priority, s.sn or "", "routed") for r in plan.routes for s in r.stops]
    rows += [(u.priority, u.sn or "", u.reason_code) for u in plan.unplanned]
    return sorted(rows, key=lambda row: (-row[0], row[1]))


def test_a_big_outlet_routes_its_best_candidates_and_lists_the_rest_over_capacity(
    engine: Engine, region: Region
) -> None:
    big_outlet(engine, region)
    # Once what one person could visit (24), and no floor: the solver is offered 24.
    plan = plan_a1(engine, region, Settings(revisit_cap_factor=1, revisit_cap_min=0))

    assert plan.candidates == 40
    assert plan.planned + len(plan.unplanned) == plan.candidates
    rows = ranked(plan)
    fates = [fate for _, _, fate in rows]
    assert fates.count("no_location") == 1  # IDLE: not routed, and not counted in the cap
    assert next(u for u in plan.unplanned if u.reason_code == "no_location").sn == "IDLE"
    located = [row for row in rows if row[2] != "no_location"]
    # The best 24 located went to the solver (routed, or left out by it); the 15 after them,
    # ties broken by serial number, were left for capacity.
    assert all(fate == "routed" or fate in SOLVER_CODES for _, _, fate in located[:24])
    assert [fate for _, _, fate in located[24:]] == ["over_capacity"] * 15
    assert 0 < plan.planned <= 24
    over = [u for u in plan.unplanned if u.reason_code == "over_capacity"]
    # The reason is a code, worded where it is shown.
    assert {u.why["code"] for u in over} == {"parts"}
    assert (
        "15 candidates left for capacity: routes drawn from the best 24 "
        "(1x the 24 visits 1 staff could make at most, at least 0)"
    ) in plan.notes
    assert any(
        n.startswith("not planned:")
        and "More candidates than the day's staff can visit; lower priority: 15" in n
        for n in plan.notes
    )
    # The files staff open show the reason in words.
    text = exports.render(plan, "csv").decode("utf-8-sig")
    assert text.count("未安排：候选多于当天人手可走访的数量，优先级靠后") == 15
    page = exports.render(plan, "html").decode("utf-8")
    assert page.count("<td>候选多于当天人手可走访的数量，优先级靠后</td>") == 15


def test_a_small_outlet_is_not_capped(engine: Engine, region: Region) -> None:
    big_outlet(engine, region)
    # 40 candidates: 3x one person's 24 would be 72 anyway; even at 1x (24) the floor of
    # 300 candidates keeps every one of them in the solver's hands.
    for settings in (Settings(), Settings(revisit_cap_factor=1)):
        plan = plan_a1(engine, region, settings)
        assert plan.planned + len(plan.unplanned) == plan.candidates == 40
        assert "over_capacity" not in {u.reason_code for u in plan.unplanned}
        assert not any("left for capacity" in note for note in plan.notes)
        assert all(isinstance(note, str) for note in plan.notes)  # the API's English
        assert 0 < plan.planned <= 24


def test_without_a_cap_every_candidate_goes_to_the_solver(engine: Engine, region: Region) -> None:
    big_outlet(engine, region)
    plan = plan_a1(engine, region, Settings(revisit_cap_factor=0, revisit_cap_min=0))
    assert plan.planned + len(plan.unplanned) == 40
    assert {u.reason_code for u in plan.unplanned} <= SOLVER_CODES | {"no_location"}


def test_a_days_capacity_is_its_working_time_over_the_visit_time() -> None:
    day = Day.from_settings(Settings())  # 08:30-17:30, lunch 12:00-13:00, 20-minute visits
    assert day.most_visits() == 24  # 8 working hours
    assert day.most_visits(14 * 3600) == 10  # resuming at 14:00: 3.5 hours left
    assert day.most_visits(12 * 3600 + 1800) == 13  # at 12:30, lunch still to take: 4.5 hours
    assert day.most_visits(18 * 3600) == 0
