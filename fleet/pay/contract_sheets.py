"""A contract's statement as a workbook for payroll: the terms and figures, each member's
share, and one row per line (unit, baseline, clawback) whose amounts add up to the total."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook

from fleet.core import sheets
from fleet.core.i18n import N_, texts_for
from fleet.core.names import named
from fleet.core.words import said
from fleet.pay import periods
from fleet.pay.contract_models import ContractPublic, Statement

# The workbook's words: English msgids, written in the reader's language (pay.po).
HEADER = (
    N_("Kind"),
    N_("Unit SN"),
    N_("Merchant"),
    N_("Merchant code"),
    N_("Branch"),
    N_("Activated in"),
    N_("Fell back on"),
    N_("Transactions"),
    N_("Net revenue (yuan)"),
    N_("Commission (yuan)"),
)


def yuan(fen: int | None) -> float | None:
    return None if fen is None else round(fen / 100, 2)


def shares(total_fen: int, members: int) -> list[int]:
    """The total split equally (in fen), the first members taking the odd fen."""
    if members <= 0:
        return []
    base, extra = divmod(abs(total_fen), members)
    sign = -1 if total_fen < 0 else 1
    return [sign * (base + (1 if n < extra else 0)) for n in range(members)]


def title(contract: ContractPublic, statement: Statement, lang: str = "zh") -> str:
    t = texts_for(lang)
    if statement.final:
        state = N_("Settlement") if statement.settled else N_("Settlement (not final)")
    else:
        state = N_("Monthly accrual")
    return t.gettext(
        "{name}: contract {state} {period} ({start} – {end})",
        name=contract.name,
        state=t.gettext(state),
        period=statement.period,
        start=statement.start,
        end=periods.last_day(statement.end),
    )


def write_xlsx(
    contract: ContractPublic, statement: Statement, path: Path, lang: str = "zh"
) -> None:
    """The statement of `contract` as a workbook at `path`, in `lang`."""
    t = texts_for(lang)
    _, comma = t.gettext, t.comma
    book = Workbook()
    summary = book.active
    summary.title = _("Summary")
    rows: list[tuple[str, object]] = [
        (N_("Contract"), f"#{contract.id} {contract.name}"),
        (
            N_("Held by"),
            comma.join(f"{m.full_name} ({m.username})" for m in contract.members),
        ),
        (N_("Branch"), f"{contract.branch_name} ({contract.branch_code})"),
        # A sheet has room for every merchant the label leaves out.
        (N_("Portfolio"), comma.join(f"{m.name} ({m.code})" for m in contract.merchants))
        if contract.merchants
        else (N_("Portfolio"), contract.portfolio_label),
        (N_("Period"), contract.period),
        (N_("Commission rate"), f"{contract.commission_ppm / 10_000:g}%"),
        (N_("Only above the baseline"), _("yes") if contract.above_baseline else _("no")),
        (N_("Threshold"), f"{contract.threshold_pct}%"),
        (N_("Cap"), f"{contract.cap_pct}%"),
        (N_("Target active rate"), contract.target_active_rate),
        (N_("Target revenue (yuan)"), yuan(statement.target_revenue_fen)),
        (N_("Units"), statement.units),
        (N_("Active rate"), statement.active_rate),
        (N_("Net revenue (yuan)"), yuan(statement.net_fen)),
        (N_("Baseline (yuan)"), yuan(statement.baseline_fen)),
        (N_("Attainment"), round(statement.attainment, 4)),
        (N_("Factor"), round(statement.factor, 4)),
        (N_("Total commission (yuan)"), yuan(statement.total_fen)),
    ]
    sheets.append(summary, [title(contract, statement, lang)])
    for label, value in rows:
        sheets.append(summary, [_(label), value])
    sheets.append(summary, [])
    sheets.append(summary, [_("Shares"), _("Commission (yuan)")])
    for member, share in zip(
        contract.members, shares(statement.total_fen, len(contract.members)), strict=True
    ):
        sheets.append(summary, [f"{member.full_name} ({member.username})", yuan(share)])
    lines = book.create_sheet(_("Lines"))
    sheets.append(lines, [_(h) for h in HEADER])
    for line in statement.lines:
        sheets.append(
            lines,
            [
                said("contract_line", line.kind, t.lang),
                line.sn,
                line.merchant_name,
                line.merchant_code,
                named(line.branch_name, line.branch_code) if line.branch_code else None,
                line.month,
                line.lapsed_on,
                line.txn_count,
                yuan(line.net_fen),
                yuan(line.commission_fen),
            ],
        )
    sheets.append(lines, [_("Total"), *[None] * 8, yuan(statement.total_fen)])
    book.save(path)
