"""Ids are never handed out twice (SQLite reused a deleted newest row's id): a campaign made after
the newest one was deleted has a new id, and its audit history is its own."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from tests.markets.conftest import World

API = "/api/v1"


def test_a_deleted_campaigns_id_and_history_go_to_no_other(
    client: TestClient,
    headers,  # type: ignore[no-untyped-def]
    world: World,
    engine: Engine,
) -> None:
    marketing = headers("marketing_a")

    def create(name: str) -> int:
        plan = {
            "name": name,
            "market_code": "MK1",
            "starts_on": str(world.today),
            "ends_on": str(world.today + timedelta(days=5)),
            "target_placements": 2,
        }
        answer = client.post(f"{API}/campaigns", headers=marketing, json=plan)
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])

    def history(campaign_id: int) -> list[tuple[str, object]]:
        with session_scope(engine) as session:
            entries = session.execute(
                select(AuditEntry)
                .where(
                    col(AuditEntry.entity) == "campaign",
                    col(AuditEntry.entity_id) == str(campaign_id),
                )
                .order_by(col(AuditEntry.id))
            ).scalars()
            return [(e.action, e.changes.get("name")) for e in entries]

    first, deleted = create("五金城春季"), create("五金城夏季")
    renamed = client.patch(f"{API}/campaigns/{deleted}", headers=marketing, json={"name": "改名"})
    assert renamed.status_code == 200, renamed.text
    assert client.delete(f"{API}/campaigns/{deleted}", headers=marketing).status_code == 204
    deleted_history = history(deleted)

    newer = create("五金城秋季")
    assert newer not in (first, deleted) and newer > deleted
    assert client.get(f"{API}/campaigns/{deleted}", headers=marketing).status_code == 404
    # The deleted campaign's history is still its own; the new one's is what any new one's is.
    assert history(deleted) == deleted_history
    assert [a for a, _ in deleted_history] == ["create", "add_prospects", "update", "delete"]
    assert [a for a, _ in history(newer)] == [a for a, _ in history(first)]
    assert history(newer)[0] == ("create", "五金城秋季")
