"""Feed sources: admin-only registration, masked secrets, audit, and pulls that move on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from fleet.core.access import Actor, Role
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from fleet.feeds import sources
from fleet.feeds.models import FeedSource, IngestRun, RunStatus
from fleet.feeds.sources import FeedSourceCreate, FeedSourceUpdate
from tests.feeds.pulling import ADMIN, FeedServer, db_state, expected_days, good_items, world

__all__ = ["world"]  # a fixture
GOOD = good_items()

SECRET = "Bearer s3cr3t-token-0042abcd"
OPS = Actor(username="ops", role=Role.branch_ops, branch_ids=frozenset({1}))
FIELD = Actor(username="fieldy", role=Role.field, branch_ids=frozenset({1}))


def create(engine: Engine, url: str = "http://127.0.0.1:9/feed", **extra: object) -> int:
    data = FeedSourceCreate(name="bank-nightly", url=url, auth_header=SECRET, **extra)  # type: ignore[arg-type]
    with session_scope(engine) as session:
        return sources.create_source(session, ADMIN, data).id


def source_row(engine: Engine, source_id: int) -> FeedSource:
    with Session(engine) as session:
        found = session.get(FeedSource, source_id)
        assert found is not None
        return found


def test_crud_with_the_auth_header_masked(engine: Engine) -> None:
    source_id = create(engine, schedule="30 1 * * mon-fri", page_size=500)
    with session_scope(engine) as session:
        shown = sources.get_source(session, OPS, source_id)
        assert shown.auth_header == "Bearer ****abcd"
        assert (shown.schedule, shown.page_size, shown.enabled) == ("30 1 * * mon-fri", 500, True)
        listed, total = sources.list_sources(session, OPS, q="nightly")
        assert total == 1 and listed[0].auth_header == "Bearer ****abcd"
        assert sources.list_sources(session, OPS, q="nothing-like-it")[1] == 0
        with pytest.raises(Conflict):
            sources.create_source(
                session, ADMIN, FeedSourceCreate(name="bank-nightly", url="https://b.example/f")
            )
    with session_scope(engine) as session:
        changed = sources.update_source(
            session,
            ADMIN,
            source_id,
            FeedSourceUpdate(name="bank-daily", schedule="0 3 * * *", auth_header=None),
        )
        assert (changed.name, changed.schedule, changed.auth_header) == (
            "bank-daily",
            "0 3 * * *",
            None,
        )
    assert source_row(engine, source_id).auth_header is None
    with session_scope(engine) as session:
        sources.delete_source(session, ADMIN, source_id)
    with session_scope(engine) as session, pytest.raises(NotFound):
        sources.get_source(session, ADMIN, source_id)


def test_only_admins_write_and_operations_read(engine: Engine) -> None:
    source_id = create(engine)
    with session_scope(engine) as session:
        with pytest.raises(Forbidden):
            sources.create_source(session, OPS, FeedSourceCreate(name="x", url="http://h/f"))
        with pytest.raises(Forbidden):
            sources.update_source(session, OPS, source_id, FeedSourceUpdate(enabled=False))
        with pytest.raises(Forbidden):
            sources.delete_source(session, OPS, source_id)
        with pytest.raises(Forbidden):
            sources.list_sources(session, FIELD)
        assert sources.get_source(session, OPS, source_id).name == "bank-nightly"


def test_every_write_is_audited_without_the_secret(engine: Engine) -> None:
    source_id = create(engine)
    with session_scope(engine) as session:
        sources.update_source(
            session, ADMIN, source_id, FeedSourceUpdate(auth_header="Token n3w-s3cr3t-99999zzzz")
        )
    with session_scope(engine) as session:
        sources.delete_source(session, ADMIN, source_id)
    with Session(engine) as session:
        entries = list(
            session.execute(
                select(AuditEntry)
                .where(col(AuditEntry.entity) == "feed_source")
                .order_by(col(AuditEntry.id))
            ).scalars()
        )
    assert [(e.action, e.entity_id, e.actor_name) for e in entries] == [
        ("create", "bank-nightly", "tests"),
        ("update", "bank-nightly", "tests"),
        ("delete", "bank-nightly", "tests"),
    ]
    assert entries[0].changes["auth_header"] == "Bearer ****abcd"
    assert entries[1].changes["auth_header"] == ["Bearer ****abcd", "Token ****zzzz"]
    logged = json.dumps([e.changes for e in entries])
    assert "s3cr3t" not in logged


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "ftp://bank.example/feed", "http"),
        ("schedule", "0 2 * *", "Wrong number of fields"),
        ("schedule", "0 25 * * *", "higher than the maximum"),
        ("schedule", "0 2 * * 1", "use names"),
        ("page_size", 0, "greater than or equal to 1"),
    ],
)
def test_bad_settings_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FeedSourceCreate.model_validate({"name": "x", "url": "http://h/f", field: value})
    with pytest.raises(ValidationError, match=message):
        FeedSourceUpdate.model_validate({field: value})


def test_a_new_url_starts_again_from_the_first_page(engine: Engine) -> None:
    source_id = create(engine)
    with session_scope(engine) as session:
        sources.update_source(session, ADMIN, source_id, FeedSourceUpdate(cursor="c40"))
    with session_scope(engine) as session:
        sources.update_source(session, ADMIN, source_id, FeedSourceUpdate(url="https://new/f"))
    assert source_row(engine, source_id).cursor is None
    with session_scope(engine) as session, pytest.raises(Invalid, match="url cannot be empty"):
        sources.update_source(session, ADMIN, source_id, FeedSourceUpdate(url=None))


@pytest.fixture
def tail_feed(world: None) -> Iterator[FeedServer]:
    with FeedServer(GOOD, tail=True).running() as server:
        yield server


def test_pull_source_takes_only_new_pages(engine: Engine, tail_feed: FeedServer) -> None:
    source_id = create(engine, url=tail_feed.url, page_size=10)
    first = sources.pull_source(engine, ADMIN, source_id, backoff=0.01)
    assert (first.received, first.accepted) == (25, 25)
    row = source_row(engine, source_id)
    assert (row.cursor, row.last_status) == ("c25", "succeeded")
    assert row.last_run_at is not None
    assert {r["authorization"] for r in tail_feed.requests} == {SECRET}

    tail_feed.requests.clear()
    with session_scope(engine) as session:  # a request or a CLI command holds a session
        again = sources.pull_source(session, OPS, source_id, backoff=0.01)
        assert session.get(FeedSource, source_id).last_run_at > row.last_run_at  # type: ignore[operator, union-attr]
    assert (again.received, again.accepted, again.duplicate) == (0, 0, 0)
    assert [r["cursor"] for r in tail_feed.requests] == ["c25"]

    newer = good_items(3, prefix="N", start=timedelta(days=1))
    tail_feed.items += newer
    third = sources.pull_source(engine, ADMIN, source_id, backoff=0.01)
    assert (third.received, third.accepted) == (3, 3)
    assert source_row(engine, source_id).cursor == "c28"
    assert db_state(engine) == (28, expected_days(GOOD + newer))
    with Session(engine) as session:
        linked = session.execute(
            select(IngestRun.feed_source_id, IngestRun.status).order_by(col(IngestRun.id))
        ).all()
    assert linked == [(source_id, RunStatus.succeeded)] * 3


def test_a_failed_pull_keeps_its_pages_and_the_source_cursor(
    engine: Engine, tail_feed: FeedServer
) -> None:
    source_id = create(engine, url=tail_feed.url, page_size=10)
    tail_feed.broken = {20: "503"}
    with pytest.raises(Unavailable):
        sources.pull_source(engine, ADMIN, source_id, backoff=0.01, retries=2)
    row = source_row(engine, source_id)
    assert (row.cursor, row.last_status) == ("c20", "failed")
    tail_feed.broken = {}
    tail_feed.requests.clear()
    report = sources.pull_source(engine, ADMIN, source_id, backoff=0.01)
    assert report.received == 5
    assert tail_feed.requests[0]["cursor"] == "c20"
    assert db_state(engine) == (25, expected_days(GOOD))


def test_disabled_and_deleted_sources(engine: Engine, tail_feed: FeedServer) -> None:
    source_id = create(engine, url=tail_feed.url)
    sources.pull_source(engine, ADMIN, source_id, backoff=0.01)
    with session_scope(engine) as session:
        sources.update_source(session, ADMIN, source_id, FeedSourceUpdate(enabled=False))
    with pytest.raises(Invalid, match="disabled"):
        sources.pull_source(engine, ADMIN, source_id)
    with pytest.raises(Forbidden):
        sources.pull_source(engine, FIELD, source_id)
    with session_scope(engine) as session:
        sources.delete_source(session, ADMIN, source_id)
    with Session(engine) as session:
        run = session.execute(select(IngestRun)).scalar_one()
    assert (run.feed_source_id, run.source) == (None, tail_feed.url)  # history stays
    with pytest.raises(NotFound):
        sources.pull_source(engine, ADMIN, source_id)
