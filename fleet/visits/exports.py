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
from fleet.core.i18n import N_, Lang, Texts, texts_for
from fleet.core.phrases import phrase
from fleet.core.words import said, word
from fleet.inventory import contacts
from fleet.visits.schemas import PlanPublic, RoutePublic, VisitPublic

FORMATS = ("xlsx", "csv", "json", "html")
# The sheets are printed in Chinese unless the reader's language is given; every text is an
# English msgid said from the catalogue (plans.po), as on the pages.
# (header, width in characters)
COLUMNS = [
    (N_("Stop no."), 5),
    (N_("Kind"), 9),
    (N_("Serial no."), 14),
    (N_("Merchant name"), 18),
    (N_("Address"), 26),
    (N_("Contact"), 8),
    (N_("Phone"), 13),
    (N_("Shop hours"), 12),
    (N_("Planned arrival"), 8),
    (N_("Start"), 7),
    (N_("Leave"), 7),
    (N_("Priority"), 7),
    (N_("Reason"), 40),
    (N_("Latitude"), 10),
    (N_("Longitude"), 11),
    (N_("Outcome"), 12),
    (N_("Note"), 16),
]
UNPLANNED_COLUMNS = [
    (N_("Serial no."), 14),
    (N_("Merchant code"), 12),
    (N_("Merchant name"), 18),
    (N_("Kind"), 9),
    (N_("Priority"), 7),
    (N_("Why not planned"), 24),
    (N_("Why a candidate"), 50),
]
SUMMARY_COLUMNS = [
    (N_("Field officer"), 16),
    (N_("Staff no."), 14),
    (N_("Stops"), 6),
    (N_("Distance (km)"), 9),
    (N_("Leaves"), 7),
    (N_("Back"), 7),
    (N_("Working minutes"), 9),
]
SUMMARY = N_("Summary")
UNPLANNED = N_("Not planned")
LUNCH = N_("Lunch break")


def headers(t: Texts, columns: list[tuple[str, int]]) -> list[str]:
    return [t.gettext(header) for header, _ in columns]


def plan_title(t: Texts, plan: PlanPublic) -> str:
    """'兰山支行（LY01）2026-12-07 回访计划'."""
    return t.gettext(
        "{branch} ({code}) revisit plan for {date}",
        branch=plan.branch_name,
        code=plan.branch_code,
        date=plan.date,
    )


def hm(moment: datetime | None) -> str:
    """'08:05' for a time, '' for none."""
    return moment.strftime("%H:%M") if moment else ""


def stop_row(stop: VisitPublic, t: Texts) -> list[object]:
    """A stop's cells, in COLUMNS order."""
    return [
        stop.seq,
        said("visit_kind", stop.kind, t.lang),
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
        t.phrase(stop.why),
        stop.lat,
        stop.lng,
        t.gettext(word("outcome", stop.outcome)) if stop.outcome else "",
        stop.note or "",
    ]


def left_out(code: str, t: Texts | None = None) -> str:
    """Why a candidate was left out of the day (in Chinese unless `t` says otherwise)."""
    return (t or texts_for("zh")).phrase(phrase(f"unplanned_{code}"))


def lunch_row(route: RoutePublic, t: Texts) -> list[object]:
    """The lunch break as a row of its own."""
    row: list[object] = [""] * len(COLUMNS)
    row[1], row[9], row[10] = t.gettext(LUNCH), hm(route.lunch_start), hm(route.lunch_end)
    return row


def route_rows(route: RoutePublic, t: Texts) -> list[list[object]]:
    """The route's stops in order, with a lunch row where lunch falls."""
    rows: list[list[object]] = []
    lunch_done = route.lunch_start is None
    for stop in route.stops:
        if not lunch_done and route.lunch_start and stop.start >= route.lunch_start:
            rows.append(lunch_row(route, t))
            lunch_done = True
        rows.append(stop_row(stop, t))
    if not lunch_done:
        rows.append(lunch_row(route, t))
    return rows


def route_title(plan: PlanPublic, route: RoutePublic, t: Texts) -> str:
    """The line above a person's route: who, when, how far, how long."""
    lunch = (
        t.gettext(" · lunch {start}-{end}", start=hm(route.lunch_start), end=hm(route.lunch_end))
        if route.lunch_start
        else ""
    )
    return t.gettext(
        "{date} route · {name} ({username}) · leaves {depart}, back {back}{lunch} · {stops} stops"
        " · {km} km · {minutes} minutes' work",
        date=plan.date,
        name=route.full_name or route.username,
        username=route.username,
        depart=hm(route.depart),
        back=hm(route.back),
        lunch=lunch,
        stops=len(route.stops),
        km=f"{route.distance_km:.1f}",
        minutes=route.working_minutes,
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


def _print_ready(ws: Worksheet, columns: list[tuple[str, int]], title: str, t: Texts) -> None:
    """Title row, header row repeated on every page, widths, landscape A4 fitted to width."""
    sheets.append(ws, [title])
    ws["A1"].font = Font(bold=True, size=12)
    ws.append(headers(t, columns))
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


def present_notes(plan: PlanPublic, t: Texts | None = None) -> list[str]:
    """The plan's notes in the workbook's language, Chinese by default (its English when it has
    no phrases: a plan shown before they existed)."""
    t = t or texts_for("zh")
    return [t.phrase(n) for n in plan.note_phrases] if plan.note_phrases else plan.notes


def write_xlsx(plan: PlanPublic, path: Path | IO[bytes], lang: Lang = "zh") -> None:
    """A workbook: a summary, a print-ready sheet per person, and the unplanned list."""
    t = texts_for(lang)
    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = t.gettext(SUMMARY)
    _print_ready(summary, SUMMARY_COLUMNS, plan_title(t, plan), t)
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
    for note in present_notes(plan, t):
        sheets.append(summary, [note])
    taken: set[str] = {t.gettext(SUMMARY), t.gettext(UNPLANNED)}
    wrap = Alignment(wrap_text=True, vertical="top")
    for n, route in enumerate(plan.routes, 1):
        ws = wb.create_sheet(_sheet_name(n, route, taken))
        _print_ready(ws, COLUMNS, route_title(plan, route, t), t)
        for row in route_rows(route, t):
            sheets.append(ws, row)
        ws.append([])
        total = t.gettext(
            "Total: {stops} stops, {km} km, {minutes} minutes' work",
            stops=len(route.stops),
            km=f"{route.distance_km:.1f}",
            minutes=route.working_minutes,
        )
        ws.append([total])
        for row_cells in ws.iter_rows(min_row=3):
            for cell in row_cells:
                cell.alignment = wrap
    ws = wb.create_sheet(t.gettext(UNPLANNED))
    _print_ready(ws, UNPLANNED_COLUMNS, unplanned_title(t, plan), t)
    for u in plan.unplanned:
        sheets.append(
            ws,
            [
                u.sn or "",
                u.merchant_code,
                u.merchant_name,
                said("visit_kind", u.kind, t.lang),
                u.priority,
                left_out(u.reason_code, t),
                t.phrase(u.why),
            ],
        )
    wb.save(path)


def unplanned_title(t: Texts, plan: PlanPublic) -> str:
    """'2026-12-07 未安排的候选（12）'."""
    return t.gettext(
        "{date}: candidates not planned ({count})", date=plan.date, count=len(plan.unplanned)
    )


def csv_text(plan: PlanPublic, lang: Lang = "zh") -> str:
    """One row per stop (staff first), then the candidates not planned."""
    t = texts_for(lang)
    out = io.StringIO()
    writer = sheets.csv_writer(out)
    writer.writerow(headers(t, SUMMARY_COLUMNS[:2] + COLUMNS))
    for route in plan.routes:
        for row in route_rows(route, t):
            writer.writerow([route.full_name, route.username, *row])
    for u in plan.unplanned:
        row = [""] * len(COLUMNS)
        row[1], row[2], row[3] = said("visit_kind", u.kind, lang), u.sn or "", u.merchant_name
        row[11] = str(u.priority)
        row[12] = t.gettext(
            "Not planned: {why_not}; {why}", why_not=left_out(u.reason_code, t), why=t.phrase(u.why)
        )
        writer.writerow([t.gettext(UNPLANNED), "", *row])
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


def render(
    plan: PlanPublic, fmt: str, *, contacts_in_clear: bool = False, lang: Lang = "zh"
) -> bytes:
    """The plan in `fmt` (xlsx, csv with a BOM for Excel, json, html) as bytes. Merchant phones
    and contact names are masked unless `contacts_in_clear` (see fleet.inventory.contacts)."""
    if not contacts_in_clear:
        plan = with_contacts_masked(plan)
    if fmt == "csv":
        return ("\ufeff" + csv_text(plan, lang)).encode("utf-8")
    if fmt == "json":
        return json_text(plan).encode("utf-8")
    if fmt == "html":
        # printable builds on this module's rows and titles.
        from fleet.visits.printable import html_text

        return html_text(plan, texts_for(lang)).encode("utf-8")
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(plan, buffer, lang)
        return buffer.getvalue()
    raise Invalid("unknown format {fmt}; use {choices}", fmt=repr(fmt), choices=", ".join(FORMATS))


def write(plan: PlanPublic, path: Path, *, contacts_in_clear: bool = False) -> str:
    """Writes the plan in the format its suffix names; returns that format."""
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise Invalid("--out {name}: use a .xlsx, .csv, .json or .html file", name=path.name)
    path.write_bytes(render(plan, fmt, contacts_in_clear=contacts_in_clear))
    return fmt
