"""Who makes the list: statuses, follow-ups, recoveries, and who is left out and why."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalState
from fleet.inventory.scope import subtree_ids
from fleet.visits import outcomes
from fleet.visits import plan as planning
from fleet.visits.candidates import Selection, select_candidates
from fleet.visits.models import Outcome, Visit
from fleet.visits.present import notes_said
from fleet.visits.schemas import OutcomeRequest
from tests.factories import SYSTEM
from tests.visits.conftest import Region, build_region

ZH, EN = texts_for("zh"), texts_for("en")


def candidates(engine: Engine, region: Region, day_offset: int = 0) -> Selection:
    with session_scope(engine) as session:
        a = inventory.branch_by_code(session, SYSTEM, "A")
        return select_candidates(
            session,
            branch_ids=subtree_ids(session, a.id or 0),
            plan_date=region.today + timedelta(days=day_offset),
            settings=get_settings(),
        )


def kinds(selection: Selection) -> dict[str, str]:
    return {c.sn or "": c.kind.value for c in selection.candidates}


def test_idle_dormant_never_used_and_declining_units_of_the_subtree(
    engine: Engine, region: Region
) -> None:
    found = candidates(engine, region)
    # Not ACTIVE or NEW (in use, or too new to judge), not SHUT (the shop has closed),
    # not B1IDLE (county B).
    assert kinds(found) == {
        "IDLE": "revisit",
        "DORM": "revisit",
        "NEVER": "revisit",
        "DECL": "revisit",
    }
    assert found.scores_as_of == region.today
    why = {c.sn: ZH.phrase(c.why) for c in found.candidates}
    assert why["IDLE"].startswith("闲置 45 天；自身月均")
    assert why["DORM"].startswith("休眠 120 天")
    assert why["NEVER"].startswith("布放 200 天从未使用")
    assert why["DECL"].startswith("用量降至平时的")
    english = {c.sn: EN.phrase(c.why) for c in found.candidates}
    assert english["IDLE"].startswith("Idle for 45 days; Own ")
    # Ranked by priority, highest first; each candidate's points add up to it.
    priorities = [c.priority for c in found.candidates]
    assert priorities == sorted(priorities, reverse=True)
    for c in found.candidates:
        points = c.reason["points"]
        value = (points["value"] + points["urgency"]) * points["failure_factor"]
        assert abs(value + points["follow_up"] - c.priority) < 0.2


def test_scores_are_computed_on_the_fly_when_there_are_none(engine: Engine) -> None:
    from fleet.scoring.service import today_local

    with session_scope(engine) as session:
        region = build_region(session, today_local(), score=False)
    found = candidates(engine, region)
    assert set(kinds(found)) == {"IDLE", "DORM", "NEVER", "DECL"}
    today = texts_for("en").date(region.today)  # a day in the reader's format
    assert notes_said(found.notes) == [
        f"scores: none on or before {today}; scored as of {today} now"
    ]
    assert notes_said(found.notes, "zh") == [
        f"评分：{texts_for('zh').date(region.today)}及之前没有评分，已即时按"
        f"{texts_for('zh').date(region.today)}评分"
    ]


def _done(engine: Engine, region: Region, sn: str, days_ago: int, request: OutcomeRequest) -> Visit:
    """Plans the day `days_ago` and records `request` for the unit's visit."""
    day = region.today - timedelta(days=days_ago)
    with session_scope(engine) as session:
        planning.plan_day(session, SYSTEM, branch_code="A", plan_date=day, seconds=0.3)
        visit = session.execute(
            select(Visit).where(
                col(Visit.terminal_id) == region.units[sn], col(Visit.plan_date) == day
            )
        ).scalar_one()
        return outcomes.record_outcome(session, SYSTEM, visit.id or 0, request)


def test_a_unit_visited_recently_waits_unless_a_follow_up_falls_due(
    engine: Engine, region: Region
) -> None:
    _done(engine, region, "IDLE", 5, OutcomeRequest(outcome=Outcome.reached_promised))
    found = candidates(engine, region)
    assert "IDLE" not in kinds(found)
    assert found.left_out["visited_recently"] == 1
    # Visited 15 days ago is outside the 14-day cooldown.
    assert "DORM" in kinds(found)

    _done(
        engine,
        region,
        "DORM",
        3,
        OutcomeRequest(outcome=Outcome.needs_training, follow_up_on=region.today + timedelta(1)),
    )
    found = candidates(engine, region)
    # Due tomorrow is within the 2 lead days: on today's list, despite the cooldown.
    assert kinds(found)["DORM"] == "follow_up"
    dorm = next(c for c in found.candidates if c.sn == "DORM")
    assert dorm.follow_up_id is not None
    assert ZH.phrase(dorm.why).endswith(f"跟进日期 {ZH.date(region.today + timedelta(1))}")
    assert dorm.reason["points"]["follow_up"] == 20.0  # due in 1 day, 2 lead days: 30 x 2/3

    late = candidates(engine, region, day_offset=4)
    dorm = next(c for c in late.candidates if c.sn == "DORM")
    assert EN.phrase(dorm.why).endswith("Follow-up 3 days overdue")
    assert dorm.reason["points"]["follow_up"] == 30.0


def test_failed_visits_lower_the_priority(engine: Engine, region: Region) -> None:
    before = {c.sn: c.priority for c in candidates(engine, region).candidates}
    _done(engine, region, "NEVER", 20, OutcomeRequest(outcome=Outcome.not_found))
    after = {c.sn: c for c in candidates(engine, region).candidates}
    assert after["NEVER"].reason["failed_visits"] == 1
    assert after["NEVER"].priority < before["NEVER"]
    assert "已回访 1 次未激活" in ZH.phrase(after["NEVER"].why)


def test_approved_recoveries_become_recover_visits_and_requests_wait(
    engine: Engine, region: Region
) -> None:
    with session_scope(engine) as session:
        never = session.get(Terminal, region.units["NEVER"])
        dorm = session.get(Terminal, region.units["DORM"])
        assert never is not None and dorm is not None
        for state in (TerminalState.recovery_requested, TerminalState.recovery_approved):
            lifecycle.transition(session, SYSTEM, never, state, reason="no need")
        lifecycle.transition(session, SYSTEM, dorm, TerminalState.recovery_requested, reason="?")
    found = candidates(engine, region)
    assert kinds(found) == {"NEVER": "recover", "IDLE": "revisit", "DECL": "revisit"}
    assert found.left_out["recovery_requested"] == 1
    assert found.candidates[0].sn == "NEVER"  # collecting it comes first
    assert ZH.phrase(found.candidates[0].why) == "回收已批准 0 天"


def test_units_on_another_plan_that_day_are_left_out(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        planning.plan_day(session, SYSTEM, branch_code="A1", plan_date=region.today, seconds=0.2)
        on_a1 = set(
            session.execute(
                select(col(Visit.terminal_id)).where(col(Visit.plan_date) == region.today)
            ).scalars()
        )
        plan = planning.plan_day(
            session, SYSTEM, branch_code="A", plan_date=region.today, seconds=0.2
        )
        on_a = set(
            session.execute(select(col(Visit.terminal_id)).where(col(Visit.plan_id) == plan.id))
            .scalars()
            .all()
        )
    assert on_a1 and not on_a & on_a1
    assert any("already on another plan" in note for note in notes_said(plan.notes))
    assert any("already routed by another plan" in note for note in notes_said(plan.notes))
