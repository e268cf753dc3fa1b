"""A bank's first ingest: units deployed 400 days before D, a feed of its last 61 days with one
stray line 150 days back. Every reason counts the 61 days of data, and says so."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.feeds import coverage, service
from fleet.inventory.models import Terminal
from fleet.recovery import suggestions
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from fleet.visits import candidates
from fleet.visits.models import VisitKind
from fleet.visits.priority import Facts, priority
from tests import factories
from tests.factories import SYSTEM
from tests.feeds.util import line, write_feed
from tests.scoring.util import as_of, deploy

ZH, EN = texts_for("zh"), texts_for("en")


def ago(days: int) -> date:
    return as_of() - timedelta(days=days)


@pytest.fixture
def first_ingest(engine: Engine, tmp_path: Path) -> dict[str, int]:
    with session_scope(engine) as session:
        factories.branch(session, "LY", level="city")
        factories.branch(session, "A1", "LY")
        ids = {}
        for n in (1, 2, 3):
            factories.merchant(session, f"M{n}", "A1")
            ids[f"T{n}"] = deploy(session, f"T{n}", "A1", f"M{n}", ago(400)).id or 0
    lines = [
        line(f"R{d}-{sn}", sn, f"{ago(d)}T10:00:00", merchant=m)
        for d in range(1, 62)
        for sn, m in (("T1", "M1"), ("T2", "M2"))
    ]
    stray = line("STRAY", "T3", f"{ago(150)}T10:00:00", merchant="M3")
    service.ingest_file(write_feed(tmp_path / "bank.csv", [stray, *lines]), actor=SYSTEM)
    with session_scope(engine) as session:
        scoring.score(session, as_of=as_of())
    return ids


def test_the_stray_line_moves_neither_the_start_nor_the_reason(
    engine: Engine, first_ingest: dict[str, int]
) -> None:
    with session_scope(engine) as session:
        assert coverage.start(session) == ago(61)
        score = session.get(TerminalScore, (as_of(), first_ingest["T3"]))
        assert score is not None
        assert (score.status.value, score.last_used_on, score.data_later()) == (
            "never_used",
            None,
            ago(61),
        )
        found = {s.sn: s for s in suggestions.suggest(session, SYSTEM)}
    assert set(found) == {"T3"}
    assert ZH.phrase(found["T3"].why) == (
        f"61 天数据内未使用（数据自 {ZH.date(ago(61))} 起，{ZH.date(ago(400))} 布放）"
    )
    assert EN.phrase(found["T3"].why) == (
        f"Not used in 61 days of data (data since {EN.date(ago(61))}; "
        f"deployed on {EN.date(ago(400))})"
    )
    assert found["T3"].evidence["reason"] == {
        "code": "unused_in_data",
        "days": 61,
        "since": ago(61).isoformat(),
    }


def test_the_visit_list_counts_the_days_of_data(
    engine: Engine, first_ingest: dict[str, int]
) -> None:
    with Session(engine) as session:
        branch = session.get(Terminal, first_ingest["T3"]).branch_id  # type: ignore[union-attr]
        chosen = candidates.select_candidates(
            session, branch_ids=frozenset({branch}), plan_date=as_of(), settings=get_settings()
        )
    t3 = next(c for c in chosen.candidates if c.sn == "T3")
    assert ZH.phrase(t3.why).startswith(f"61 天数据内未使用（数据自 {ZH.date(ago(61))} 起）")
    assert "布放" not in ZH.phrase(t3.why)
    assert (t3.reason["days_idle"], t3.reason["data_from"]) == (61, ago(61).isoformat())


def test_a_unit_deployed_within_the_data_still_reads_deployed() -> None:
    said = priority(
        Facts(kind=VisitKind.revisit, plan_date=date(2026, 6, 1), status="never_used", days_idle=45)
    )
    assert ZH.phrase(said.why).startswith("布放 45 天从未使用") and said.reason["data_from"] is None
