"""A refused feed line is written inert in every rejects file (formula injection, issue 14)."""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.feeds import history, service
from tests.factories import SYSTEM
from tests.feeds.util import line, small_fleet, write_feed


def test_a_refused_formula_line_is_inert_in_the_rejects_file_and_download(
    session: Session, engine: Engine, tmp_path: Path
) -> None:
    small_fleet(session)
    hostile = line('=HYPERLINK("http://x","a")', sn="T404")
    feed = write_feed(tmp_path / "feed.csv", [line("OK1"), hostile])
    report = service.ingest_file(feed, actor=SYSTEM, rejects_path=tmp_path / "rejects.csv")
    assert (report.accepted, report.rejected) == (1, 1)
    from_file = list(csv.reader((tmp_path / "rejects.csv").read_text("utf-8-sig").splitlines()))
    download = b"".join(history.rejected_csv(engine, report.run_id or 0)).decode("utf-8-sig")
    from_download = list(csv.reader(download.splitlines()))
    for rows in (from_file, from_download):
        assert rows[1][0] == "3"
        assert rows[1][3] == "'" + hostile
