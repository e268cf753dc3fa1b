"""Marketing's pages at the protocol level, on both databases: the market ranking and a
market's page show the service's figures, the planner creates the campaign the API would
(with its audit entry), refuses bad input next to the fields, and scope and role hold.

The world is the markets tests' scored region (tests/markets/conftest.py): marketing_a sees
county A, whose outlet A1 runs MK1 (hardware: 5 open merchants, 3 with a unit, 4 units,
动户率 50%, 20 stalls); B1 runs MK2 (stone), outside marketing_a's scope.
"""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from fleet.core.access import Role
from fleet.core.audit import AuditEntry
from fleet.core.db import session_scope
from fleet.core.i18n import texts_for
from fleet.markets import campaigns, ranking
from fleet.markets.models import Campaign, CampaignCreate
from tests import factories
from tests.markets.conftest import World, build
from tests.pages.forms import form_for
from tests.scoring.util import as_of
from tests.web.conftest import sign_in as api_sign_in

API = "/api/v1"
NEW = "/marketing/campaigns/new"


@pytest.fixture
def region(engine: Engine) -> World:
    with session_scope(engine) as session:
        world = build(session, as_of())
        factories.user(session, "field_pages", Role.field, "A1")  # one with a password
    return world


def sign_in(client: TestClient, username: str) -> None:
    answer = client.post(
        "/login",
        data={"username": username, "password": factories.PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def row_of(html: str, attribute: str, key: str) -> str:
    found = re.search(rf'<tr {attribute}="{key}">(.*?)</tr>', html, re.S)
    assert found, f"no row {key}"
    return found.group(1)


def figure(html: str, name: str) -> str:
    found = re.search(rf'data-figure="{name}">(.*?)</', html, re.S)
    assert found, f"no figure {name}"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_the_ranking_shows_the_services_figures(
    client: TestClient, region: World, engine: Engine
) -> None:
    with session_scope(engine) as session:
        expected = ranking.rank_markets(session, region.actor(session, "marketing_a"))
    assert [r.code for r in expected] == ["MK1"]
    sign_in(client, "marketing_a")
    page = client.get("/marketing/markets")
    assert page.status_code == 200
    assert "市场排名" in page.text
    mk1 = row_of(page.text, "data-market", "MK1")
    assert (figure(mk1, "merchants"), figure(mk1, "terminals")) == ("5", "4")
    assert figure(mk1, "coverage") == "15.0%"  # 3 served of 20 stalls
    assert figure(mk1, "active_rate") == "50.0%"
    assert figure(mk1, "white_spots") == "2"  # M4 and M5
    assert figure(mk1, "score") == f"{expected[0].score:.1f}"
    assert "五金" in mk1 and texts_for("zh").phrase(expected[0].why) in mk1
    assert f'href="/marketing/markets/{region.markets["MK1"]}"' in mk1
    assert 'href="/maps/coverage?branch=A1"' in mk1
    assert f'href="{NEW}?market={region.markets["MK1"]}"' in mk1
    assert 'data-market="MK2"' not in page.text  # B1's market

    stone = client.get("/marketing/markets", params={"category": "stone"})
    assert 'data-market="MK1"' not in stone.text and "没有符合条件的市场" in stone.text
    by_branch = client.get("/marketing/markets", params={"branch": region.branches["A1"]})
    assert 'data-market="MK1"' in by_branch.text

    choose = dict(form_for(page.text, "/settings/language"))
    assert client.post("/settings/language", data=choose).status_code == 200
    english = client.get("/marketing/markets").text
    assert "Market ranking" in english and "Hardware" in english and "1 market" in english
    assert expected[0].reason in english.replace("&#39;", "'")


def test_a_market_page_shows_figures_prospects_and_campaigns(
    client: TestClient, region: World
) -> None:
    sign_in(client, "marketing_a")
    mk1 = region.markets["MK1"]
    page = client.get(f"/marketing/markets/{mk1}")
    assert page.status_code == 200
    assert figure(page.text, "rank") == "1"
    assert (figure(page.text, "merchants"), figure(page.text, "served")) == ("5", "3")
    assert figure(page.text, "active_rate") == "50.0%"
    # The prospects: open merchants without a unit (M6 is closed, M1-M3 hold units).
    prospects = re.search(r'<table class="prospects">(.*?)</table>', page.text, re.S)
    assert prospects is not None
    assert re.findall(r"<small class=\"muted\">(M\d)</small>", prospects.group(1)) == ["M4", "M5"]
    # Why each is worth a visit, in the reader's language (no branch records for either).
    assert prospects.group(1).count("无柜面现金记录；在市场MK1（五金，同业动户率50%）") == 2
    choose = dict(form_for(page.text, "/settings/language"))
    assert client.post("/settings/language", data=choose).status_code == 200
    english = client.get(f"/marketing/markets/{mk1}").text
    prospects = re.search(r'<table class="prospects">(.*?)</table>', english, re.S)
    assert prospects is not None
    english_reason = "No counter cash records; in 市场MK1 (Hardware, trade 50% active)"
    assert prospects.group(1).count(english_reason) == 2
    assert "无柜面" not in english
    assert "<svg" in page.text  # the weekly 动户率 trend (two scored weeks)
    assert "该市场尚无营销活动" in page.text


def plan_fields(d: Any) -> dict[str, str]:
    return {
        "name": "五金城营销",
        "starts_on": str(d - timedelta(days=3)),
        "ends_on": str(d + timedelta(days=30)),
        "target_placements": "2",
        "notes": "周末摆摊",
        "staff:field_a1": "on",
        "unit:S1": "on",
        "unit:S2": "on",
        "draw_prospects": "on",
    }


def planner(client: TestClient, market_id: int) -> tuple[str, dict[str, str]]:
    page = client.get(NEW, params={"market": market_id})
    assert page.status_code == 200
    return page.text, dict(form_for(page.text, NEW))


def test_the_planner_offers_the_markets_staff_and_nearest_free_units(
    client: TestClient, region: World
) -> None:
    sign_in(client, "marketing_a")
    html, _ = planner(client, region.markets["MK1"])
    staff = re.findall(r'name="staff:([^"]+)"', html)
    assert staff == ["field_a1", "field_a2", "field_pages"]  # A1's; not B1's field_b1
    assert re.findall(r'name="unit:([^"]+)"', html) == ["S1", "S2", "S3"]  # S4 is B1's
    assert "将该市场2户未布放机具的商户列为意向商户" in html
    chooser = client.get(NEW)
    assert f'<option value="{region.markets["MK1"]}"' in chooser.text


def test_planning_through_the_page_is_the_api_campaign(
    client: TestClient, region: World, engine: Engine
) -> None:
    sign_in(client, "marketing_a")
    _, hidden = planner(client, region.markets["MK1"])
    fields = plan_fields(region.today)
    posted = client.post(NEW, data={**hidden, **fields}, follow_redirects=False)
    assert posted.status_code == 303, posted.text
    cid = int(posted.headers["location"].rsplit("/", 1)[1])
    shown = client.get(posted.headers["location"])
    assert "营销活动“五金城营销”已创建" in shown.text
    # The staff member by name, the username after it in small print.
    assert figure(shown.text, "staff") == "邱秀 field_a1" and figure(shown.text, "units") == "2"

    bearer = api_sign_in(client, "marketing_a")
    by_page = client.get(f"{API}/campaigns/{cid}", headers=bearer).json()
    plan = {
        "name": "五金城营销",
        "market_code": "MK1",
        "starts_on": fields["starts_on"],
        "ends_on": fields["ends_on"],
        "target_placements": 2,
        "notes": "周末摆摊",
        "staff_usernames": ["field_a1"],
        "unit_sns": ["S1", "S2"],
    }
    # The same plan through the API, after the page's campaign is gone (it holds the units).
    assert client.delete(f"{API}/campaigns/{cid}", headers=bearer).status_code == 204
    by_api = client.post(f"{API}/campaigns", headers=bearer, json=plan)
    assert by_api.status_code == 201, by_api.text
    api_id = by_api.json()["id"]
    assert {**by_page, "id": None} == {**by_api.json(), "id": None}
    assert (by_page["prospects"], by_page["phase"], by_page["branch_code"]) == (2, "running", "A1")

    with session_scope(engine) as session:
        created = {
            entry.entity_id: entry
            for entry in session.exec(
                select(AuditEntry).where(
                    col(AuditEntry.entity) == "campaign", col(AuditEntry.action) == "create"
                )
            )
        }
    page_entry, api_entry = created[str(cid)], created[str(api_id)]
    assert page_entry.actor_name == "marketing_a"
    assert page_entry.changes == api_entry.changes == CampaignCreate(**plan).model_dump(mode="json")


def test_bad_input_is_shown_next_to_the_fields_and_kept(
    client: TestClient, region: World, engine: Engine
) -> None:
    sign_in(client, "marketing_a")
    _, hidden = planner(client, region.markets["MK1"])
    typed = {
        **plan_fields(region.today),
        "name": "",
        "starts_on": "2026-12-10",
        "ends_on": "2026-12-01",
        "target_placements": "十台",
    }
    answer = client.post(NEW, data={**hidden, **typed})
    assert answer.status_code == 422
    html = answer.text
    assert re.search(r'id="f-name"[^>]*aria-invalid="true"', html)
    assert '<p class="error" id="e-name">请填写活动名称。</p>' in html
    assert '<p class="error" id="e-ends_on">结束日期早于开始日期。</p>' in html
    assert '<p class="error" id="e-target_placements">请填写0或正整数。</p>' in html
    assert 'value="2026-12-10"' in html and 'value="十台"' in html
    assert ">周末摆摊</textarea>" in html
    assert re.search(r'name="staff:field_a1" checked', html)
    assert re.search(r'name="unit:S2" checked', html) and not re.search(r'"unit:S3" checked', html)
    no_market = client.post(NEW, data={**hidden, **typed, "market": ""})
    assert no_market.status_code == 422
    assert '<p class="error" id="e-market">请选择市场。</p>' in no_market.text
    with session_scope(engine) as session:
        assert session.exec(select(Campaign)).all() == []


def test_a_unit_taken_meanwhile_is_refused_and_nothing_half_made_is_kept(
    client: TestClient, region: World, engine: Engine
) -> None:
    sign_in(client, "marketing_a")
    _, hidden = planner(client, region.markets["MK1"])  # S1 is still free here
    with session_scope(engine) as session:
        actor = region.actor(session, "marketing_a")
        data = CampaignCreate(
            name="先到",
            market_code="MK1",
            starts_on=region.today,
            ends_on=region.today + timedelta(days=9),
            unit_sns=["S1"],
        )
        first = campaigns.create_campaign(session, actor, data).id
    answer = client.post(NEW, data={**hidden, **plan_fields(region.today)})
    assert answer.status_code == 422
    # The service's refusal, in the page's language (Chinese by default).
    refusal = f'<p class="error" id="e-units">机具 S1 已预留给营销活动 {first}（先到）</p>'
    assert refusal in answer.text
    with session_scope(engine) as session:
        assert [c.id for c in session.exec(select(Campaign))] == [first]


def test_another_branchs_market_and_campaign_answer_the_not_found_page(
    client: TestClient, region: World, engine: Engine
) -> None:
    with session_scope(engine) as session:
        admin = region.actor(session, "admin")
        data = CampaignCreate(
            name="石材城",
            market_code="MK2",
            starts_on=region.today,
            ends_on=region.today + timedelta(days=9),
        )
        theirs = campaigns.create_campaign(session, admin, data).id
    sign_in(client, "marketing_a")
    mk2 = region.markets["MK2"]
    for path in (
        f"/marketing/markets/{mk2}",
        f"/marketing/campaigns/{theirs}",
        f"/marketing/campaigns/{theirs}/report.xlsx",
        f"{NEW}?market={mk2}",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "text/html" in answer.headers["content-type"]
        assert "<h1>未找到</h1>" in answer.text, path
    _, hidden = planner(client, region.markets["MK1"])
    posted = client.post(NEW, data={**hidden, **plan_fields(region.today), "market": str(mk2)})
    assert posted.status_code == 404
    assert 'data-campaign="' not in client.get("/marketing/campaigns").text


def test_field_staff_get_the_not_allowed_page(client: TestClient, region: World) -> None:
    sign_in(client, "field_pages")
    for path in ("/marketing/markets", "/marketing/campaigns", NEW):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "text/html" in answer.headers["content-type"]


def test_operations_may_read_but_not_plan(client: TestClient, region: World) -> None:
    sign_in(client, "ops_a")
    assert client.get("/marketing/campaigns").status_code == 200
    assert "策划营销活动" not in client.get("/marketing/markets").text
    assert client.get(NEW).status_code == 403


def test_a_campaign_page_reports_against_its_targets(
    client: TestClient, region: World, engine: Engine
) -> None:
    """A campaign that placed a unit 35 days ago: placed, visited, active 30 days later."""
    sign_in(client, "marketing_a")
    bearer = api_sign_in(client, "marketing_a")
    d = region.today
    plan = {
        "name": "五金城营销",
        "market_code": "MK1",
        "starts_on": str(d - timedelta(days=40)),
        "ends_on": str(d - timedelta(days=2)),
        "target_placements": 2,
        "staff_usernames": ["field_a1"],
        "unit_sns": ["S1", "S2"],
    }
    cid = client.post(f"{API}/campaigns", headers=bearer, json=plan).json()["id"]
    placed = client.post(
        f"{API}/campaigns/{cid}/placements",
        headers=bearer,
        json={"sn": "S1", "merchant_code": "M4", "at": f"{d - timedelta(days=35)}T10:00:00+08:00"},
    )
    assert placed.status_code == 201, placed.text
    api_report = client.get(f"{API}/campaigns/{cid}/report", headers=bearer).json()

    page = client.get(f"/marketing/campaigns/{cid}")
    assert page.status_code == 200
    html = page.text
    assert "已结束" in html
    assert figure(html, "placed") == f"{api_report['placed']} / 2" == "1 / 2"
    assert figure(html, "visits") == str(api_report["visits_made"])
    assert figure(html, "active_after_30") == f"{api_report['active_after_30']} / 1"
    assert f'href="/maps/campaign/{cid}"' in html
    prospects = re.search(r'<table class="prospects">(.*?)</table>', html, re.S)
    assert prospects is not None and "已布放" in prospects.group(1)
    assert "市场内商户" in prospects.group(1)  # how M4 came onto the list: drawn from MK1
    assert "无柜面现金记录；在市场MK1（五金，同业动户率50%）" in prospects.group(1)

    listed = client.get("/marketing/campaigns")
    row = row_of(listed.text, "data-campaign", str(cid))
    assert "五金城营销" in row and "50%" in row and "已结束" in row
    assert 'data-campaign="' not in client.get("/marketing/campaigns?phase=running").text

    workbook = client.get(f"/marketing/campaigns/{cid}/report.xlsx")
    assert workbook.status_code == 200
    assert load_workbook(BytesIO(workbook.content))["汇总"]["B2"].value == "五金城营销"

    # In English the page and its workbook word the stored reasons in English.
    choose = dict(form_for(html, "/settings/language"))
    assert client.post("/settings/language", data=choose).status_code == 200
    english = client.get(f"/marketing/campaigns/{cid}").text
    prospects = re.search(r'<table class="prospects">(.*?)</table>', english, re.S)
    assert prospects is not None
    assert "No counter cash records; in 市场MK1 (Hardware, trade 50% active)" in prospects.group(1)
    assert "Merchant in the market" in prospects.group(1) and "无柜面" not in english
    sheet = load_workbook(BytesIO(client.get(f"/marketing/campaigns/{cid}/report.xlsx").content))
    assert sheet.sheetnames == ["Summary", "Placements", "Prospect merchants"]
    listed_rows = list(sheet["Prospect merchants"].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[5], r[6]) for r in listed_rows} >= {
        (
            "M4",
            "No counter cash records; in 市场MK1 (Hardware, trade 50% active)",
            "Merchant in the market",
        )
    }
