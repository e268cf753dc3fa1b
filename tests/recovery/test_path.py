"""From suggestion to a unit in use again elsewhere; collection, faults, cancellation, sync."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.auth import service as auth
from fleet.core import phrases
from fleet.core.access import Actor
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from fleet.recovery import completion, kpi, redeploy, service, suggestions
from fleet.recovery.models import RequestStatus
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from tests.factories import SYSTEM
from tests.recovery.conftest import Region
from tests.scoring.util import add_daily, add_usage, noon

S = TerminalState


def actor(session: object, username: str) -> Actor:
    user = auth.user_by_username(session, SYSTEM, username)  # type: ignore[arg-type]
    return auth.actor_for(session, user)  # type: ignore[arg-type]


def test_suggestion_approval_recovery_stock_redeployment_and_use_again(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    day = region.today
    with session_scope(engine) as session:
        [hint] = [s for s in suggestions.suggest(session, SYSTEM) if s.sn == "U3"]
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U3")
        request = service.raise_request(
            session, SYSTEM, terminal, why=hint.why,
            source="rule", rule=hint.rule, evidence=hint.evidence, at=noon(day - timedelta(30)),
        )  # fmt: skip
        request_id = request.id or 0
        service.decide(
            session, actor(session, "ops_a"), request_id, "approve", at=noon(day - timedelta(28))
        )
        assert [r.id for r in service.approved_requests(session, None)] == [request_id]
        # The recover visit: the field officer has the unit in hand.
        completion.complete_recovery(
            session, actor(session, "field_a"), request_id, "ok", at=noon(day - timedelta(20))
        )
        assert terminal.state is S.in_stock and terminal.merchant_id is None
        [placement] = lifecycle.placements(session, terminal)
        assert placement.ended_at is not None
        assert lifecycle.events(session, terminal)[-2].actor_name == "field:field_a"

    answer = client.get("/api/v1/redeploy/suggestions", headers=headers("ops_a"))
    assert answer.status_code == 200
    [unit] = answer.json()
    assert (unit["sn"], unit["recovered"], unit["days_in_stock"]) == ("U3", True, 20)
    [target] = unit["targets"]
    assert target["market_code"] == "MKA" and target["peers"] == 7
    assert target["merchants_without_unit"] == 4  # MA3 (the unit just left), MA7..MA9
    said = texts_for("zh").phrase(target["why"]), texts_for("en").phrase(target["why"])
    assert "尚无机具" in said[0] and "km from the branch" in said[1]

    answer = client.post(
        f"/api/v1/redeploy/{region.ids['U3']}/place",
        json={"merchant_code": "MA7", "at": noon(day - timedelta(10)).isoformat()},
        headers=headers("ops_a"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "deployed" and answer.json()["merchant_code"] == "MA7"

    with session_scope(engine) as session:
        add_daily(session, region.ids["U3"], day - timedelta(9), day - timedelta(1), count=2)
        scoring.score(session, as_of=day)
        score = session.get(TerminalScore, (day, region.ids["U3"]))
        assert score is not None and score.status.value == "active"
        [row] = redeploy.second_marketing(session, SYSTEM)
        assert (row.to_merchant_code, row.transactions_since, row.status) == ("MA7", 18, "active")
        assert row.days_to_redeploy == 10
        report = kpi.recovery_kpis(session, SYSTEM)
    totals = {
        k: sum(getattr(r, k) for r in report.rows)
        for k in ("raised", "approved", "rejected", "recovered", "redeployed")
    }
    assert totals == {"raised": 1, "approved": 1, "rejected": 0, "recovered": 1, "redeployed": 1}
    assert {r.median_days_to_recovery for r in report.rows} - {None} == {10.0}
    assert {r.median_days_to_redeploy for r in report.rows} - {None} == {10.0}
    answer = client.get("/api/v1/recovery/kpi", headers=headers("ops_a"))
    assert answer.status_code == 200 and answer.json()["rows"]


def test_a_unit_that_comes_back_broken_is_faulty(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U3")
        request = service.raise_request(session, SYSTEM, terminal, why=phrases.text("未使用"))
        service.decide(session, SYSTEM, request.id or 0, "approve")
    url = f"/api/v1/recovery/requests/{request.id}/complete"
    assert client.post(url, json={}, headers=headers("marketing_a")).status_code == 403
    assert client.post(url, json={}, headers=headers("ops_b")).status_code == 404
    answer = client.post(url, json={"condition": "faulty"}, headers=headers("field_a"))
    assert answer.status_code == 200 and answer.json()["condition"] == "faulty"
    again = client.post(url, json={"condition": "ok"}, headers=headers("ops_a"))
    assert again.status_code == 409
    with session_scope(engine) as session:
        assert inventory.terminal_by_sn(session, SYSTEM, "U3").state is S.faulty


def test_use_before_collection_cancels_the_recovery(engine: Engine, region: Region) -> None:
    day = region.today
    with session_scope(engine) as session:
        approved = service.raise_request(
            session, SYSTEM, inventory.terminal_by_sn(session, SYSTEM, "U1"),
            why=phrases.text("沉睡"), at=noon(day - timedelta(10)),
        )  # fmt: skip
        service.decide(session, SYSTEM, approved.id or 0, "approve")
        pending = service.raise_request(
            session, SYSTEM, inventory.terminal_by_sn(session, SYSTEM, "U4"),
            why=phrases.text("未用"), at=noon(day - timedelta(10)),
        )  # fmt: skip
        quiet = service.raise_request(
            session, SYSTEM, inventory.terminal_by_sn(session, SYSTEM, "U3"),
            why=phrases.text("未用"), at=noon(day - timedelta(10)),
        )  # fmt: skip
        add_usage(session, approved.terminal_id, day - timedelta(5), 2)
        add_usage(session, pending.terminal_id, day - timedelta(3), 1)
        add_usage(session, quiet.terminal_id, day - timedelta(10), 1)  # the day it was raised
        cancelled = completion.cancel_if_used_again(session, day)
        assert {r.id for r in cancelled} == {approved.id, pending.id}
        assert approved.cancel_reason == "used_again"
        said = lifecycle.events(session, inventory.terminal_by_sn(session, SYSTEM, "U1"))[-1].why
        assert texts_for("en").phrase(said) == (
            f"Used again from {texts_for('en').date(day - timedelta(5))} "
            "(2 transactions since the request)"
        )
        for sn, state in (("U1", S.deployed), ("U4", S.deployed), ("U3", S.recovery_requested)):
            assert inventory.terminal_by_sn(session, SYSTEM, sn).state is state
        assert quiet.status is RequestStatus.pending


def test_moves_made_by_visits_are_picked_up(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        # A visit outcome moved U7 to recovery_requested without asking us.
        u7 = inventory.terminal_by_sn(session, SYSTEM, "U7")
        lifecycle.transition(session, SYSTEM, u7, S.recovery_requested, reason="wants_recovery")
        # A recover visit collected U1 itself.
        u1 = inventory.terminal_by_sn(session, SYSTEM, "U1")
        request = service.raise_request(session, SYSTEM, u1, why=phrases.text("沉睡"))
        service.decide(session, SYSTEM, request.id or 0, "approve")
        for state in (S.recovered, S.in_stock):
            lifecycle.transition(session, SYSTEM, u1, state, reason="recover visit")
        assert completion.sync(session) == {"completed": 1, "cancelled": 0, "adopted": 1}
        assert request.status is RequestStatus.completed and request.condition == "ok"
        adopted = service.open_request(session, u7.id or 0)
        assert adopted is not None and adopted.source == "visit"
