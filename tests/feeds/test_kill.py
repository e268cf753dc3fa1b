"""A run killed mid-way leaves the data as before it; the next run finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from fleet.core.db import session_scope
from fleet.feeds import service
from fleet.feeds.models import IngestRun, RunStatus, TerminalDay, Txn
from tests.conftest import TEST_URL
from tests.factories import SYSTEM
from tests.feeds.util import line, small_fleet, stored, write_feed

LINES = 400_000


def big_feed(path: Path) -> Path:
    rows = [
        line(
            f"K{n}",
            sn=f"T{1 + n % 3}",
            merchant=f"M{1 + n % 3}",
            at=f"2026-{4 + n % 6:02d}-{1 + n % 28:02d}T{8 + n % 10:02d}:00:00",
            amount=f"{1 + n % 500}.{n % 100:02d}",
        )
        for n in range(LINES)
    ]
    return write_feed(path, rows)


def running_run() -> IngestRun | None:
    with session_scope() as check:
        return (
            check.execute(select(IngestRun).where(col(IngestRun.status) == RunStatus.running))
            .scalars()
            .first()
        )


def test_a_killed_ingest_keeps_nothing_and_a_rerun_ends_as_one_clean_run(
    session: Session, tmp_path: Path
) -> None:
    small_fleet(session)
    feed = big_feed(tmp_path / "big.csv")
    before = stored(session)
    env = os.environ | {"FLEET_DATABASE_URL": TEST_URL}
    process = subprocess.Popen(
        [sys.executable, "-m", "fleet.cli.main", "ingest", str(feed)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while running_run() is None and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # well into the writing of the feed
    assert process.poll() is None, "the ingest finished before it could be killed: make it longer"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert stored(session) == before
    report = service.ingest_file(feed, actor=SYSTEM)
    assert (report.received, report.accepted, report.duplicate) == (LINES, LINES, 0)
    session.expire_all()
    statuses = session.execute(select(IngestRun.status).order_by(col(IngestRun.id))).scalars()
    assert list(statuses) == [RunStatus.interrupted, RunStatus.succeeded]
    total = session.execute(select(func.sum(Txn.amount_fen))).scalar_one()
    rolled = session.execute(select(func.sum(TerminalDay.amount_fen))).scalar_one()
    assert total == rolled == sum((1 + n % 500) * 100 + n % 100 for n in range(LINES))
