"""The tickets API as a client uses it: open, take, refusals in the client's language, the
statement as a workbook."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from fleet.aftersales import contractors
from fleet.core.db import session_scope
from tests.aftersales.conftest import SYSTEM, World
from tests.web.conftest import sign_in


def test_open_take_and_restore_over_the_api(client: TestClient, world: World) -> None:
    ops, svc = sign_in(client, "branch_ops_a"), sign_in(client, "svc_a")
    opened = client.post("/api/v1/tickets", json={"sn": "SNA1", "symptom": "printer"}, headers=ops)
    assert opened.status_code == 201, opened.text
    ticket = opened.json()
    assert (ticket["state"], ticket["symptom_zh"], ticket["area"]) == ("open", "打印机故障", "town")
    again = client.post(
        "/api/v1/tickets",
        json={"sn": "SNA1", "symptom": "printer"},
        headers={**ops, "Accept-Language": "zh-CN"},
    )
    assert again.status_code == 409
    assert again.json()["error"]["message"] == f"机具 SNA1 已有未结工单（{ticket['id']}）"
    url = f"/api/v1/tickets/{ticket['id']}"
    assert [t["id"] for t in client.get("/api/v1/tickets", headers=svc).json()] == [ticket["id"]]
    taken = client.post(f"{url}/assign", json={}, headers=svc)
    assert taken.status_code == 200 and taken.json()["assignee"] == "svc_a"
    no_resolution = client.post(f"{url}/restore", json={}, headers=svc)
    assert no_resolution.status_code == 422
    done = client.post(f"{url}/restore", json={"resolution": "repaired_on_site"}, headers=svc)
    assert done.status_code == 200 and done.json()["state"] == "restored"
    history = client.get(url, headers=ops).json()["history"]
    assert [h["to_state"] for h in history] == ["open", "assigned", "restored"]


def test_the_statement_as_a_workbook(client: TestClient, world: World) -> None:
    with session_scope() as session:
        contractors.create(
            session,
            SYSTEM,
            contractors.ContractorCreate(code="RT", name="返聘", branch_codes=["A"]),
        )
    answer = client.get(
        "/api/v1/service/contractors/RT/statement.xlsx",
        params={"month": "2026-11"},
        headers=sign_in(client, "branch_ops_a"),
    )
    assert answer.status_code == 200
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    # The API's workbook is in English unless the client asks for Chinese first.
    assert rows[0][0] == "返聘: after-sales statement 2026-11"
    assert rows[-1][0] == "Amount due" and rows[-1][9] == 333.33
    answer = client.get(
        "/api/v1/service/contractors/RT/statement.xlsx",
        params={"month": "2026-11"},
        headers={**sign_in(client, "branch_ops_a"), "Accept-Language": "zh-CN,zh;q=0.9"},
    )
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "返聘 售后对账单 2026-11"
    assert rows[-1][0] == "应付金额" and rows[-1][9] == 333.33
