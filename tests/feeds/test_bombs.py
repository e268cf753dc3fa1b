"""Hostile feed files, built at test time: each is refused fast, within bounded memory, with
the limit it passed named, nothing of it kept, and its run marked failed (not left running)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from fleet.core.errors import Invalid
from fleet.feeds import service
from fleet.feeds.models import IngestRun, RejectedRow, RunStatus, Txn
from tests.factories import SYSTEM
from tests.feeds.util import HEADER, line, small_fleet, write_feed
from tests.measured import Cost, run_fleet

MIB = 1 << 20
# A bound against unpacking gigabytes (that takes minutes), not a speed figure: wide enough for
# a loaded 2-core machine, where the refusal took 10.3 s.
MAX_SECONDS = 30
MAX_PEAK_MB = 500


def gzip_of(path: Path, head: bytes, piece: bytes, times: int) -> Path:
    """A gzip file that unpacks to `head` and then `piece` `times` times: one member per
    piece, compressed once (a multi-member gzip is one stream to every reader)."""
    member = gzip.compress(piece, compresslevel=9)
    with path.open("wb") as out:
        out.write(gzip.compress(head))
        for _ in range(times):
            out.write(member)
    return path


def refused(session: Session, cost: Cost, setting: str) -> None:
    assert cost.returncode != 0, cost.stdout
    assert setting in cost.stderr, cost.stderr
    assert cost.seconds < MAX_SECONDS, cost
    assert cost.peak_mb < MAX_PEAK_MB, cost
    session.expire_all()
    [run] = session.execute(select(IngestRun)).scalars().all()
    assert run.status == RunStatus.failed and setting in (run.error or "")
    assert session.execute(select(func.count()).select_from(Txn)).scalar_one() == 0
    assert session.execute(select(func.count()).select_from(RejectedRow)).scalar_one() == 0


def test_one_giant_line(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    bomb = gzip_of(tmp_path / "line.csv.gz", HEADER.encode() + b"\nR1,", b"A" * MIB, 512)
    assert bomb.stat().st_size < MIB
    refused(session, run_fleet("ingest", str(bomb)), "FLEET_FEED_MAX_LINE_BYTES")


def test_a_small_gzip_that_unpacks_to_more_than_512_mib(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    blank_lines = (b" " * 63 + b"\n") * (MIB // 64)
    bomb = gzip_of(tmp_path / "big.csv.gz", HEADER.encode() + b"\n", blank_lines, 600)
    assert bomb.stat().st_size < 2 * MIB
    cost = run_fleet("ingest", str(bomb), env={"FLEET_FEED_MAX_BYTES": str(64 * MIB)})
    refused(session, cost, "FLEET_FEED_MAX_BYTES")


def test_a_million_bad_lines(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    bomb = gzip_of(tmp_path / "bad.csv.gz", HEADER.encode() + b"\n", b"bad\n" * 1000, 1000)
    assert bomb.stat().st_size < MIB
    refused(session, run_fleet("ingest", str(bomb)), "FLEET_FEED_MAX_REJECTED")


def test_a_long_line_among_short_ones(session: Session, tmp_path: Path) -> None:
    small_fleet(session)
    long_ref = "L" * (65 << 10)
    feed = write_feed(tmp_path / "feed.csv", [line("S1"), line(long_ref), line("S2")])
    with pytest.raises(Invalid, match="FLEET_FEED_MAX_LINE_BYTES"):
        service.ingest_file(feed, actor=SYSTEM)
    session.expire_all()
    [run] = session.execute(select(IngestRun)).scalars().all()
    assert run.status == RunStatus.failed
    assert session.execute(select(func.count()).select_from(Txn)).scalar_one() == 0
