"""Operations' spare pool, service KPIs and contractors' statements at the protocol level, on
both databases: numbers from a world built through the services, marking a spare, refusals in
words, the XLSX download, and a sign-off (a month not over is provisional)."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from fleet.aftersales import contractors, service
from fleet.aftersales.models import Resolution, RestoreRequest
from fleet.auth import service as auth
from fleet.core.db import session_scope
from fleet.scoring.service import today_local
from tests import factories
from tests.pages.forms import form_for
from tests.pages.test_service_pages import ServiceWorld, service_world
from tests.pages.test_session import sign_in


@pytest.fixture
def sw(engine: Engine) -> ServiceWorld:
    world = service_world(engine)
    with session_scope(engine) as session:
        svc = auth.actor_for(session, auth.user_by_username(session, factories.SYSTEM, "svc_a"))
        service.assign(session, svc, world.tickets["A"])
        data = RestoreRequest(
            resolution=Resolution.repaired_on_site, parts=[{"name": "排线", "cost": 30}]
        )  # type: ignore[list-item]
        service.restore(session, svc, world.tickets["A"], data)
        contractors.create(
            session,
            factories.SYSTEM,
            contractors.ContractorCreate(
                code="CTA", name="兰山返聘维修队", kind="person", fee_per_ticket=50,
                penalty_per_breach=100, branch_codes=["A1"],
            ),  # type: ignore[arg-type]
        )  # fmt: skip
    return world


def test_the_spare_pool_and_marking_a_spare(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get("/ops/spares")
    assert page.status_code == 200
    assert 'data-branch="A1"' in page.text and 'data-branch="B1"' not in page.text
    assert "网点A1 (A1)" in page.text  # names lead
    with session_scope(engine) as session:
        factories.terminal(session, "SPA2", "A1")
    action = "/ops/spares?branch=A"
    fields = dict(form_for(page.text, action))
    refused = client.post(action, data={**fields, "sn": "SNA1"})
    assert refused.status_code == 409 and "SNA1" in refused.text and "已布放" in refused.text
    missing = client.post(action, data={**fields, "sn": "SNB1"})
    assert missing.status_code == 422 and "您的网点中没有此序列号的机具" in missing.text
    done = client.post(action, data={**fields, "sn": "SPA2"}, follow_redirects=False)
    assert done.status_code == 303
    row = client.get("/ops/spares?branch=A1").text
    assert "SPA2 已标记为备机" in row
    spares_cell = row.split('data-branch="A1"')[1].split("</tr>")[0]
    assert '<td class="num">2</td>' in spares_cell  # SPA1 and SPA2


def test_service_kpis_by_branch_model_and_week(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    sign_in(client, "branch_ops_a")
    page = client.get("/ops/service-kpi")
    assert page.status_code == 200
    row = page.text.split('data-group="A1"')[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in row  # one ticket
    assert 'data-group="B1"' not in page.text
    assert page.text.count("<svg") >= 2  # the weekly trend
    assert client.get("/ops/service-kpi?by=contractor").text.count('data-group="CTA"') == 1
    assert client.get("/ops/service-kpi?by=model").status_code == 200
    by_age = client.get("/ops/service-kpi?by=age").text
    assert "每百台年故障数" in by_age and "单张工单成本" in by_age
    assert 'data-group="0-1"' in by_age and "使用 0-1 年" in by_age


def test_statements_download_and_sign_off(
    client: TestClient, engine: Engine, sw: ServiceWorld
) -> None:
    sign_in(client, "branch_ops_a")
    now = today_local().strftime("%Y-%m")
    page = client.get("/ops/statements")
    assert "兰山返聘维修队" in page.text and "暂估：本月尚未结束" in page.text
    assert f"/ops/statements/CTA/{now}/sign-off" not in page.text
    workbook = client.get(f"/ops/statements/CTA/{now}.xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None and sheet.max_row >= 2
    assert sheet["A2"].value == "工单" and sheet["J2"].value == "扣款（元）"  # the page's language
    # A month not over cannot be signed off: said, nothing stored.
    csrf = dict(form_for(client.get("/ops/spares").text, "/ops/spares?branch=A"))
    early = client.post(f"/ops/statements/CTA/{now}/sign-off", data=csrf)
    assert early.status_code == 409 and "月" in early.text
    last = (today_local().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    listed = client.get(f"/ops/statements?month={last}").text
    action = f"/ops/statements/CTA/{last}/sign-off"
    signed = client.post(action, data=dict(form_for(listed, action)), follow_redirects=False)
    assert signed.status_code == 303
    after = client.get(signed.headers["location"]).text
    assert "已由 branch_ops_a 签批" in after and action not in after
    again = client.post(action, data=csrf)
    assert again.status_code == 409
    sign_in(client, "svc_a")
    assert client.get("/ops/statements").status_code == 403
    assert date.fromisoformat(f"{last}-01") < today_local()
