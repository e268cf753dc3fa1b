"""A campaign's report as an XLSX workbook with Chinese headers: summary, placements, prospects."""

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
from fleet.core.i18n import texts_for
from fleet.core.names import named
from fleet.core.words import said
from fleet.inventory import service as inventory
from fleet.markets import report
from fleet.markets.models import Campaign, ProspectPublic
from fleet.markets.report import CampaignReport, category_zh

PERCENT = "0.0%"
YUAN = "#,##0.00"

PLACEMENT_HEADERS = ("终端号", "商户编号", "商户名称", "布放日期", "布放人员", "当前状态",
                     "前30天交易笔数", "30天后是否活跃")  # fmt: skip
PROSPECT_HEADERS = ("商户编号", "商户名称", "行业", "地址", "优先级", "理由", "来源", "状态",
                    "负责人员")  # fmt: skip


def _sheet(workbook: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]) -> Any:
    sheet = workbook.create_sheet(title)
    sheet.append(list(headers))
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


def _summary(sheet: Worksheet, report: CampaignReport, names: Names) -> None:
    c = report.campaign
    before, after = report.before, report.after
    rows: list[tuple[str, Any, str | None]] = [
        ("活动名称", c.name, None),
        ("活动编号", c.id, None),
        ("市场", named(c.market_name, c.market_code), None),
        ("类别", category_zh(c.category), None),
        ("负责网点", names.branch(c.branch_code), None),
        ("开始日期", c.starts_on, "yyyy-mm-dd"),
        ("结束日期", c.ends_on, "yyyy-mm-dd"),
        ("阶段", said("campaign_phase", c.phase), None),
        ("参与人员", "、".join(names.person(u) or u for u in c.staff), None),
        ("数据截至", report.as_of, "yyyy-mm-dd"),
        ("目标布放数", report.target, None),
        ("已布放数", report.placed, None),
        ("完成率", report.placed_vs_target, PERCENT),
        ("预留机具数", report.units_set_aside, None),
        ("未使用预留机具", report.units_unused, None),
        ("意向商户数", report.prospects, None),
        ("已拜访商户数", report.visits_made, None),
        ("满30天布放数", report.judged, None),
        ("30天后活跃数", report.active_after_30, None),
        ("30天活跃率", report.active_rate_after_30, PERCENT),
        ("未满30天布放数", report.pending_30, None),
        ("每台机具成本(元)", report.cost_per_unit_yuan, YUAN),
        ("每次拜访成本(元)", report.cost_per_visit_yuan, YUAN),
        ("总成本(元)", report.total_cost_yuan, YUAN),
        ("每个活跃布放成本(元)", report.cost_per_active_yuan, YUAN),
        ("活动前评分日期", before.as_of if before else None, "yyyy-mm-dd"),
        ("活动前市场动户率", before.active_rate if before else None, PERCENT),
        ("活动后评分日期", after.as_of if after else None, "yyyy-mm-dd"),
        ("活动后市场动户率", after.active_rate if after else None, PERCENT),
        ("动户率变化", report.active_rate_change, PERCENT),
        ("下降原因：新增未活跃机具", report.fall_new_inactive, None),
        ("下降原因：转为不活跃的原活跃机具", report.fall_gone_quiet, None),
    ]
    for label, value, number_format in rows:
        sheets.append(sheet, [label, value])
        if number_format and value is not None:
            sheet.cell(row=sheet.max_row, column=2).number_format = number_format


def write_report_xlsx(
    report: CampaignReport,
    prospects: list[ProspectPublic],
    path: Path,
    names: Names | None = None,
) -> Path:
    """Writes the report to `path`: sheets 汇总 (summary), 布放明细 (placements), 意向商户;
    branches and staff by name with their code after (`names_for`)."""
    names = names or Names()
    workbook = Workbook()
    workbook.remove(workbook.active)
    _summary(_sheet(workbook, "汇总", ("指标", "数值"), (24, 40)), report, names)
    placements = _sheet(workbook, "布放明细", PLACEMENT_HEADERS, (16, 12, 28, 12, 14, 10, 14, 14))
    for line in report.placements:
        active = {True: "是", False: "否", None: "未满30天"}[line.active_after_30]
        sheets.append(
            placements,
            [line.sn, line.merchant_code, line.merchant_name, line.placed_on,
             names.person(line.staff_username), said("state", line.state_now),
             line.txn_first_30, active]
        )  # fmt: skip
        placements.cell(row=placements.max_row, column=4).number_format = "yyyy-mm-dd"
    chinese = texts_for("zh")
    listed = _sheet(workbook, "意向商户", PROSPECT_HEADERS, (12, 28, 10, 36, 8, 60, 12, 8, 14))
    for p in prospects:
        sheets.append(
            listed,
            [p.merchant_code, p.merchant_name, p.category, p.address,
             p.priority, chinese.phrase(p.why), said("prospect_source", p.source),
             said("prospect_status", p.status), names.person(p.staff_username)]
        )  # fmt: skip
    workbook.save(path)
    return path


def write_campaign_xlsx(session: Session, campaign: Campaign, path: Path) -> Path:
    """A campaign's report workbook (the API's and the campaign page's download)."""
    shown = report.campaign_report(session, campaign)
    prospects = report.prospect_list(session, campaign)
    return write_report_xlsx(shown, prospects, path, names_for(session, shown, prospects))
