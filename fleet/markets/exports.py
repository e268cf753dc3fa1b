"""A campaign's report as an XLSX workbook in the reader's language (Chinese by default, every
text from the catalogue: marketing.po): summary, placements, prospects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from fleet.auth import service as auth
from fleet.core import sheets
from fleet.core.i18n import N_, Lang, Texts, texts_for
from fleet.core.names import named
from fleet.core.words import said
from fleet.inventory import service as inventory
from fleet.markets import report
from fleet.markets.models import Campaign, ProspectPublic
from fleet.markets.report import CampaignReport

PERCENT = "0.0%"
YUAN = "#,##0.00"

PLACEMENT_HEADERS = (N_("Serial no."), N_("Merchant code"), N_("Merchant name"), N_("Placed on"),
                     N_("Placed by"), N_("State now"), N_("Transactions in the first 30 days"),
                     N_("Active after 30 days"))  # fmt: skip
PROSPECT_HEADERS = (N_("Merchant code"), N_("Merchant name"), N_("Trade"), N_("Address"),
                    N_("Priority"), N_("Why"), N_("Source"), N_("Status"),
                    N_("Staff in charge"))  # fmt: skip
SUMMARY, PLACEMENTS, PROSPECTS = N_("Summary"), N_("Placements"), N_("Prospect merchants")
# Whether a placement was active 30 days on (None: not 30 days yet).
ACTIVE_AFTER_30 = {True: N_("yes"), False: N_("no"), None: N_("Not 30 days yet")}


def _sheet(
    workbook: Workbook, t: Texts, title: str, headers: Sequence[str], widths: Sequence[int]
) -> Any:
    sheet = workbook.create_sheet(t.gettext(title))
    sheet.append([t.gettext(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A2"
    return sheet


@dataclass(frozen=True)
class Names:
    """Branch names by code and full names by username, for the workbook to write names
    first, codes after (core.names)."""

    branches: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)

    def branch(self, code: str | None) -> str | None:
        return named(self.branches.get(code or ""), code) if code else None

    def person(self, username: str | None) -> str | None:
        return named(self.people.get(username or ""), username) if username else None


def names_for(session: Session, report: CampaignReport, prospects: list[ProspectPublic]) -> Names:
    """The names a campaign's workbook shows, in two queries."""
    usernames = {*report.campaign.staff, *(p.staff_username for p in report.placements)}
    usernames |= {p.staff_username for p in prospects}
    return Names(
        inventory.branch_names(session, [report.campaign.branch_code]),
        auth.full_names(session, usernames),
    )


def _summary(sheet: Worksheet, t: Texts, report: CampaignReport, names: Names) -> None:
    c = report.campaign
    before, after = report.before, report.after
    rows: list[tuple[str, Any, str | None]] = [
        (N_("Campaign name"), c.name, None),
        (N_("Campaign no."), c.id, None),
        (N_("Market"), named(c.market_name, c.market_code), None),
        (N_("Category"), said("market_category", c.category, t.lang), None),
        (N_("Branch in charge"), names.branch(c.branch_code), None),
        (N_("Starts on"), c.starts_on, "yyyy-mm-dd"),
        (N_("Ends on"), c.ends_on, "yyyy-mm-dd"),
        (N_("Phase"), said("campaign_phase", c.phase, t.lang), None),
        (N_("Staff"), t.comma.join(names.person(u) or u for u in c.staff), None),
        (N_("Data as of"), report.as_of, "yyyy-mm-dd"),
        (N_("Target placements"), report.target, None),
        (N_("Units placed"), report.placed, None),
        (N_("Placed vs target"), report.placed_vs_target, PERCENT),
        (N_("Units set aside"), report.units_set_aside, None),
        (N_("Set-aside units not used"), report.units_unused, None),
        (N_("Prospects"), report.prospects, None),
        (N_("Merchants visited"), report.visits_made, None),
        (N_("Placements 30 days old"), report.judged, None),
        (N_("Active after 30 days (placements)"), report.active_after_30, None),
        (N_("Active rate after 30 days"), report.active_rate_after_30, PERCENT),
        (N_("Placements under 30 days old"), report.pending_30, None),
        (N_("Cost per unit (yuan)"), report.cost_per_unit_yuan, YUAN),
        (N_("Cost per visit (yuan)"), report.cost_per_visit_yuan, YUAN),
        (N_("Total cost (yuan)"), report.total_cost_yuan, YUAN),
        (N_("Cost per active placement (yuan)"), report.cost_per_active_yuan, YUAN),
        (N_("Scored on, before the campaign"), before.as_of if before else None, "yyyy-mm-dd"),
        (
            N_("Market's active-terminal rate before"),
            before.active_rate if before else None,
            PERCENT,
        ),
        (N_("Scored on, after the campaign"), after.as_of if after else None, "yyyy-mm-dd"),
        (N_("Market's active-terminal rate after"), after.active_rate if after else None, PERCENT),
        (N_("Change in active-terminal rate"), report.active_rate_change, PERCENT),
        (N_("Fall: new units not active"), report.fall_new_inactive, None),
        (N_("Fall: active units gone quiet"), report.fall_gone_quiet, None),
    ]
    for label, value, number_format in rows:
        sheets.append(sheet, [t.gettext(label), value])
        if number_format and value is not None:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format


def write_report_xlsx(
    report: CampaignReport,
    prospects: list[ProspectPublic],
    path: Path,
    names: Names | None = None,
    lang: Lang = "zh",
) -> Path:
    """Writes the report to `path` in `lang`: sheets summary (汇总), placements (布放明细) and
    prospects (意向商户); branches and staff by name with their code after (`names_for`)."""
    names = names or Names()
    t = texts_for(lang)
    workbook = Workbook()
    workbook.remove(workbook.active)
    summary = _sheet(workbook, t, SUMMARY, (N_("Measure"), N_("Value")), (24, 40))
    _summary(summary, t, report, names)
    placements = _sheet(
        workbook, t, PLACEMENTS, PLACEMENT_HEADERS, (16, 12, 28, 12, 14, 10, 14, 14)
    )
    for line in report.placements:
        active = t.gettext(ACTIVE_AFTER_30[line.active_after_30])
        sheets.append(
            placements,
            [line.sn, line.merchant_code, line.merchant_name, line.placed_on,
             names.person(line.staff_username), said("state", line.state_now, lang),
             line.txn_first_30, active]
        )  # fmt: skip
        placements.cell(row=placements.max_row, column=4).number_format = "yyyy-mm-dd"
    listed = _sheet(workbook, t, PROSPECTS, PROSPECT_HEADERS, (12, 28, 10, 36, 8, 60, 12, 8, 14))
    for p in prospects:
        sheets.append(
            listed,
            [p.merchant_code, p.merchant_name, p.category, p.address,
             p.priority, t.phrase(p.why), said("prospect_source", p.source, lang),
             said("prospect_status", p.status, lang), names.person(p.staff_username)]
        )  # fmt: skip
    workbook.save(path)
    return path


def write_campaign_xlsx(
    session: Session, campaign: Campaign, path: Path, lang: Lang = "zh"
) -> Path:
    """A campaign's report workbook (the API's and the campaign page's download), in `lang`."""
    shown = report.campaign_report(session, campaign)
    prospects = report.prospect_list(session, campaign)
    names = names_for(session, shown, prospects)
    return write_report_xlsx(shown, prospects, path, names, lang)
