"""Ops' overview shows the units down; /ops/vendor-repairs lists the units at the vendor and
records their return. On both databases, through the real services."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.aftersales import spares
from fleet.core.db import session_scope
from tests import factories
from tests.pages.test_service_pages import service_world
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
