"""Admins' contractor and SLA-policy pages at the protocol level, on both databases: a
contractor added through the form (refusals in words, nothing made), and an SLA policy
changed through the form that new tickets' deadlines then follow."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.aftersales.clock import Clock
from fleet.aftersales.models import Contractor, Ticket
from fleet.core.config import get_settings
from fleet.core.db import session_scope
from tests.pages.forms import form_for
from tests.pages.test_service_pages import ServiceWorld, open_ticket, service_world
from tests.pages.test_session import sign_in


@pytest.fixture
def sw(engine: Engine) -> ServiceWorld:
    return service_world(engine)


def contractors(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return [c.code for c in session.execute(select(Contractor)).scalars()]


def test_an_admin_adds_a_contractor(client: TestClient, engine: Engine, sw: ServiceWorld) -> None:
    sign_in(client, "admin")
    page = client.get("/admin/contractors")
    assert page.status_code == 200 and "尚无外包商" in page.text
    fields = dict(form_for(page.text, "/admin/contractors"))
    values = {
        **fields,
        "code": "CTA",
        "name": "兰山返聘维修队",
        "kind": "person",
        "annual_fee_per_outlet": "4000",
        "fee_per_ticket": "50",
        "penalty_per_breach": "100",
        "branch_codes": "A1",
        "staff_usernames": "svc_a, svc_a2",
    }
    unknown = client.post("/admin/contractors", data={**values, "branch_codes": "NOPE"})
    assert unknown.status_code == 422 and "NOPE" in unknown.text
    wrong_role = client.post("/admin/contractors", data={**values, "staff_usernames": "field_a"})
    assert wrong_role.status_code == 422 and "field_a" in wrong_role.text
    assert contractors(engine) == []
    made = client.post("/admin/contractors", data=values, follow_redirects=False)
    assert made.status_code == 303
    listed = client.get("/admin/contractors").text
    assert "已添加外包商 兰山返聘维修队" in listed and "个人（如返聘内退人员）" in listed
    again = client.post("/admin/contractors", data=values)
    assert again.status_code == 422 and contractors(engine) == ["CTA"]
    sign_in(client, "branch_ops_a")
    assert client.get("/admin/contractors").status_code == 403


def test_an_sla_policy_set_on_the_page_governs_new_tickets(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    sign_in(client, "admin")
    page = client.get("/admin/sla")
    assert page.status_code == 200 and page.text.count("data-policy=") == 6
    action = "/admin/sla/town/normal"
    fields = dict(form_for(page.text, action))
    bad = client.post(action, data={**fields, "respond": "8", "on_site": "4", "restore": "6"})
    assert bad.status_code == 422 and "响应 ≤ 到场 ≤ 修复" in bad.text
    saved = client.post(
        action,
        data={**fields, "respond": "1", "on_site": "3", "restore": "6"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert 'value="6.0"' in client.get("/admin/sla").text
    with session_scope(engine) as session:
        factories_merchant_and_unit(session)
    ticket_id = open_ticket(engine, "SNA7", "branch_ops_a")
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.restore_by is not None
        hours = Clock(get_settings()).between(ticket.opened_at, ticket.restore_by)
        assert hours == pytest.approx(6.0, abs=0.01)
    sign_in(client, "branch_ops_a")
    assert client.get("/admin/sla").status_code == 403


def factories_merchant_and_unit(session: object) -> None:
    from tests import factories

    factories.merchant(session, "CA7", "A1", lat=35.0, lng=118.36)  # type: ignore[arg-type]
    factories.terminal(session, "SNA7", "A1", "CA7")  # type: ignore[arg-type]
