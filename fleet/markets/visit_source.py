"""Campaign prospects on the staff's revisit lists: the source that fleet.visits calls.

Visits sit below markets in the dependency order, so fleet.wiring hands this source to the
planner (visits.candidates.SOURCES) instead of the planner importing campaigns.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from fleet.core.phrases import parts, phrase
from fleet.inventory.models import Merchant
from fleet.markets.run import campaign_candidates
from fleet.visits import candidates as visit_candidates
from fleet.visits.models import VisitKind


def campaign_visits(
    session: Session, branch_ids: frozenset[int] | None, plan_date: date
) -> list[visit_candidates.Candidate]:
    """The running campaigns' open prospects as visit candidates for `plan_date`."""
    found = campaign_candidates(session, branch_ids=branch_ids, day=plan_date)
    ids = {c.merchant_id for c in found}
    merchants = {
        m.id: m
        for m in session.execute(select(Merchant).where(col(Merchant.id).in_(ids))).scalars()
    }
    return [
        visit_candidates.Candidate(
            kind=VisitKind.campaign,
            merchant=merchants[c.merchant_id],
            branch_id=merchants[c.merchant_id].branch_id,
            priority=float(c.priority),
            reason={
                "campaign_id": c.campaign_id,
                "market": c.market_code,
                "unit_to_bring": c.terminal_sn,
            },
            why=parts(
                phrase("why_campaign", campaign=c.campaign_name, market=c.market_name),
                phrase("why_bring_unit", sn=c.terminal_sn) if c.terminal_sn else None,
            ),
            campaign_id=c.campaign_id,
        )
        for c in found
    ]
