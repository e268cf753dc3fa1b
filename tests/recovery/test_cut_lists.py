"""A list the API cuts at `limit` says how many there are (X-Total-Count) and how many it
shows (X-Shown-Count); its body stays the JSON array clients read."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core.db import session_scope
from tests import factories
from tests.recovery.conftest import Region


def test_cut_api_lists_say_their_total(
    engine: Engine, client: TestClient, headers: Any, region: Region
) -> None:
    with session_scope(engine) as session:
        for n in range(3):
            factories.terminal(session, f"NEW{n}", "A1")
    ops = headers("ops_a")
    answer = client.get("/api/v1/redeploy/suggestions", params={"limit": 2}, headers=ops)
    assert answer.status_code == 200, answer.text
    assert len(answer.json()) == 2
    assert (answer.headers["x-total-count"], answer.headers["x-shown-count"]) == ("3", "2")

    every = client.get("/api/v1/recovery/suggestions", headers=ops)
    total = int(every.headers["x-total-count"])
    assert total == len(every.json()) >= 2
    one = client.get("/api/v1/recovery/suggestions", params={"limit": 1}, headers=ops)
    assert len(one.json()) == 1
    assert (one.headers["x-total-count"], one.headers["x-shown-count"]) == (str(total), "1")
    assert one.json()[0] == every.json()[0]  # the most telling first, as before

    prospects = client.get("/api/v1/prospects", params={"limit": 1}, headers=ops)
    assert prospects.status_code == 200, prospects.text
    assert int(prospects.headers["x-total-count"]) >= len(prospects.json())
