"""The 五提升 scorecard's visits done and their outcomes, per staff member and per branch, on
a county's planned day recorded through the visit services (fleet.pay.figures.tally_work)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from fleet.pay import periods
from fleet.pay.scorecard import scorecard
from fleet.visits.models import Outcome
from fleet.visits.schemas import OutcomeRequest
from tests.factories import SYSTEM
from tests.visits.conftest import Region
from tests.visits.test_outcomes import owner, planned, record

SAID = {
    "IDLE": Outcome.reached_promised,
    "DORM": Outcome.needs_training,
    "NEVER": Outcome.reached_promised,
}  # DECL's visit (in A2) stays undone


def test_visits_done_and_their_outcomes_count_for_the_visits_staff(
    engine: Engine, region: Region
) -> None:
    visits = planned(engine, region)
    assert set(visits) == {*SAID, "DECL"}
    expected: dict[str, Counter[str]] = {}
    for sn, outcome in SAID.items():
        who = owner(engine, visits[sn])
        record(engine, who, visits[sn], OutcomeRequest(outcome=outcome))
        expected.setdefault(who, Counter())[outcome.value] += 1
    month = periods.parse(region.today.strftime("%Y-%m"))
    with session_scope(engine) as session:
        card = scorecard(session, SYSTEM, period=month)
        branches = scorecard(session, SYSTEM, period=month, by="branch")
        before = scorecard(session, SYSTEM, period=month.previous())
    found = {r.key: r for r in card.rows}
    for who, outcomes in expected.items():
        assert found[who].outcomes == dict(sorted(outcomes.items()))
        assert found[who].visits == sum(outcomes.values())
    # DECL's visit was planned but not done; field_b1 (county B) had none.
    assert (found["field_b1"].visits, found["field_b1"].outcomes) == (0, {})
    assert sum(r.visits for r in card.rows) == 3
    by_branch: Counter[str] = Counter()
    for row in branches.rows:
        by_branch.update(row.outcomes)
    assert by_branch == {"needs_training": 1, "reached_promised": 2}
    assert sum(r.visits for r in branches.rows) == 3
    assert all(r.visits == 0 for r in before.rows)


def test_a_unit_brought_back_on_a_recover_visit_is_a_recovery_done_by_the_visitor(
    engine: Engine, region: Region
) -> None:
    from fleet.core import phrases
    from fleet.inventory.models import Terminal
    from fleet.recovery import service as recovery
    from tests.visits.test_outcomes import actor

    with session_scope(engine) as session:
        unit = session.get(Terminal, region.units["NEVER"])
        assert unit is not None
        asked = recovery.raise_request(
            session, actor(session, "ops_a"), unit, why=phrases.text("商户无需求")
        )
        recovery.decide(session, actor(session, "ops_a"), asked.id or 0, "approve")
    visit = planned(engine, region)["NEVER"]
    who = owner(engine, visit)
    record(engine, who, visit, OutcomeRequest(outcome=Outcome.recovered))
    month = periods.parse(region.today.strftime("%Y-%m"))
    with session_scope(engine) as session:
        found = {r.key: r for r in scorecard(session, SYSTEM, period=month).rows}
    assert (found[who].recoveries, found[who].visits) == (1, 1)
    assert found[who].outcomes == {"recovered": 1}
    assert sum(r.recoveries for r in found.values()) == 1
