"""A running campaign's prospects are on the branch's revisit candidates, and only then."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from fleet.core.config import get_settings
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.inventory.scope import subtree_ids
from fleet.visits.candidates import select_candidates
from fleet.visits.models import VisitKind
from tests.markets.conftest import World
from tests.markets.test_campaigns import plan


def test_campaign_prospects_join_the_revisit_candidates(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        campaign = plan(session, world, tmp_path)
        county_a = subtree_ids(session, world.branches["A"])
        running = world.today - timedelta(days=60)
        picked = select_candidates(
            session, branch_ids=county_a, plan_date=running, settings=get_settings()
        ).candidates
        visits = [c for c in picked if c.kind is VisitKind.campaign]
        assert [(c.merchant.code, c.campaign_id, c.priority) for c in visits] == [
            ("P1", campaign.id, 84.0),
            ("M5", campaign.id, 43.0),
            ("M4", campaign.id, 35.0),
        ]
        said = texts_for("zh").phrase(visits[0].why)
        assert said.startswith(f"专项营销「{campaign.name}」") and said.endswith("携带机具 S1")

        after = select_candidates(
            session, branch_ids=county_a, plan_date=world.today, settings=get_settings()
        ).candidates
        assert not [c for c in after if c.kind is VisitKind.campaign]  # the campaign has ended
