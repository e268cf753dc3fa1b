"""The ingest history API: an upload's run, its refused lines as JSON pages and as a CSV
download, through the same history queries the operations pages use."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.auth import service as auth
from fleet.auth.models import UserCreate
from fleet.core.access import Role
from fleet.core.db import session_scope
from fleet.inventory import service as inventory
from fleet.inventory.models import TerminalCreate
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import DEPLOYED, line, small_fleet, write_feed
from tests.web.conftest import sign_in


def test_an_uploads_run_and_refused_lines(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        small_fleet(session)
        auth.create_user(
            session,
            SYSTEM,
            UserCreate(
                username="ops", role=Role.branch_ops, branch_code="LY", password=factories.PASSWORD
            ),
        )
    headers = sign_in(client, "ops")
    feed = write_feed(
        tmp_path / "day.csv",
        [line("R1"), line("R2", amount="-5"), line("R3", sn="NOPE"), 'R4,"broken'],
    )
    with feed.open("rb") as handle:
        sent = client.post("/api/v1/ingests", files={"file": ("day.csv", handle)}, headers=headers)
    assert sent.status_code == 200, sent.text
    run_id = sent.json()["run_id"]
    assert (sent.json()["accepted"], sent.json()["rejected"]) == (1, 3)
    # Too many refused: the run failed, says why, and kept the accepted line.
    assert sent.json()["error"].startswith("3 of 4 lines were refused (75.0%)")

    runs = client.get("/api/v1/ingests", headers=headers).json()
    assert [r["id"] for r in runs["items"]] == [run_id]
    one = client.get(f"/api/v1/ingests/{run_id}", headers=headers).json()
    assert (one["received"], one["accepted"], one["rejected"]) == (4, 1, 3)
    assert one["status"] == "failed" and one["error"] == sent.json()["error"]

    page = client.get(f"/api/v1/ingests/{run_id}/rejects?limit=2", headers=headers).json()
    assert page["total"] == 3 and [r["line_no"] for r in page["items"]] == [3, 4]
    download = client.get(f"/api/v1/ingests/{run_id}/rejects?format=csv", headers=headers)
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "reason", "detail", "raw"]
    assert [r[0] for r in rows[1:]] == ["3", "4", "5"]
    assert rows[-1][3] == 'R4,"broken'


def test_ops_see_the_runs_that_fed_their_units_but_not_other_branches_refused_lines(
    client: TestClient, engine: Engine, tmp_path: Path
) -> None:
    """An admin's upload feeding units of LY and QD: the ops of each see the run and its
    counts (their KPIs come from it), not its refused lines; the ops of a branch it did not
    feed do not see it at all."""
    with session_scope(engine) as session:
        small_fleet(session)
        factories.branch(session, "QD", level="city")
        factories.branch(session, "RZ", level="city")
        factories.merchant(session, "MQ", "QD")
        inventory.create_terminal(
            session,
            SYSTEM,
            TerminalCreate(sn="Q1", branch_code="QD", merchant_code="MQ", deployed_at=DEPLOYED),
        )
        factories.branch(session, "HQ", level="city")
        factories.user(session, "admin", Role.admin, "HQ")
        for name, branch in (("ops_ly", "LY"), ("ops_qd", "QD"), ("ops_rz", "RZ")):
            factories.user(session, name, Role.branch_ops, branch)
    feed = write_feed(
        tmp_path / "day.csv",
        [line("R1"), line("R2", sn="T2"), line("Q1-1", sn="Q1", merchant="MQ"),
         line("Q1-2", sn="Q1", amount="-5", merchant="MQ-SECRET")],
    )  # fmt: skip
    admin = sign_in(client, "admin")
    with feed.open("rb") as handle:
        sent = client.post("/api/v1/ingests", files={"file": ("day.csv", handle)}, headers=admin)
    assert sent.status_code == 200, sent.text
    run_id = sent.json()["run_id"]

    for name in ("ops_ly", "ops_qd"):
        headers = sign_in(client, name)
        runs = client.get("/api/v1/ingests", headers=headers).json()
        assert [r["id"] for r in runs["items"]] == [run_id], name
        one = client.get(f"/api/v1/ingests/{run_id}", headers=headers)
        assert one.status_code == 200 and one.json()["accepted"] == 3
        page = client.get(f"/api/v1/ingests/{run_id}/rejects", headers=headers).json()
        assert (page["total"], page["items"]) == (0, [])
        download = client.get(f"/api/v1/ingests/{run_id}/rejects?format=csv", headers=headers)
        assert download.status_code == 403 and "MQ-SECRET" not in download.text

    rz = sign_in(client, "ops_rz")
    assert client.get("/api/v1/ingests", headers=rz).json()["items"] == []
    assert client.get(f"/api/v1/ingests/{run_id}", headers=rz).status_code == 404
    # The admin still reads every refused line.
    page = client.get(f"/api/v1/ingests/{run_id}/rejects", headers=admin).json()
    assert page["total"] == 1 and "MQ-SECRET" in page["items"][0]["raw"]
