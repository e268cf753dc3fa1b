"""Ops' overview shows the units down; /ops/vendor-repairs lists the units at the vendor and
records their return. On both databases, through the real services."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.aftersales import spares
from fleet.core.db import session_scope
from fleet.inventory.models import TerminalState
from tests import factories
from tests.pages.forms import form_for
from tests.pages.test_service_pages import service_world, unit_state
from tests.pages.test_session import sign_in


def kpi(page: str, name: str) -> str:
    found = re.search(rf'id="kpi-down-{name}">.*?<div class="value">(.*?)</div>', page, re.S)
    assert found is not None
    return found.group(1)


def test_the_overview_shows_the_units_down(client: TestClient, engine: Engine) -> None:
    service_world(engine)  # SNA1 (branch A) and SNB1 (branch B) faulty, each with a ticket
    sign_in(client, "branch_ops_a")
    page = client.get("/ops").text
    assert "停机机具" in page and "故障" in page and "维修中" in page
    assert kpi(page, "faulty") == '<a href="/ops/tickets?branch=A">1</a>'  # not B's unit
    assert ">0</a>" in kpi(page, "in_repair")
    with session_scope(engine) as session:
        spares.send_to_vendor(session, factories.SYSTEM, "SNA1", vendor="厂家")
    page = client.get("/ops").text
    assert ">0</a>" in kpi(page, "faulty") and ">1</a>" in kpi(page, "in_repair")


def test_vendor_repairs_list_and_record_the_return(client: TestClient, engine: Engine) -> None:
    service_world(engine)
    with session_scope(engine) as session:
        a = spares.send_to_vendor(session, factories.SYSTEM, "SNA1", vendor="联迪厂家").id
        b = spares.send_to_vendor(session, factories.SYSTEM, "SNB1", vendor="厂家乙").id
    sign_in(client, "branch_ops_a")
    page = client.get("/ops/vendor-repairs")
    assert page.status_code == 200
    assert "送修在厂的机具" in page.text and "联迪厂家" in page.text and "SNA1" in page.text
    assert f'data-repair="{a}"' in page.text and "SNB1" not in page.text  # another branch's
    assert 'value="in_stock">在库<' in page.text and 'value="retired">已报废<' in page.text
    action = f"/ops/vendor-repairs/{a}/back?branch=A"
    fields = dict(form_for(page.text, action))
    bad = client.post(action, data={**fields, "outcome": "in_stock", "cost": "-5"})
    assert bad.status_code == 422 and "不小于 0" in bad.text
    assert unit_state(engine, "SNA1") is TerminalState.in_repair  # nothing changed
    other = client.post(f"/ops/vendor-repairs/{b}/back", data={**fields, "outcome": "retired"})
    assert other.status_code == 404 and "没有这条厂家维修记录" in other.text
    assert unit_state(engine, "SNB1") is TerminalState.in_repair
    done = client.post(
        action, data={**fields, "outcome": "in_stock", "cost": "120.5"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/ops/vendor-repairs?branch=A"
    assert unit_state(engine, "SNA1") is TerminalState.in_stock
    after = client.get(done.headers["location"]).text
    assert "已登记机具从厂家返回" in after and "这些网点目前没有送厂维修的机具" in after
    row = after.split(f'data-repair="{a}"')[1].split("</tr>")[0]
    assert "在库" in row and "120.50" in row
    again = client.post(action, data={**fields, "outcome": "retired", "cost": "1"})
    assert again.status_code == 409 and unit_state(engine, "SNA1") is TerminalState.in_stock
