"""Scores 0–100 rank a terminal among its peers: same market trade, else same merchant category."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from fleet.core.config import get_settings
from fleet.scoring import service as scoring
from fleet.scoring.models import TerminalScore
from tests import factories
from tests.scoring.util import add_usage, as_of, deploy


@pytest.fixture
def units(session: Session) -> dict[str, int]:
    """Four hardware-market units used 0, 10, 20 and 30 times in 90 days, one used 10 times in
    the 45 days since it came (as busy per day as the 20), and two units outside the market."""
    today = as_of()
    factories.branch(session, "A1")
    factories.market(session, "MK", "A1", category="hardware")
    for code in ("M0", "M10", "M20", "M30", "MNEW"):
        factories.merchant(session, code, "A1", category="五金", market_code="MK")
    factories.merchant(session, "MOUT", "A1", lat=35.3, category="五金")
    factories.merchant(session, "MGROCER", "A1", lat=35.3, category="grocery")
    plan = {
        "M0": (200, 0),
        "M10": (200, 10),
        "M20": (200, 20),
        "M30": (200, 30),
        "MNEW": (45, 10),
        "MOUT": (200, 1),
        "MGROCER": (200, 0),
    }
    ids = {}
    for merchant, (deployed, count) in plan.items():
        unit = deploy(session, f"SN-{merchant}", "A1", merchant, today - timedelta(deployed))
        ids[merchant] = unit.id or 0
        if count:
            add_usage(session, unit.id, today - timedelta(days=10), count)
    return ids


def scores(session: Session) -> dict[int, tuple[str, float]]:
    rows = session.execute(select(TerminalScore).where(TerminalScore.as_of == as_of())).scalars()
    return {r.terminal_id: (r.peer_group, r.score) for r in rows}


def test_rank_within_the_market_trade(session: Session, units: dict[str, int]) -> None:
    scoring.score(session, as_of=as_of())
    got = scores(session)
    # Daily rates in the market: 0, 10/90, 20/90 = 10/45 (tied), 30/90. Below + half the ties,
    # over the four others: 10 → 1/4, the tied two → 2.5/4, 30 → 4/4; no use scores 0.
    assert {m: got[i] for m, i in units.items()} == {
        "M0": ("market:hardware", 0.0),
        "M10": ("market:hardware", 25.0),
        "M20": ("market:hardware", 62.5),
        "MNEW": ("market:hardware", 62.5),
        "M30": ("market:hardware", 100.0),
        # Alone in its group with some use: the best of its peers.
        "MOUT": ("category:五金", 100.0),
        "MGROCER": ("category:grocery", 0.0),
    }


def test_peer_group_by_category_only(session: Session, units: dict[str, int]) -> None:
    settings = get_settings().model_copy(update={"peer_group": "category"})
    scoring.score(session, as_of=as_of(), settings=settings)
    got = scores(session)
    # Now the six 五金 units rank together: rates 0, 1/90, 10/90, 20/90 (x2), 30/90.
    assert got[units["MOUT"]] == ("category:五金", 20.0)
    assert got[units["M10"]] == ("category:五金", 40.0)
    assert got[units["M30"]] == ("category:五金", 100.0)
    assert got[units["M0"]] == ("category:五金", 0.0)
