"""Raising requests by hand, deciding them by role and branch, the queue, and concurrency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from fleet.auth import service as auth
from fleet.core import phrases
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope, utcnow
from fleet.core.errors import Conflict
from fleet.core.i18n import texts_for
from fleet.inventory import lifecycle
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalState
from fleet.recovery import service
from fleet.recovery.models import RecoveryRequest
from tests.factories import SYSTEM
from tests.recovery.conftest import Region

API = "/api/v1/recovery/requests"


def raise_by_hand(client: TestClient, headers: dict[str, str], sn: str) -> dict:  # type: ignore[type-arg]
    answer = client.post(API, json={"sn": sn, "reason": "商户说用不上"}, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


def state_of(engine: Engine, sn: str) -> TerminalState:
    with session_scope(engine) as session:
        return inventory.terminal_by_sn(session, SYSTEM, sn).state


def test_field_staff_raise_a_request_and_the_record_says_who_asked(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    body = raise_by_hand(client, headers("field_a"), "U7")
    assert body["status"] == "pending" and body["raised_by_name"] == "field_a"
    assert body["merchant_code"] == "MA1" and body["source"] == "manual"
    assert state_of(engine, "U7") is TerminalState.recovery_requested
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U7")
        event = lifecycle.events(session, terminal)[-1]
        assert event.actor_name == "field:field_a"
        entry = session.execute(select(AuditEntry).where(AuditEntry.action == "raise")).scalar_one()
        assert entry.actor_name == "field_a"


def test_a_second_open_request_for_one_unit_is_a_409(
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    first = raise_by_hand(client, headers("ops_a"), "U7")
    answer = client.post(API, json={"sn": "U7", "reason": "again"}, headers=headers("field_a"))
    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["request_id"] == first["id"]


def test_the_database_refuses_two_open_requests(engine: Engine, region: Region) -> None:
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U7")
        service.raise_request(session, SYSTEM, terminal, why=phrases.text("一"))
    with pytest.raises(IntegrityError), session_scope(engine) as raw:
        raw.execute(
            text(
                "INSERT INTO recovery_request (terminal_id, branch_id, merchant_id, status, "
                "version, source, why, evidence, raised_at, raised_by_name) "
                "SELECT terminal_id, branch_id, merchant_id, 'approved', 1, 'manual', '{}', "
                "'{}', raised_at, '' FROM recovery_request"
            )
        )


def test_marketing_may_not_raise_and_other_branches_see_nothing(
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    answer = client.post(API, json={"sn": "U7", "reason": "x"}, headers=headers("marketing_a"))
    assert answer.status_code == 403
    answer = client.post(API, json={"sn": "U7", "reason": "x"}, headers=headers("ops_b"))
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("field_a", 403),
        ("marketing_a", 403),
        ("ops_b", 404),  # another branch's request: as if it did not exist
        ("ops_a", 200),
        ("admin", 200),
    ],
)
def test_who_may_approve(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,
    username: str,
    expected: int,  # type: ignore[no-untyped-def]
) -> None:
    request = raise_by_hand(client, headers("field_a"), "U7")
    answer = client.post(
        f"{API}/{request['id']}/decision", json={"decision": "approve"}, headers=headers(username)
    )
    assert answer.status_code == expected, answer.text
    want = TerminalState.recovery_approved if expected == 200 else TerminalState.recovery_requested
    assert state_of(engine, "U7") is want
    if expected == 200:
        assert answer.json()["decided_by_name"] == username


def test_a_rejection_needs_a_reason_and_puts_the_unit_back(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    request = raise_by_hand(client, headers("field_a"), "U7")
    url = f"{API}/{request['id']}/decision"
    answer = client.post(url, json={"decision": "reject"}, headers=headers("ops_a"))
    assert answer.status_code == 422
    answer = client.post(
        url, json={"decision": "reject", "reason": "旺季要用"}, headers=headers("ops_a")
    )
    assert answer.status_code == 200 and answer.json()["status"] == "rejected"
    assert state_of(engine, "U7") is TerminalState.deployed
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U7")
        said = lifecycle.events(session, terminal)[-1].why
        assert said == {"code": "recovery_rejected", "values": {"note": "旺季要用"}}
        assert texts_for("zh").phrase(said) == "已驳回回收：旺季要用"


def test_a_deferred_request_leaves_the_queue_until_its_date(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    request = raise_by_hand(client, headers("field_a"), "U7")
    until = (region.today + timedelta(days=14)).isoformat()
    answer = client.post(
        f"{API}/{request['id']}/decision",
        json={"decision": "defer", "until": until, "reason": "春节后再说"},
        headers=headers("ops_a"),
    )
    assert answer.status_code == 200 and answer.json()["deferred_until"] == until
    assert client.get(API, headers=headers("ops_a")).json()["total"] == 0
    hidden = client.get(API, params={"include_deferred": True}, headers=headers("ops_a"))
    assert hidden.json()["total"] == 1
    assert state_of(engine, "U7") is TerminalState.recovery_requested
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U7")
        said = lifecycle.events(session, terminal)[-1].why
        assert said["code"] == "recovery_deferred_note"
        assert texts_for("en").phrase(said).startswith("Recovery deferred until")


def test_a_request_pending_too_long_is_flagged_overdue(
    engine: Engine,
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    old = raise_by_hand(client, headers("field_a"), "U7")
    raise_by_hand(client, headers("field_a"), "U3")
    with session_scope(engine) as session:
        session.execute(
            update(RecoveryRequest)
            .where(RecoveryRequest.id == old["id"])  # type: ignore[arg-type]
            .values(raised_at=utcnow() - timedelta(days=10))
        )
    queue = client.get(API, headers=headers("ops_a")).json()["items"]
    assert [(r["sn"], r["overdue"]) for r in queue] == [("U7", True), ("U3", False)]
    assert client.get(API, headers=headers("ops_b")).json()["total"] == 0


def test_of_two_people_deciding_at_once_one_wins_the_other_sees_the_decision(
    engine: Engine, region: Region
) -> None:
    with session_scope(engine) as session:
        terminal = inventory.terminal_by_sn(session, SYSTEM, "U7")
        request_id = (
            service.raise_request(session, SYSTEM, terminal, why=phrases.text("试")).id or 0
        )
        users = {u: auth.user_by_username(session, SYSTEM, u) for u in ("ops_a", "admin")}
        actors = {u: auth.actor_for(session, user) for u, user in users.items()}
    with session_scope(engine) as first, session_scope(engine) as second:
        service.get_request(first, actors["ops_a"], request_id)
        service.get_request(second, actors["admin"], request_id)
        service.decide(first, actors["ops_a"], request_id, "approve")
        first.commit()
        with pytest.raises(Conflict, match=r"already approved \(decided by ") as lost:
            service.decide(second, actors["admin"], request_id, "reject", reason="不同意")
        assert lost.value.details["decision"] == "approved"
        assert lost.value.details["decided_by"] == "ops_a"
    assert state_of(engine, "U7") is TerminalState.recovery_approved


def test_a_decided_request_answers_409_over_the_api_with_the_decision(
    client: TestClient,
    headers,
    region: Region,  # type: ignore[no-untyped-def]
) -> None:
    request = raise_by_hand(client, headers("field_a"), "U7")
    url = f"{API}/{request['id']}/decision"
    assert (
        client.post(url, json={"decision": "approve"}, headers=headers("ops_a")).status_code == 200
    )
    answer = client.post(url, json={"decision": "approve"}, headers=headers("admin"))
    assert answer.status_code == 409
    assert answer.json()["error"]["details"]["decided_by"] == "ops_a"
