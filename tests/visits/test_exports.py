"""The plan as files: a print-ready XLSX read back with openpyxl, CSV, JSON and HTML."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from fleet.core.config import Settings
from fleet.core.db import session_scope
from fleet.core.errors import Invalid
from fleet.core.i18n import texts_for
from fleet.visits import exports, present
from fleet.visits import plan as planning
from fleet.visits.schemas import PlanPublic
from tests.factories import SYSTEM
from tests.visits.conftest import Region

HEADERS = [
    "顺序",
    "类型",
    "终端号",
    "商户名称",
    "地址",
    "联系人",
    "电话",
    "营业时间",
    "计划到达",
    "开始",
    "离开",
    "优先级",
    "原因",
    "纬度",
    "经度",
    "结果",
    "备注",
]


def a_plan(engine: Engine, region: Region, **settings: object) -> PlanPublic:
    """County A's day; two people, so that one carries most of it."""
    with session_scope(engine) as session:
        plan = planning.plan_day(
            session,
            SYSTEM,
            branch_code="A",
            plan_date=region.today,
            staff_limit=2,
            settings=Settings(**settings),  # type: ignore[arg-type]
        )
        return present.plan_public(session, plan)


def test_the_xlsx_has_a_print_ready_sheet_per_person(
    engine: Engine, region: Region, tmp_path: Path
) -> None:
    # Four-hour visits: one a person, so that half the list is left out.
    plan = a_plan(engine, region, revisit_service_minutes=240)
    path = tmp_path / "plan.xlsx"
    assert exports.write(plan, path) == "xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["汇总", "1 Field_A1", "2 Field_A2", "未安排"]
    for route, name in zip(plan.routes, book.sheetnames[1:3], strict=True):
        sheet = book[name]
        assert [c.value for c in sheet[2]] == HEADERS
        assert sheet["A1"].value.startswith(f"{plan.date} 回访路线 · {route.full_name}")
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True
        assert sheet.print_title_rows == "$2:$2"  # the header row on every page
        assert sheet.column_dimensions["M"].width == 40
        rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
        stops = [r for r in rows if isinstance(r[0], int)]
        assert [r[0] for r in stops] == [s.seq for s in route.stops]
        for row, stop in zip(stops, route.stops, strict=True):
            assert (row[2], row[3], row[7]) == (stop.sn, stop.merchant_name, stop.window)
            assert row[8] == stop.arrival.strftime("%H:%M")
            assert row[10] == stop.departure.strftime("%H:%M")
            assert row[12] == texts_for("zh").phrase(stop.why)
        if route.lunch_start:
            lunch = next(r for r in rows if r[1] == "午休")
            assert lunch[9] == route.lunch_start.strftime("%H:%M")
        assert rows[-1][0].startswith(f"合计：{len(route.stops)} 站")
    left = book["未安排"]
    assert [c.value for c in left[2]][:2] == ["终端号", "商户编号"]
    assert left.max_row - 2 == len(plan.unplanned) > 0
    assert left["F3"].value == "当天时间已排满更重要的回访"
    summary = book["汇总"]
    assert [summary.cell(row=3 + i, column=2).value for i in range(2)] == [
        "field_a1",
        "field_a2",
    ]


def test_csv_json_and_html(engine: Engine, region: Region) -> None:
    plan = a_plan(engine, region)
    raw = exports.render(plan, "csv")
    assert raw.startswith("\ufeff".encode())  # Excel opens UTF-8 with a BOM
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["客户经理", "工号", *HEADERS]
    stops = [r for r in rows[1:] if r[0] != "未安排" and r[3] != "午休"]
    assert sorted(r[4] for r in stops) == sorted(s.sn or "" for r in plan.routes for s in r.stops)

    data = json.loads(exports.render(plan, "json"))
    first = data["routes"][0]
    assert set(first) >= {"username", "distance_km", "working_minutes", "stops", "lunch_start"}
    stop = first["stops"][0]
    for key in ("sn", "merchant_name", "address", "lat", "lng", "arrival", "departure", "window"):
        assert key in stop
    assert stop["why"]["code"] == "parts"
    assert stop["nav_amap"].startswith("https://uri.amap.com/navigation?")
    assert "unplanned" in data

    html = exports.render(plan, "html").decode()
    assert html.startswith("<!DOCTYPE html>") and "@page { size: A4 landscape" in html
    assert html.count("<svg") == len(plan.routes)
    for route in plan.routes:
        for s in route.stops:
            assert f"<td>{s.sn}</td>" in html


def test_unknown_formats_are_refused(engine: Engine, region: Region, tmp_path: Path) -> None:
    plan = a_plan(engine, region)
    with pytest.raises(Invalid, match=r"use a \.xlsx"):
        exports.write(plan, tmp_path / "plan.pdf")


def test_navigation_links_use_each_apps_datum() -> None:
    from fleet.core.geo import wgs84_to_gcj02

    lat, lng = 35.06, 118.36
    glat, glng = wgs84_to_gcj02(lat, lng)
    amap = present.amap_link(lat, lng, "商户 M1")
    # AMap reads GCJ-02: the stored WGS-84 point is shifted (some hundreds of metres here).
    # The link opens navigation there by car (issue 17), not a marker.
    assert amap == (
        f"https://uri.amap.com/navigation?to={glng:.6f},{glat:.6f},%E5%95%86%E6%88%B7%20M1"
        "&mode=car&src=fleet&coordinate=gaode&callnative=1"
    )
    # A comma in a shop's name cannot break the comma-separated destination.
    assert "to=" + f"{glng:.6f},{glat:.6f},A%2CB&" in present.amap_link(lat, lng, "A,B")
    assert abs(glng - lng) > 0.001
    assert present.geo_link(lat, lng, "M1") == "geo:35.060000,118.360000?q=35.060000,118.360000(M1)"


def test_the_sheets_in_english_say_no_chinese_of_their_own(
    engine: Engine, region: Region, tmp_path: Path
) -> None:
    """The same words from the catalogue in the reader's language: an English reader's
    workbook and printable page have English headings, titles and lunch rows."""
    import re

    plan = a_plan(engine, region, revisit_service_minutes=240)
    path = tmp_path / "plan.xlsx"
    exports.write_xlsx(plan, path, "en")
    book = load_workbook(path)
    assert book.sheetnames[0] == "Summary" and book.sheetnames[-1] == "Not planned"
    sheet = book[book.sheetnames[1]]
    assert [c.value for c in sheet[2]][:3] == ["Stop no.", "Kind", "Serial no."]
    assert " route · " in sheet["A1"].value
    html = exports.render(plan, "html", contacts_in_clear=True, lang="en").decode()
    assert '<html lang="en">' in html and "revisit plan for" in html
    names = {s.merchant_name for r in plan.routes for s in r.stops} | {
        u.merchant_name for u in plan.unplanned
    }
    names |= {f"{s.address or ''}" for r in plan.routes for s in r.stops}
    names |= {s.contact_name or "" for r in plan.routes for s in r.stops}
    names |= {plan.branch_name} | {r.full_name or "" for r in plan.routes}  # data, as typed
    for name in sorted(names, key=len, reverse=True):
        html = html.replace(name, "")
    assert not re.findall(r"[\u4e00-\u9fff]+", html)
