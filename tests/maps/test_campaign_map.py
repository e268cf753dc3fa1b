"""The campaign map: the market's extent, prospects coloured by outcome, the units placed
with their status, the set-aside units' branch; the campaign API's scope; the CLI file."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from fleet.cli.main import app
from fleet.core.geo import Datum, from_wgs84
from fleet.core.words import said
from tests.maps.conftest import RunCampaign, payload_of, token_for
from tests.terminal import EN


def test_the_campaign_on_its_map(client: TestClient, run_campaign: RunCampaign) -> None:
    users, cid = run_campaign.world.users, run_campaign.campaign_id
    answer = client.get(f"/maps/campaign/{cid}", headers=token_for(users["ops_a"]))
    assert answer.status_code == 200, answer.text
    data = payload_of(answer.text)
    assert data["kind"] == "campaign"
    assert data["title"] == "营销活动地图 · 五金城春季营销"
    assert [(m["code"], m["radius"]) for m in data["markets"]] == [("MK1", 500.0)]
    assert {p["code"]: p["status"] for p in data["prospects"]} == {
        "P1": "placed",
        "M4": "declined",
        "M5": "pending",
    }
    counts = {s["key"]: s["count"] for s in data["prospect_statuses"]}
    assert counts == {"placed": 1, "visited": 0, "pending": 1, "declined": 1}
    colours = {s["key"]: s["color"] for s in data["prospect_statuses"]}
    assert len(set(colours.values())) == 4
    # The legend says each prospect's outcome in the campaign page's and report's word.
    labels = {s["key"]: s["label"] for s in data["prospect_statuses"]}
    assert labels == {key: said("prospect_status", key) for key in counts}
    assert labels["pending"] == "待拜访"  # not a second word (待走访) for the same status
    [unit] = data["placed"]
    assert (unit["sn"], unit["code"], unit["state"]) == ("S1", "P1", "已布放")
    assert unit["status"] == "未评分"  # placed after the last scoring run
    [held] = data["set_aside"]
    assert (held["code"], held["units"], held["in_stock"]) == ("A1", 3, 2)
    assert data["campaign"]["target"] == 4 and data["unplaced"] == 0


def test_scope_and_datum(client: TestClient, run_campaign: RunCampaign) -> None:
    users, cid = run_campaign.world.users, run_campaign.campaign_id
    url = f"/maps/campaign/{cid}"
    assert client.get(url, headers=token_for(users["ops_b"])).status_code == 404
    assert (
        client.get(f"/maps/campaign/{cid + 99}", headers=token_for(users["admin"])).status_code
        == 404
    )
    # The campaign's staff may see it (they run it), as in the campaign API.
    assert client.get(url, headers=token_for(users["field_a1"])).status_code == 200
    assert client.get(url).status_code == 401
    headers = token_for(users["marketing_a"])
    osm = payload_of(client.get(url, headers=headers).text)
    amap = payload_of(client.get(url + "?base=amap&lang=en", headers=headers).text)
    assert amap["datum"] == "gcj02" and amap["title"] == "Market campaign map · 五金城春季营销"
    for a, o in zip(amap["prospects"], osm["prospects"], strict=True):
        assert (a["lat"], a["lng"]) == tuple(
            round(v, 6) for v in from_wgs84(o["lat"], o["lng"], Datum.gcj02)
        )
    # Why each prospect is worth a visit, in the map's language.
    chinese = {p["code"]: p["reason"] for p in osm["prospects"]}
    english = {p["code"]: p["reason"] for p in amap["prospects"]}
    assert "在市场MK1（五金" in chinese["M5"] and "in 市场MK1 (Hardware" in english["M5"]
    assert english["P1"].startswith("20 counter cash visits a month")
    assert [s["label"] for s in amap["prospect_statuses"]] == [
        "Unit placed",
        "Visited",
        "To visit",
        "Declined",
    ]


def test_cli_writes_the_campaign_map(run_campaign: RunCampaign, tmp_path: Path) -> None:
    out = tmp_path / "campaign.html"
    cid = str(run_campaign.campaign_id)
    result = CliRunner().invoke(app, ["map", "campaign", cid, "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "意向商户 3 户（已布放 1，待定 1，已拒绝 1），已布放机具 1 台 -> " in result.stdout
    data = payload_of(out.read_text(encoding="utf-8"))
    assert len(data["prospects"]) == 3
    missing = CliRunner().invoke(app, ["map", "campaign", "999"], env=EN)
    assert missing.exit_code == 1 and missing.stderr.startswith("error: campaign 999 not found")
