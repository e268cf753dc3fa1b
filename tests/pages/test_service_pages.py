"""Service staff's phone pages at the protocol level, on both databases: my tickets and the
branch's pool, taking a ticket, on site, the restore form (refused without a resolution,
nothing changed), a swap with the branch's spare, and who reaches what."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.aftersales import service, spares
from fleet.aftersales.models import Symptom, Ticket, TicketSource, TicketState
from fleet.auth import service as auth
from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import Terminal, TerminalState
from tests import factories
from tests.pages.forms import form_for
from tests.pages.test_session import sign_in


@dataclass
class ServiceWorld:
    """two_branches; service staff svc_a and svc_a2 in outlet A1, svc_b in B1; a spare SPA1
    marked in A1; open tickets for SNA1 (card reader, by phone) and SNB1."""

    tickets: dict[str, int] = field(default_factory=dict)


def open_ticket(engine: Engine, sn: str, who: str, symptom: Symptom = Symptom.card_reader) -> int:
    with session_scope(engine) as session:
        actor = auth.actor_for(session, auth.user_by_username(session, factories.SYSTEM, who))
        unit = inventory.terminal_by_sn(session, actor, sn)
        ticket = service.open_ticket(
            session, actor, unit, symptom, source=TicketSource.phone, description="刷卡没反应"
        )
        return ticket.id or 0


def service_world(engine: Engine) -> ServiceWorld:
    with session_scope(engine) as session:
        factories.two_branches(session)
        factories.terminal(session, "SPA1", "A1")
        factories.user(session, "svc_a", Role.service, "A1")
        factories.user(session, "svc_a2", Role.service, "A1")
        factories.user(session, "svc_b", Role.service, "B1")
        spares.mark(session, factories.SYSTEM, "SPA1")
    w = ServiceWorld()
    w.tickets["A"] = open_ticket(engine, "SNA1", "branch_ops_a")
    w.tickets["B"] = open_ticket(engine, "SNB1", "branch_ops_b")
    return w


@pytest.fixture
def sw(engine: Engine) -> ServiceWorld:
    return service_world(engine)


def ticket_of(engine: Engine, ticket_id: int) -> Ticket:
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def unit_state(engine: Engine, sn: str) -> TerminalState:
    with session_scope(engine) as session:
        return inventory.terminal_by_sn(session, factories.SYSTEM, sn).state


def post(client: TestClient, page: str, action: str, **values: str) -> object:
    fields = dict(form_for(client.get(page).text, action))
    fields.update(values)
    return client.post(action, data=fields, follow_redirects=False)


def test_a_technician_takes_works_and_restores_a_ticket(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    tid = sw.tickets["A"]
    sign_in(client, "svc_a")
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == "/service/today"
    today = client.get("/service/today")
    assert today.status_code == 200
    assert "CA1" not in today.text or "商户" in today.text  # the shop's name leads
    assert 'id="pool"' in today.text and f'data-ticket="{tid}"' in today.text
    assert f'data-ticket="{sw.tickets["B"]}"' not in today.text  # another branch's pool
    assert "读卡器故障" in today.text and "个工作小时" in today.text

    page = f"/service/tickets/{tid}"
    answer = post(client, page, f"{page}/take")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert ticket_of(engine, tid).state is TicketState.assigned
    # Its assignee by full name, the username after it in small print.
    assert 'Svc_A <small class="code">svc_a</small>' in client.get(page).text
    today = client.get("/service/today")
    assert 'id="mine"' in today.text and "高德导航" in today.text

    assert post(client, page, f"{page}/arrive").status_code == 303  # type: ignore[attr-defined]
    assert ticket_of(engine, tid).state is TicketState.on_site

    # No resolution: said next to the field, nothing changed.
    refused = post(client, page, f"{page}/restore", labour_minutes="30")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "请选择故障的处理方式" in refused.text  # type: ignore[attr-defined]
    assert ticket_of(engine, tid).state is TicketState.on_site
    # A swap without a spare chosen: refused the same way.
    refused = post(client, page, f"{page}/restore", resolution="swapped")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert ticket_of(engine, tid).state is TicketState.on_site

    done = post(
        client,
        page,
        f"{page}/restore",
        resolution="repaired_on_site",
        part_name_0="读卡器排线",
        part_cost_0="35.5",
        labour_minutes="40",
        travel_km="12.5",
        vendor_fee="0",
        note="更换排线",
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/service/today"  # type: ignore[attr-defined]
    restored = ticket_of(engine, tid)
    assert restored.state is TicketState.restored
    assert restored.parts_cost == 35.5 and restored.labour_minutes == 40
    assert restored.travel_km == 12.5 and restored.resolution_note == "更换排线"
    assert unit_state(engine, "SNA1") is TerminalState.deployed
    today = client.get("/service/today")
    assert f'data-ticket="{tid}"' not in today.text
    assert "已修复" in today.text  # the flash


def test_a_swap_places_the_branch_spare(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    tid = sw.tickets["A"]
    sign_in(client, "svc_a")
    page = f"/service/tickets/{tid}"
    post(client, page, f"{page}/take")
    form = client.get(page).text
    assert '<option value="SPA1"' in form  # the branch's spare is offered
    done = post(client, page, f"{page}/restore", resolution="swapped", spare_sn="SPA1")
    assert done.status_code == 303, done.text  # type: ignore[attr-defined]
    assert unit_state(engine, "SPA1") is TerminalState.deployed
    assert unit_state(engine, "SNA1") is TerminalState.in_repair


def test_a_spare_of_another_branch_is_refused_in_words(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    with session_scope(engine) as session:
        factories.terminal(session, "SPB9", "B1")
        spares.mark(session, factories.SYSTEM, "SPB9")
    tid = sw.tickets["A"]
    sign_in(client, "svc_a")
    page = f"/service/tickets/{tid}"
    post(client, page, f"{page}/take")
    refused = post(client, page, f"{page}/restore", resolution="swapped", spare_sn="SPB9")
    assert refused.status_code == 409  # type: ignore[attr-defined]
    assert "另一" in refused.text or "其他" in refused.text  # type: ignore[attr-defined]
    assert ticket_of(engine, tid).state is TicketState.assigned
    with session_scope(engine) as session:
        unit = session.get(Terminal, inventory.terminal_by_sn(session, factories.SYSTEM, "SPB9").id)
        assert unit is not None and unit.state is TerminalState.in_stock


def test_who_reaches_the_service_pages(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    tid = sw.tickets["A"]
    sign_in(client, "svc_b")
    assert client.get(f"/service/tickets/{tid}").status_code == 404  # another branch's
    sign_in(client, "svc_a")
    page = f"/service/tickets/{tid}"
    post(client, page, f"{page}/take")
    sign_in(client, "svc_a2")  # a colleague: the ticket is svc_a's now, out of the pool
    assert client.get(page).status_code == 404
    assert f'data-ticket="{tid}"' not in client.get("/service/today").text
    sign_in(client, "field_a")
    assert client.get("/service/today").status_code == 403
    sign_in(client, "marketing_a")
    assert client.get(page).status_code == 403


def test_my_tickets_follow_the_stored_service_day(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    """The page lists my tickets in the route order of today's stored plan (fleet service
    plan), not by deadline."""
    from fleet.aftersales import dayplan
    from fleet.scoring.service import today_local

    mine = [sw.tickets["A"]]
    with session_scope(engine) as session:
        for n in range(4):
            code = f"MQ{n}"
            factories.merchant(session, code, "A1", lat=35.0 + 0.006 * n, lng=118.30 + 0.01 * n)
            factories.terminal(session, f"SN{code}", "A1", code)
    mine += [open_ticket(engine, f"SNMQ{n}", "branch_ops_a") for n in range(4)]
    with session_scope(engine) as session:
        ops = auth.actor_for(session, auth.user_by_username(session, factories.SYSTEM, "admin"))
        for ticket_id in mine:
            service.assign(session, ops, ticket_id, "svc_a")
    with session_scope(engine) as session:
        dayplan.plan_service_day(
            session, factories.SYSTEM, branch_code="A", plan_date=today_local(), seconds=0.5
        )
    with session_scope(engine) as session:
        user = auth.user_by_username(session, factories.SYSTEM, "svc_a")
        routed = dayplan.service_day_order(session, user.id or 0, today_local())
    # Today may be a weekend, when the planner routes only what is due: at least one.
    assert routed and set(routed) <= set(mine)
    sign_in(client, "svc_a")
    html = client.get("/service/today").text
    listed = [
        int(x) for x in re.findall(r'<li id="t\d+" class="stop ticket" data-ticket="(\d+)"', html)
    ]
    # Routed first, in route order; then the rest by restore deadline (the earliest opened).
    assert listed[: len(routed)] == routed
    assert sorted(listed) == sorted(mine)
    rest = [x for x in mine if x not in routed]
    assert listed[len(routed) :] == rest


def test_a_contractor_technician_sees_only_the_covered_branches(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    """A contractor's technician placed at the city branch: the pool of the outlet the
    contractor covers (A1), never the other county's (B1), whose ticket answers 404."""
    from fleet.aftersales import contractors

    with session_scope(engine) as session:
        factories.user(session, "svc_ct", Role.service, "LY")
        contractors.create(
            session,
            factories.SYSTEM,
            contractors.ContractorCreate(
                code="CTA", name="兰山返聘维修队", branch_codes=["A1"], staff_usernames=["svc_ct"]
            ),
        )
    sign_in(client, "svc_ct")
    today = client.get("/service/today").text
    assert f'data-ticket="{sw.tickets["A"]}"' in today
    assert f'data-ticket="{sw.tickets["B"]}"' not in today
    assert client.get(f"/service/tickets/{sw.tickets['B']}").status_code == 404
    page = f"/service/tickets/{sw.tickets['A']}"
    assert post(client, page, f"{page}/take").status_code == 303  # type: ignore[attr-defined]
    assert ticket_of(engine, sw.tickets["A"]).state is TicketState.assigned


@pytest.mark.parametrize(
    ("hours_left", "zh", "en"),
    [
        (2.46, "计时已暂停（剩余 2.5 个工作小时）", "Clock paused (2.5 business hours left)"),
        # Paused after the deadline (waiting for parts once the restore was already late):
        # late, never "-0.0 hours left".
        (-0.03, "计时已暂停（已超时 0.1 个工作小时）", "Clock paused (0.1 business hours late)"),
        (-3.0, "计时已暂停（已超时 3.0 个工作小时）", "Clock paused (3.0 business hours late)"),
    ],
)
def test_a_paused_clock_says_the_time_left_or_how_late(hours_left: float, zh: str, en: str) -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from fleet.core.i18n import texts_for
    from fleet.pages.tickets import sla_text

    ticket = cast(Any, SimpleNamespace(paused=True, hours_left=hours_left, restored_at=None))
    assert (sla_text(texts_for("zh"), ticket), sla_text(texts_for("en"), ticket)) == (zh, en)


def test_a_second_click_says_the_ticket_is_so_already_in_plain_words() -> None:
    """The same button twice (or in another tab): '工单 7 当前已是“已取消”', not
    '工单 7 已经已取消，不能再改为已取消'."""
    from fleet.aftersales.service import _check_move
    from fleet.core.errors import Conflict
    from fleet.core.i18n import texts_for

    for state, zh in [
        (TicketState.cancelled, "工单 7 当前已是“已取消”"),
        (TicketState.on_site, "工单 7 当前已是“已到场”"),
    ]:
        with pytest.raises(Conflict) as refused:
            _check_move(Ticket(id=7, state=state), state)
        assert texts_for("zh").error(refused.value) == zh
