"""A plan as files staff print or open in Excel: XLSX (a sheet per person), CSV, JSON, HTML."""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from fleet.core import sheets
from fleet.core.errors import Invalid
from fleet.core.i18n import texts_for
from fleet.core.phrases import phrase
from fleet.core.words import said, word
from fleet.inventory import contacts
from fleet.visits.schemas import PlanPublic, RoutePublic, VisitPublic

FORMATS = ("xlsx", "csv", "json", "html")
ZH = texts_for("zh")  # the sheets are printed in Chinese
# (header, width in characters)
COLUMNS = [
    ("顺序", 5),
    ("类型", 9),
    ("终端号", 14),
    ("商户名称", 18),
    ("地址", 26),
    ("联系人", 8),
    ("电话", 13),
    ("营业时段", 12),
    ("计划到达", 8),
    ("开始", 7),
    ("离开", 7),
    ("优先级", 7),
    ("原因", 40),
    ("纬度", 10),
    ("经度", 11),
    ("结果", 12),
    ("备注", 16),
]
UNPLANNED_COLUMNS = [
    ("终端号", 14),
    ("商户编号", 12),
    ("商户名称", 18),
    ("类型", 9),
    ("优先级", 7),
    ("未安排原因", 24),
    ("入选原因", 50),
]


def hm(moment: datetime | None) -> str:
    """'08:05' for a time, '' for none."""
    return moment.strftime("%H:%M") if moment else ""


def stop_row(stop: VisitPublic) -> list[object]:
    """A stop's cells, in COLUMNS order."""
    return [
        stop.seq,
        said("visit_kind", stop.kind),
        stop.sn or "",
        stop.merchant_name,
        stop.address or "",
        stop.contact_name or "",
        stop.phone or "",
        stop.window,
        hm(stop.arrival),
        hm(stop.start),
        hm(stop.departure),
        stop.priority,
        ZH.phrase(stop.why),
        stop.lat,
        stop.lng,
        ZH.gettext(word("outcome", stop.outcome)) if stop.outcome else "",
        stop.note or "",
    ]


def left_out(code: str) -> str:
    """Why a candidate was left out of the day, in Chinese."""
    return ZH.phrase(phrase(f"unplanned_{code}"))


def lunch_row(route: RoutePublic) -> list[object]:
    """The lunch break as a row of its own."""
    row: list[object] = [""] * len(COLUMNS)
    row[1], row[9], row[10] = "午休", hm(route.lunch_start), hm(route.lunch_end)
    return row


def route_rows(route: RoutePublic) -> list[list[object]]:
    """The route's stops in order, with a lunch row where lunch falls."""
    rows: list[list[object]] = []
    lunch_done = route.lunch_start is None
    for stop in route.stops:
        if not lunch_done and route.lunch_start and stop.start >= route.lunch_start:
            rows.append(lunch_row(route))
            lunch_done = True
        rows.append(stop_row(stop))
    if not lunch_done:
        rows.append(lunch_row(route))
    return rows


def route_title(plan: PlanPublic, route: RoutePublic) -> str:
    """The line above a person's route: who, when, how far, how long."""
    lunch = f" · 午休 {hm(route.lunch_start)}-{hm(route.lunch_end)}" if route.lunch_start else ""
    return (
        f"{plan.date} 回访路线 · {route.full_name or route.username}（{route.username}）· "
        f"出发 {hm(route.depart)} 返回 {hm(route.back)}{lunch} · {len(route.stops)} 站 · "
        f"{route.distance_km:.1f} km · 工作 {route.working_minutes} 分钟"
    )


def _sheet_name(n: int, route: RoutePublic, taken: set[str]) -> str:
    name = f"{n} {route.full_name or route.username}"
    for ch in "[]:*?/\\":
        name = name.replace(ch, " ")
    name = name[:31]
    while name in taken:
        name = f"{name[:28]}~{n}"
    taken.add(name)
    return name


def _print_ready(ws: Worksheet, columns: list[tuple[str, int]], title: str) -> None:
    """Title row, header row repeated on every page, widths, landscape A4 fitted to width."""
    sheets.append(ws, [title])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append([header for header, _ in columns])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for i, (_, width) in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3"
    ws.print_title_rows = "2:2"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = True


def present_notes(plan: PlanPublic) -> list[str]:
    """The plan's notes in Chinese, the workbook's language (its English when it has no phrases:
    a plan shown before they existed)."""
    zh = texts_for("zh")
    return [zh.phrase(n) for n in plan.note_phrases] if plan.note_phrases else plan.notes


def write_xlsx(plan: PlanPublic, path: Path | IO[bytes]) -> None:
    """A workbook: a summary, a print-ready sheet per person, and the unplanned list."""
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = "汇总"
    summary_columns = [
        ("客户经理", 16),
        ("工号", 14),
        ("站数", 6),
        ("里程 km", 9),
        ("出发", 7),
        ("返回", 7),
        ("工作分钟", 9),
    ]
    _print_ready(
        summary, summary_columns, f"{plan.branch_name}（{plan.branch_code}）{plan.date} 回访计划"
    )
    for route in plan.routes:
        sheets.append(
            summary,
            [
                route.full_name,
                route.username,
                len(route.stops),
                route.distance_km,
                hm(route.depart),
                hm(route.back),
                route.working_minutes,
            ],
        )
    summary.append([])
    for note in present_notes(plan):
        sheets.append(summary, [note])
    taken: set[str] = {"汇总", "未安排"}
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, route in enumerate(plan.routes, 1):
        ws = wb.create_sheet(_sheet_name(n, route, taken))
        _print_ready(ws, COLUMNS, route_title(plan, route))
        for row in route_rows(route):
            sheets.append(ws, row)
        ws.append([])
        total = (
            f"{len(route.stops)} 站，{route.distance_km:.1f} km，工作 {route.working_minutes} 分钟"
        )
        ws.append([f"合计：{total}"])
        for row_cells in ws.iter_rows(min_row=3):
            for cell in row_cells:
                cell.alignment = wrap
    ws = wb.create_sheet("未安排")
    _print_ready(ws, UNPLANNED_COLUMNS, f"{plan.date} 未安排的候选（{len(plan.unplanned)}）")
    for u in plan.unplanned:
        sheets.append(
            ws,
            [
                u.sn or "",
                u.merchant_code,
                u.merchant_name,
                said("visit_kind", u.kind),
                u.priority,
                left_out(u.reason_code),
                ZH.phrase(u.why),
            ],
        )
    wb.save(path)


def csv_text(plan: PlanPublic) -> str:
    """One row per stop (staff first), then the candidates not planned."""
    out = io.StringIO()
    writer = sheets.csv_writer(out)
    writer.writerow(["客户经理", "工号"] + [h for h, _ in COLUMNS])
    for route in plan.routes:
        for row in route_rows(route):
            writer.writerow([route.full_name, route.username, *row])
    for u in plan.unplanned:
        row = [""] * len(COLUMNS)
        row[1], row[2], row[3] = said("visit_kind", u.kind), u.sn or "", u.merchant_name
        row[11], row[12] = str(u.priority), f"未安排：{left_out(u.reason_code)}；{ZH.phrase(u.why)}"
        writer.writerow(["未安排", "", *row])
    return out.getvalue()


def json_text(plan: PlanPublic) -> str:
    """The plan's public shape as JSON (UTF-8 text, indented)."""
    return json.dumps(plan.model_dump(mode="json"), ensure_ascii=False, indent=2)


def with_contacts_masked(plan: PlanPublic) -> PlanPublic:
    """The plan with every stop's phone and contact name masked."""
    routes = [
        route.model_copy(update={"stops": [contacts.mask_item(s) for s in route.stops]})
        for route in plan.routes
    ]
    return plan.model_copy(update={"routes": routes})


def render(plan: PlanPublic, fmt: str, *, contacts_in_clear: bool = False) -> bytes:
    """The plan in `fmt` (xlsx, csv with a BOM for Excel, json, html) as bytes. Merchant phones
    and contact names are masked unless `contacts_in_clear` (see fleet.inventory.contacts)."""
    if not contacts_in_clear:
        plan = with_contacts_masked(plan)
    if fmt == "csv":
        return ("\ufeff" + csv_text(plan)).encode("utf-8")
    if fmt == "json":
        return json_text(plan).encode("utf-8")
    if fmt == "html":
        # printable builds on this module's rows and titles.
        from fleet.visits.printable import html_text

        return html_text(plan).encode("utf-8")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(plan, buffer)
        return buffer.getvalue()
    raise Invalid("unknown format {fmt}; use {choices}", fmt=repr(fmt), choices=", ".join(FORMATS))


def write(plan: PlanPublic, path: Path, *, contacts_in_clear: bool = False) -> str:
    """Writes the plan in the format its suffix names; returns that format."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise Invalid("--out {name}: use a .xlsx, .csv, .json or .html file", name=path.name)
    path.write_bytes(render(plan, fmt, contacts_in_clear=contacts_in_clear))
    return fmt
