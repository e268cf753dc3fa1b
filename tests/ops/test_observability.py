"""/readyz, request ids, JSON log lines and the Prometheus metrics."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from fleet.core import metrics
from fleet.core.config import get_settings
from fleet.core.jobs import Job, JobResult
from fleet.core.logs import JsonFormatter, RequestIdFilter, request_id
from fleet.jobs import runner
from fleet.migrations import upgrade
from fleet.web.app import create_app
from tests import factories
from tests.feeds.pulling import FeedServer, good_items, pull
from tests.web.conftest import sign_in, world

__all__ = ["world"]  # fixtures


@pytest.fixture
def app_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """app_on(url) → a client of an app whose database is `url` (a throwaway one)."""

    def make(url: str) -> TestClient:
        monkeypatch.setenv("FLEET_DATABASE_URL", url)
        get_settings.cache_clear()
        return TestClient(create_app())

    yield make
    monkeypatch.undo()
    get_settings.cache_clear()


def test_ready_when_the_database_is_at_the_newest_migration(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "reason": "ok"}


def test_not_ready_without_a_schema_or_with_an_old_one(
    engine: Engine, app_on, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    empty = app_on(f"sqlite:///{tmp_path / 'empty.db'}").get("/readyz")
    assert empty.status_code == 503
    assert empty.json()["reason"].startswith("database not reachable or not migrated")
    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(old_url, "42e1b8089886")  # the revision before the newest
    old = app_on(old_url).get("/readyz")
    assert old.status_code == 503
    assert old.json()["reason"].startswith("migrations not current: database at 42e1b8089886")
    # Liveness does not care about the schema.
    assert app_on(old_url).get("/healthz").status_code == 200


def test_a_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert len(made) == 32
    # Something that could forge log lines is replaced, not echoed.
    odd = client.get("/healthz", headers={"X-Request-ID": 'x" \n{evil}'})
    assert odd.headers["X-Request-ID"] != 'x" \n{evil}'
    assert client.get("/api/v1/nowhere").headers["X-Request-ID"]


def test_one_json_log_line_per_request_with_the_request_id(
    client: TestClient, world: factories.TwoBranches, caplog: pytest.LogCaptureFixture
) -> None:
    headers = sign_in(client, "field_a") | {"X-Request-ID": "req-1"}
    with caplog.at_level(logging.INFO, logger="fleet.access"):
        client.get("/api/v1/auth/me", headers=headers)
    records = [r for r in caplog.records if r.name == "fleet.access" and r.request_id == "req-1"]
    assert len(records) == 1
    record = records[0]
    RequestIdFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "req-1"
    assert (line["method"], line["path"], line["status"], line["user"]) == (
        "GET",
        "/api/v1/auth/me",
        200,
        "field_a",
    )
    assert line["route"] == "/api/v1/auth/me" and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "fleet.access"


def test_log_records_outside_requests_carry_the_current_id() -> None:
    token = request_id.set("job-xyz")
    try:
        record = logging.LogRecord("fleet.jobs", logging.INFO, __file__, 1, "hi %s", ("x",), None)
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    assert json.loads(JsonFormatter().format(record))["request_id"] == "job-xyz"


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_requests_ingests_and_jobs(
    engine: Engine, client: TestClient, world: factories.TwoBranches
) -> None:
    admin = sign_in(client, "admin")
    before = {r: sample("fleet_ingest_lines_total", result=r) for r in ("received", "rejected")}
    with FeedServer(good_items(), tail=True).running() as server:
        pull(server.url, engine)  # this world has none of the feed's terminals: all rejected
    for result in ("received", "rejected"):
        assert sample("fleet_ingest_lines_total", result=result) == before[result] + 25
    runner.run_job(engine, Job("metrics-demo", lambda e: JobResult()), attempts=1)
    client.get("/api/v1/terminals/999999", headers=admin)
    answer = client.get("/metrics", headers=admin)
    assert answer.status_code == 200
    text = answer.text
    assert 'fleet_job_runs_total{job="metrics-demo",outcome="succeeded"} 1.0' in text
    assert 'fleet_ingest_lines_total{result="received"}' in text
    # Route templates, not paths: one series for every terminal id.
    assert (
        'fleet_http_requests_total{method="GET",route="/api/v1/terminals/{terminal_id}",'
        'status="404"}' in text
    )
    assert "fleet_http_request_duration_seconds_bucket" in text


def test_metrics_need_an_admin_or_the_scraper_token(
    client: TestClient,
    world: factories.TwoBranches,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=sign_in(client, "branch_ops_a")).status_code == 403
    scraper = {"Authorization": "Bearer scrape-me-0123456789"}
    assert client.get("/metrics", headers=scraper).status_code == 401
    monkeypatch.setenv("FLEET_METRICS_TOKEN", "scrape-me-0123456789")
    get_settings.cache_clear()
    try:
        assert client.get("/metrics", headers=scraper).status_code == 200
    finally:
        monkeypatch.delenv("FLEET_METRICS_TOKEN")
        get_settings.cache_clear()
