"""Dates are China's days: a unit deployed at 00:00 on 26 Nov Beijing time (16:00 UTC on the
25th) is "2025年11月26日" on its page, in search and in the export, never the UTC date."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core import sheets
from fleet.core.db import session_scope
from fleet.core.i18n import local_day, local_moment, texts_for
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from tests import factories
from tests.pages.test_ops import text_of
from tests.pages.test_session import sign_in
from tests.web.conftest import sign_in as bearer

# 00:00 on 26 Nov 2025 in Beijing; in UTC still the 25th.
MIDNIGHT_BEIJING = datetime(2025, 11, 25, 16, 0, tzinfo=UTC)


def deploy_at_midnight(engine: Engine) -> int:
    with session_scope(engine) as session:
        factories.two_branches(session)
        factories.merchant(session, "MID1", "A1")
        unit = inventory.create_terminal(
            session,
            factories.SYSTEM,
            TerminalCreate(
                sn="MIDNIGHT1",
                model="T100",
                branch_code="A1",
                merchant_code="MID1",
                deployed_at=MIDNIGHT_BEIJING,
            ),
        )
        return unit.id or 0


def test_a_moment_is_its_beijing_day() -> None:
    assert local_day(MIDNIGHT_BEIJING) == date(2025, 11, 26)
    # The database hands back naive UTC on some drivers: the same moment, the same day.
    assert local_day(MIDNIGHT_BEIJING.replace(tzinfo=None)) == date(2025, 11, 26)
    assert local_day(date(2025, 11, 25)) == date(2025, 11, 25)
    assert local_moment(MIDNIGHT_BEIJING).hour == 0
    zh = texts_for("zh")
    assert zh.date(MIDNIGHT_BEIJING) == "2025年11月26日"
    assert zh.datetime(MIDNIGHT_BEIJING).startswith("2025/11/26")
    assert texts_for("en").date(MIDNIGHT_BEIJING) == "Nov 26, 2025"


def test_spreadsheet_cells_hold_beijing_time() -> None:
    assert sheets.csv_cell(MIDNIGHT_BEIJING) == datetime(2025, 11, 26, 0, 0)
    assert sheets.local(date(2025, 11, 25)) == date(2025, 11, 25)


def test_unit_deployed_at_midnight_beijing_shows_that_day(
    client: TestClient, engine: Engine
) -> None:
    unit_id = deploy_at_midnight(engine)
    sign_in(client, "branch_ops_a")

    page = text_of(client.get(f"/ops/terminals/{unit_id}").text)
    assert "自 2025年11月26日 起" in page
    assert "2025年11月25日" not in page

    found = text_of(client.get("/ops/search", params={"q": "MIDNIGHT1"}).text)
    assert "MIDNIGHT1" in found and "2025年11月26日" in found
    assert "2025年11月25日" not in found

    headers = bearer(client, "branch_ops_a")
    export = client.get("/api/v1/exports/terminals", params={"format": "csv"}, headers=headers)
    assert export.status_code == 200, export.text
    rows = {r["sn"]: r for r in csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")))}
    assert rows["MIDNIGHT1"]["deployed_at"] == "2025-11-26 00:00:00"
