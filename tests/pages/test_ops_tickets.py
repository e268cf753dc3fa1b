"""Operations' fault-ticket pages at the protocol level, on both databases: the queue with its
SLA countdown and filters, dispatch, a suspicion confirmed or dismissed (each saying why), a
ticket opened from a merchant's call, closing, refusals in words, and scope."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.aftersales import hooks, service
from fleet.aftersales.models import Resolution, RestoreRequest, Symptom, TicketSource, TicketState
from fleet.aftersales.watch import Suspicion
from fleet.auth import service as auth
from fleet.auth.browser import CSRF_FIELD
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalState
from fleet.visits.models import Visit
from tests import factories
from tests.pages.forms import form_for
from tests.pages.test_ops import actor_of, build_world, text_of
from tests.pages.test_service_pages import ServiceWorld, service_world, ticket_of, unit_state
from tests.pages.test_session import sign_in


@pytest.fixture
def sw(engine: Engine) -> ServiceWorld:
    return service_world(engine)


def suspect(engine: Engine, sn: str) -> int:
    with session_scope(engine) as session:
        unit = inventory.terminal_by_sn(session, factories.SYSTEM, sn)
        why = Suspicion(
            unit.id or 0,
            sn,
            unit.branch_id,
            "silent",
            {"silent_days": 4, "baseline_days": 28, "active_share": 0.93},
        )
        ticket = service.open_ticket(
            session,
            factories.SYSTEM,
            unit,
            Symptom.other,
            source=TicketSource.feed,
            suspicion=why.as_dict(),
        )
        return ticket.id or 0


def csrf(client: TestClient) -> dict[str, str]:
    fields = form_for(client.get("/ops/tickets").text, "/ops/tickets/new")
    return {k: v for k, v in fields if k == CSRF_FIELD}


def post(client: TestClient, page: str, action: str, **values: str):  # type: ignore[no-untyped-def]
    fields = dict(form_for(client.get(page).text, action))
    fields.update(values)
    return client.post(action, data=fields, follow_redirects=False)


def test_the_queue_dispatches_and_closes(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    tid = sw.tickets["A"]
    sign_in(client, "branch_ops_a")
    queue = client.get("/ops/tickets")
    assert queue.status_code == 200
    assert f'data-ticket="{tid}"' in queue.text
    assert f'data-ticket="{sw.tickets["B"]}"' not in queue.text  # the sibling county's
    assert "个工作小时" in queue.text and "读卡器故障" in queue.text
    assert ">Svc_A</option>" in queue.text  # the assign choice names the person
    # Filters: nothing late yet; the open ticket is on time.
    assert f'data-ticket="{tid}"' not in client.get("/ops/tickets?sla=late").text
    assert f'data-ticket="{tid}"' in client.get("/ops/tickets?sla=ok&state=open").text
    assert f'data-ticket="{tid}"' not in client.get("/ops/tickets?state=assigned").text

    # Dispatch without choosing anyone: said, nothing changed.
    refused = post(client, "/ops/tickets", f"/ops/tickets/{tid}/assign")
    assert refused.status_code == 422 and "请选择由谁处理此工单" in refused.text
    assert ticket_of(engine, tid).state is TicketState.open
    done = post(client, "/ops/tickets", f"/ops/tickets/{tid}/assign", username="svc_a")
    assert done.status_code == 303 and done.headers["location"] == "/ops/tickets"
    assert ticket_of(engine, tid).assignee_id is not None
    # Someone outside the branches: refused in words.
    refused = post(client, "/ops/tickets", f"/ops/tickets/{tid}/assign", username="svc_b")
    assert refused.status_code == 422 and "svc_b" in refused.text

    # Closing a ticket not restored: 409 in words; restored, it closes; twice: 409.
    page = f"/ops/tickets/{tid}"
    early = client.post(f"{page}/close", data=csrf(client))
    assert early.status_code == 409 and "已派单" in early.text
    with session_scope(engine) as session:
        svc = auth.actor_for(session, auth.user_by_username(session, factories.SYSTEM, "svc_a"))
        service.restore(session, svc, tid, RestoreRequest(resolution=Resolution.no_fault_found))
    closed = post(client, page, f"{page}/close")
    assert closed.status_code == 303
    assert ticket_of(engine, tid).state is TicketState.closed
    again = client.post(f"{page}/close", data=csrf(client))
    assert again.status_code == 409
    assert "已关闭" in again.text


def test_suspicions_say_why_and_are_confirmed_or_dismissed(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    with session_scope(engine) as session:
        factories.merchant(session, "CA9", "A1", lat=35.01, lng=118.36)
        factories.terminal(session, "SNA9", "A1", "CA9")
    one = suspect(engine, "SNA9")
    sign_in(client, "branch_ops_a")
    queue = client.get("/ops/tickets")
    assert 'id="suspected"' in queue.text
    assert "连续 4 天无成功交易" in queue.text  # why, in words
    confirmed = post(client, "/ops/tickets", f"/ops/tickets/{one}/confirm")
    assert confirmed.status_code == 303
    assert ticket_of(engine, one).state is TicketState.open
    assert unit_state(engine, "SNA9") is TerminalState.faulty
    # The ticket's page says why once; service staff read it too (it is not a description).
    page = client.get(f"/ops/tickets/{one}").text
    assert page.count("连续 4 天无成功交易") == 1
    sign_in(client, "svc_a")
    assert "连续 4 天无成功交易" in client.get(f"/service/tickets/{one}").text
    sign_in(client, "branch_ops_a")
    # Cancelled back, then suspected again and dismissed: the unit stays at its merchant.
    with session_scope(engine) as session:
        service.cancel(session, factories.SYSTEM, one)
    two = suspect(engine, "SNA9")
    dismissed = post(client, "/ops/tickets", f"/ops/tickets/{two}/dismiss")
    assert dismissed.status_code == 303
    assert ticket_of(engine, two).state is TicketState.cancelled
    assert unit_state(engine, "SNA9") is TerminalState.deployed


def test_a_merchant_call_opens_a_ticket(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    with session_scope(engine) as session:
        factories.merchant(session, "CA8", "A1", lat=35.01, lng=118.36)
        factories.terminal(session, "SNA8", "A1", "CA8")
    sign_in(client, "branch_ops_a")
    action = "/ops/tickets/new"
    missing = post(client, "/ops/tickets", action, sn="", symptom="printer")
    assert missing.status_code == 422 and "请输入机具序列号" in missing.text
    # A unit not at a merchant (the spare in stock): refused in words, nothing opened.
    stock = post(client, "/ops/tickets", action, sn="SPA1", symptom="printer")
    assert stock.status_code == 422
    assert "不在商户处" in stock.text
    assert unit_state(engine, "SPA1") is TerminalState.in_stock
    # Another county's unit: as if it did not exist.
    hidden = post(client, "/ops/tickets", action, sn="SNB1", symptom="printer")
    assert "您的网点中没有此序列号的机具" in hidden.text
    opened = post(
        client, "/ops/tickets", action, sn="SNA8", symptom="printer", priority="high",
        description="打印机不出纸",
    )  # fmt: skip
    assert opened.status_code == 303
    with session_scope(engine) as session:
        ticket = service.live_ticket(
            session, inventory.terminal_by_sn(session, factories.SYSTEM, "SNA8").id or 0
        )
        assert ticket is not None and ticket.source is TicketSource.phone
        assert ticket.description == "打印机不出纸" and ticket.priority.value == "high"
    assert unit_state(engine, "SNA8") is TerminalState.faulty


def test_only_operations_reach_the_queue(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    for who in ("svc_a", "field_a", "marketing_a"):
        sign_in(client, who)
        assert client.get("/ops/tickets").status_code == 403
    sign_in(client, "branch_ops_a")
    assert client.get(f"/ops/tickets/{sw.tickets['B']}").status_code == 404
    sign_in(client, "admin")
    assert client.get(f"/ops/tickets/{sw.tickets['B']}").status_code == 200


def test_a_ticket_reported_at_a_visit_names_the_officer_not_their_code(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """A visit's "device faulty" opens the ticket in the officer's name ("visit:field_a" on
    its events): the ticket page says who by full name, the username small after it."""
    world = build_world(engine, tmp_path)
    with session_scope(engine) as session:
        visit = session.execute(
            select(Visit).where(col(Visit.terminal_id) == world.visited)
        ).scalar_one()
        unit = session.get(Terminal, world.visited)
        assert unit is not None
        # What recording "device faulty" at the visit does (visits.outcomes' handler list).
        opened = hooks.ticket_from_visit(
            session, actor_of(session, "field_a"), unit, visit, "屏幕不亮"
        )
        ticket_id = int(str(opened["id"]))
    sign_in(client, "branch_ops_a")
    page = client.get(f"/ops/tickets/{ticket_id}")
    assert page.status_code == 200
    shown = re.sub(r'<small class="code">[^<]*</small>', "", page.text)
    assert "visit:field_a" not in text_of(shown)
    assert 'Field_A <small class="code">field_a</small>' in page.text
