"""Two real processes ingesting the same feed at once: the feed is taken exactly once, and
each run counts (and rolls up) only the rows it inserted itself."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, select

from fleet.feeds.models import IngestRun, RunStatus, Txn
from tests.conftest import TEST_URL
from tests.feeds.util import line, small_fleet, stored, write_feed

LINES = 30_000
SMALL_BLOCKS_CLI = (
    "import sys; from fleet.feeds import formats; formats.BLOCK_BYTES = 1 << 16; "
    "from fleet.cli.main import app; sys.argv[0] = 'fleet'; app()"
)


@contextmanager
def writes_held() -> Iterator[None]:
    """Holds the database's writes to `txn` from another connection, so that both runs
    reach their first insert before either may make it: the overlap is certain."""
    url = make_url(TEST_URL)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database or "", isolation_level=None, timeout=30)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as pg:
        pg.execute("LOCK TABLE txn IN EXCLUSIVE MODE")
        yield
        pg.rollback()


def test_two_processes_ingesting_one_feed_take_it_once(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    rows = [
        line(
            f"O{n}",
            sn=f"T{1 + n % 3}",
            merchant=f"M{1 + n % 3}",
            at=f"2026-05-{1 + n % 28:02d}T{8 + n % 10:02d}:00:00",
            amount=f"{1 + n % 50}.00",
        )
        for n in range(LINES)
    ]
    feed = write_feed(tmp_path / "feed.csv", rows)
    env = os.environ | {"FLEET_DATABASE_URL": TEST_URL}
    # `fleet ingest`, reading the feed in small blocks: a run's transaction then spans many
    # blocks, and the other run arrives in the middle of it.
    command = [sys.executable, "-c", SMALL_BLOCKS_CLI, "ingest", str(feed), "--json"]
    spawn = {"env": env, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    # Both wait to record their runs, and so start together.
    with writes_held():
        processes = [subprocess.Popen(command, **spawn) for _ in range(2)]  # type: ignore[call-overload]
        time.sleep(4)
    outputs = [p.communicate(timeout=120) for p in processes]
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err

    reports = [json.loads(out) for out, _ in outputs]
    assert sorted(r["accepted"] for r in reports) == [0, LINES]
    assert sorted(r["duplicate"] for r in reports) == [0, LINES]
    session.expire_all()
    assert session.execute(select(func.count()).select_from(Txn)).scalar_one() == LINES
    runs = session.execute(select(IngestRun).order_by(col(IngestRun.id))).scalars().all()
    assert [r.status for r in runs] == [RunStatus.succeeded] * 2
    assert sum(r.accepted for r in runs) == LINES

    # The rollups are exactly those of one clean run of the feed.
    after_both = stored(session)
    taker = next(r.id for r in runs if r.accepted)
    assert session.execute(select(func.count()).where(col(Txn.ingest_id) == taker)).scalar_one()
    days = after_both["days"]
    assert isinstance(days, list)
    assert sum(d[2] for d in days) == LINES
    assert sum(d[3] for d in days) == sum((1 + n % 50) * 100 for n in range(LINES))
