"""Pulling a paged HTTP feed: counts, rejects, retries, failures, and resuming after a kill."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.access import Actor, Role
from fleet.core.errors import Forbidden, Invalid, Unavailable
from fleet.feeds import pull as pull_module
from fleet.feeds.models import RejectedRow, RunStatus, Txn
from fleet.feeds.pull import ingest_url
from tests.feeds.pulling import (
    ADMIN,
    FeedServer,
    counts,
    db_state,
    expected_days,
    good_items,
    pull,
    runs,
    world,
)

__all__ = ["world"]  # a fixture

GOOD = good_items()
UNKNOWN_TERMINAL = GOOD[0] | {"txn_ref": "BAD-SN", "terminal_sn": "NOPE"}
BAD_AMOUNT = GOOD[0] | {"txn_ref": "BAD-AMT", "amount": "12.3.4"}
MISSING = {k: v for k, v in GOOD[0].items() if k != "status"} | {"txn_ref": "BAD-MISS"}
# 29 items, 3 pages of 10: a bad one on page 2, two on page 3, and page 1's R0003 again.
FEED = [*GOOD[:12], UNKNOWN_TERMINAL, *GOOD[12:20], BAD_AMOUNT, MISSING, *GOOD[20:], GOOD[3]]
CLEAN = {"received": 29, "accepted": 25, "duplicate": 1, "rejected": 3}


@pytest.fixture
def feed(world: None) -> Iterator[FeedServer]:
    with FeedServer(FEED).running() as server:
        yield server


def test_clean_pull_takes_every_page_once(engine: Engine, feed: FeedServer) -> None:
    seen: list[int] = []
    report = pull(
        feed.url, engine, page_size=10, auth_header="Bearer feed-token-1234", progress=seen.append
    )
    assert counts(report) == CLEAN
    assert report.received == report.accepted + report.duplicate + report.rejected
    assert seen == [10, 20, 29]
    assert [(r["cursor"], r["limit"]) for r in feed.requests] == [
        (None, "10"),
        ("c10", "10"),
        ("c20", "10"),
    ]
    assert {r["authorization"] for r in feed.requests} == {"Bearer feed-token-1234"}
    assert db_state(engine) == (25, expected_days(GOOD))
    [run] = runs(engine)
    assert (run.source_kind, run.source, run.status) == ("url", feed.url, RunStatus.succeeded)
    assert (run.received, run.accepted, run.duplicate, run.rejected) == (29, 25, 1, 3)
    assert run.cursor == "c20"  # the last page's own cursor: the end has no cursor of its own
    with Session(engine) as session:
        stored = session.execute(select(Txn).where(col(Txn.txn_ref) == "R0000")).scalar_one()
    assert stored.amount_fen == 10050 and stored.ingest_id == run.id


def test_bad_items_are_rejected_with_reasons(
    engine: Engine, feed: FeedServer, tmp_path: Path
) -> None:
    rejects = tmp_path / "rejects.csv"
    assert counts(pull(feed.url, engine, page_size=10, rejects_path=rejects)) == CLEAN
    with Session(engine) as session:
        rows = session.execute(select(RejectedRow).order_by(col(RejectedRow.line_no))).scalars()
        found = [(r.line_no, r.reason.value, r.detail) for r in rows]
    assert found == [
        (13, "unknown_terminal", "no terminal NOPE"),
        (22, "bad_amount", "'12.3.4' is not an amount in yuan"),
        (23, "missing_field", "empty: status"),
    ]
    with rejects.open(encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["line", "reason", "detail", "raw"]
    assert [line[:2] for line in lines[1:]] == [
        ["13", "unknown_terminal"],
        ["22", "bad_amount"],
        ["23", "missing_field"],
    ]
    assert '"txn_ref": "BAD-SN"' in lines[1][3]  # the item's own JSON text


def test_an_item_that_is_not_an_object_is_malformed(engine: Engine, world: None) -> None:
    with FeedServer([GOOD[0], "just text", 42]).running() as server:
        report = pull(server.url, engine)
    assert counts(report) == {"received": 3, "accepted": 1, "duplicate": 0, "rejected": 2}


def test_503s_and_dropped_connections_are_retried(engine: Engine, feed: FeedServer) -> None:
    feed.failures = {10: ["503", "503"], 20: ["close", "429"]}
    assert counts(pull(feed.url, engine, page_size=10, retries=3)) == CLEAN
    assert (feed.requests_for(0), feed.requests_for(10), feed.requests_for(20)) == (1, 3, 3)
    assert db_state(engine) == (25, expected_days(GOOD))


def test_a_read_timeout_is_retried(engine: Engine, feed: FeedServer) -> None:
    feed.slow_seconds = 1.0
    feed.failures = {0: ["slow"]}
    assert counts(pull(feed.url, engine, page_size=10, timeout=0.3)) == CLEAN
    assert feed.requests_for(0) == 2


def test_an_unreachable_endpoint_fails_fast_and_clearly(engine: Engine, world: None) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed"
    started = time.perf_counter()
    with pytest.raises(Unavailable, match=r"unreachable after 3 attempts: ConnectError"):
        pull(url, engine, retries=3)
    assert time.perf_counter() - started < 5
    [run] = runs(engine)
    assert run.status == RunStatus.failed
    assert run.error and f"feed endpoint {url} unreachable" in run.error
    assert db_state(engine) == (0, [])


def test_a_client_error_is_not_retried(engine: Engine, feed: FeedServer) -> None:
    feed.failures = {0: ["401"]}
    with pytest.raises(Invalid, match=r"answered HTTP 401: .*token expired"):
        pull(feed.url, engine)
    assert len(feed.requests) == 1
    assert runs(engine)[0].status == RunStatus.failed


@pytest.mark.parametrize("answer", ["html", "no-items"])
def test_an_answer_that_is_not_a_paged_feed_is_refused(
    engine: Engine, feed: FeedServer, answer: str
) -> None:
    feed.failures = {0: [answer]}
    with pytest.raises(Invalid, match="not a paged feed"):
        pull(feed.url, engine)
    assert runs(engine)[0].status == RunStatus.failed


def test_a_failure_keeps_the_pages_taken_and_the_next_run_resumes(
    engine: Engine, feed: FeedServer
) -> None:
    feed.broken = {20: "503"}
    with pytest.raises(Unavailable, match="unreachable after 3 attempts: HTTP 503"):
        pull(feed.url, engine, page_size=10, retries=3)
    failed = runs(engine)[0]
    assert (failed.status, failed.cursor) == (RunStatus.failed, "c20")
    assert (failed.received, failed.accepted, failed.rejected) == (20, 19, 1)
    assert db_state(engine) == (19, expected_days(GOOD[:19]))

    feed.broken = {}
    feed.requests.clear()
    report = pull(feed.url, engine, page_size=10)
    assert [r["cursor"] for r in feed.requests] == ["c20"]
    assert counts(report) == {"received": 9, "accepted": 6, "duplicate": 1, "rejected": 2}
    # Together the two runs did exactly what one clean pull does.
    assert db_state(engine) == (25, expected_days(GOOD))
    assert sum(r.received for r in runs(engine)) == CLEAN["received"]


def test_a_killed_pull_resumes_to_the_state_of_one_clean_pull(
    engine: Engine, feed: FeedServer, db_url: str
) -> None:
    feed.failures = {20: ["hang"]}
    script = (
        "import sys\n"
        "from fleet.core.access import system_actor\n"
        "from fleet.feeds.pull import ingest_url\n"
        "from fleet.migrations import load_models\n"
        "load_models()\n"
        "ingest_url(sys.argv[1], actor=system_actor('nightly'), page_size=10)\n"
    )
    env = os.environ | {"FLEET_DATABASE_URL": db_url}
    child = subprocess.Popen([sys.executable, "-c", script, feed.url], env=env)
    try:
        deadline = time.monotonic() + 60
        while feed.requests_for(20) == 0 and child.poll() is None:
            assert time.monotonic() < deadline, "the child never asked for page 3"
            time.sleep(0.05)
    finally:
        child.kill()  # SIGKILL: no cleanup of any kind runs
        child.wait()
    killed = runs(engine)[0]
    assert (killed.status, killed.cursor, killed.received) == (RunStatus.running, "c20", 20)
    assert db_state(engine) == (19, expected_days(GOOD[:19]))

    report = pull(feed.url, engine, page_size=10)
    first, second = runs(engine)
    assert first.status == RunStatus.interrupted  # found dead by the next run
    assert second.status == RunStatus.succeeded
    assert report.received == 9
    assert db_state(engine) == (25, expected_days(GOOD))


def test_a_crash_inside_a_page_loses_only_that_page(
    engine: Engine, feed: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    save = pull_module._save_position

    def crash_on_page_3(conn: Any, report: Any, cursor: str | None, *args: Any, **kw: Any) -> None:
        if report.received > 20:  # page 3's rows are written, not yet committed
            raise KeyboardInterrupt
        save(conn, report, cursor, *args, **kw)

    monkeypatch.setattr(pull_module, "_save_position", crash_on_page_3)
    with pytest.raises(KeyboardInterrupt):
        pull(feed.url, engine, page_size=10)
    stopped = runs(engine)[0]
    assert (stopped.status, stopped.cursor, stopped.received) == (RunStatus.interrupted, "c20", 20)
    assert db_state(engine) == (19, expected_days(GOOD[:19]))

    monkeypatch.setattr(pull_module, "_save_position", save)
    assert pull(feed.url, engine, page_size=10).received == 9
    assert db_state(engine) == (25, expected_days(GOOD))


def test_a_rerun_of_a_finished_pull_is_all_duplicates(engine: Engine, feed: FeedServer) -> None:
    pull(feed.url, engine, page_size=10)
    before = db_state(engine)
    again = pull(feed.url, engine, page_size=10, resume=False)
    assert counts(again) == {"received": 29, "accepted": 0, "duplicate": 26, "rejected": 3}
    assert db_state(engine) == before
    # After a run that succeeded, a plain URL starts from its first page even with resume.
    feed.requests.clear()
    pull(feed.url, engine, page_size=10)
    assert feed.requests[0]["cursor"] is None
    assert db_state(engine) == before


def test_only_importers_may_pull(engine: Engine, feed: FeedServer) -> None:
    field_user = Actor(username="f", role=Role.field)
    with pytest.raises(Forbidden):
        ingest_url(feed.url, actor=field_user, engine=engine)
    with pytest.raises(Invalid, match="not an http"):
        ingest_url("ftp://example.org/feed", actor=ADMIN, engine=engine)
    assert feed.requests == [] and runs(engine) == []
