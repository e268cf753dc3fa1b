"""The scorecard as HR's workbook: one row per staff member (or branch), headers and role
names in the reader's language (Chinese by default), rates as fractions Excel can format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleet.core.i18n import N_, texts_for
from fleet.core.names import named
from fleet.core.words import ROLE
from fleet.imports.files import write_table
from fleet.pay.scorecard import Scorecard
from fleet.pay.scorecard_models import IMPORTED

COLUMNS = (
    N_("Rank"),
    N_("Name"),
    N_("Username"),
    N_("Role"),
    N_("Branch"),
    N_("Points"),
    N_("Activation cohort"),
    N_("Activated"),
    N_("Activation rate"),
    N_("Activation score"),
    N_("Scored by the Wilson lower bound"),
    N_("Previous period's score"),
    N_("Activation improvement"),
    N_("Active-terminal rate (动户率)"),
    N_("Active-terminal rate at the start"),
    N_("Change in active-terminal rate"),
    N_("Usage rate (使用率)"),
    N_("Fee revenue (yuan)"),
    N_("Net revenue (yuan)"),
    N_("Cost (yuan)"),
    N_("Return on cost"),
    N_("Placements"),
    N_("Recoveries"),
    N_("Visits"),
    N_("Tickets restored"),
    N_("SLA met"),
    N_("ATM diversion rate"),
    N_("Passbook to card"),
    N_("Corporate e-banking coverage"),
    N_("Personal e-banking active rate"),
)

MEASURE_NAMES = {
    "activation": N_("Activation score"),
    "atm_diversion": N_("ATM diversion rate"),
    "passbook_to_card": N_("Passbook to card"),
    "corporate_ebank": N_("Corporate e-banking coverage"),
    "personal_ebank": N_("Personal e-banking active rate"),
}


def _yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def write(card: Scorecard, path: Path, lang: str = "zh") -> int:
    """Writes the card to `path` (.xlsx or .csv); returns the rows written."""
    texts = texts_for(lang)
    rows: list[list[Any]] = []
    for r in card.rows:
        rows.append(
            [
                r.rank,
                r.name,
                r.key,
                texts.gettext(ROLE[r.role]) if r.role in ROLE else "",
                named(r.branch_name, r.branch) if r.branch else "",
                None if r.points is None else round(r.points, 2),
                r.cohort,
                r.activated,
                r.rate,
                r.score,
                texts.gettext("yes") if r.wilson else "",
                r.baseline_score,
                r.change,
                r.active_rate,
                r.active_rate_start,
                r.active_rate_change,
                None if r.usage_rate is None else round(r.usage_rate, 4),
                _yuan(r.fee_fen),
                _yuan(r.net_fen),
                _yuan(r.cost_fen),
                r.yield_rate,
                r.placements,
                r.recoveries,
                r.visits,
                r.tickets,
                r.sla_met_rate,
                *(r.rates.get(m.value) for m in IMPORTED),
            ]
        )
    write_table(path, [texts.gettext(c) for c in COLUMNS], rows, sheet=card.period)
    return len(rows)
