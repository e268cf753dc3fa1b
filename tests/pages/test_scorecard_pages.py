"""The scorecard's pages at the protocol level, on both databases: an admin sets a role's
weights on the page (a bad weight refused in words, nothing changed) and the points follow;
operations download HR's workbook; others are refused."""

from __future__ import annotations

import io
from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import select

from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.inventory.models import Branch
from fleet.pay import weights
from tests import factories
from tests.pages.forms import form_for
from tests.pages.test_session import sign_in
from tests.pay.test_scorecard import world


def test_an_admin_sets_weights_and_ops_download_the_workbook(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        world(session, tmp_path)
        factories.user(session, "admin", Role.admin, "LY")
        factories.user(session, "ops_ly", Role.branch_ops, "LY")
    sign_in(client, "admin")
    page = client.get("/admin/scorecard-weights")
    assert page.status_code == 200 and "考核权重" in page.text
    action = "/admin/scorecard-weights/field"
    fields = dict(form_for(page.text, action))
    bad = client.post(action, data={**fields, "activation": "120"})
    assert bad.status_code == 422 and "权重须在 0 到 100 之间" in bad.text
    saved = client.post(action, data={**fields, "activation": "60"}, follow_redirects=False)
    assert saved.status_code == 303
    with session_scope(engine) as session:
        assert weights.all_roles(session)["field"]["activation"] == 60  # type: ignore[index]
    sign_in(client, "ops_ly")
    assert client.get("/admin/scorecard-weights").status_code == 403
    league = client.get("/ops/scorecard?period=2026-06")
    assert league.status_code == 200 and 'data-staff="li"' in league.text
    book = client.get("/ops/scorecard.xlsx?period=2026-06")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in rows] == ["li", "wang"]
    # Each one's branch by name, its code after (not the code alone).
    with session_scope(engine) as session:
        branches = {b.code: b.name for b in session.exec(select(Branch))}
    assert all(row[4] in {f"{n} ({c})" for c, n in branches.items() if n != c} for row in rows)
    sign_in(client, "li")
    assert client.get("/ops/scorecard?period=2026-06").status_code == 403
    assert client.get("/field/scorecard?period=2026-06").status_code == 200
