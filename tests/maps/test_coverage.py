"""What the coverage map holds, layer by layer, for each user; and where points land on each
base map's datum."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from fleet.auth import service as auth
from fleet.core.access import Actor
from fleet.core.db import session_scope
from fleet.core.errors import Invalid, NotFound, Unavailable
from fleet.core.geo import Datum, wgs84_to_gcj02
from fleet.inventory import service as inventory
from fleet.inventory.models import MarketCreate, MerchantUpdate
from fleet.maps import assets, coverage, layers, presets
from fleet.maps.labels import Lang
from fleet.scoring.models import UsageStatus
from tests import factories
from tests.factories import SYSTEM
from tests.maps.conftest import AS_OF, MapWorld, payload_of, put_score

# Published WGS-84 → GCJ-02 pairs (shared/realdata/README.md).
SHANGHAI = ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215))
SHENZHEN = ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363))
BEIJING = ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657))


def payload(
    engine: Engine, actor: Actor, *, branch: str | None = None, base: str = "osm", lang: Lang = "zh"
) -> dict[str, Any]:
    with session_scope(engine) as session:
        chosen = presets.choose_base(presets.load(), base)
        return coverage.coverage_payload(session, actor, branch_code=branch, base=chosen, lang=lang)


def actor_of(engine: Engine, username: str) -> Actor:
    with session_scope(engine) as session:
        user = auth.user_by_username(session, SYSTEM, username)
        return auth.actor_for(session, user)


def by_sn(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    cols = data["terminals"]
    keys = ("id", "lat", "lng", "s", "st", "sn", "name", "phone", "days", "c30")
    rows = [dict(zip(keys, v, strict=True)) for v in zip(*(cols[k] for k in keys), strict=True)]
    return {row["sn"]: row for row in rows}


def test_every_layer_for_the_whole_bank(engine: Engine, map_world: MapWorld) -> None:
    data = payload(engine, SYSTEM)
    terminals = data["terminals"]
    # SNA6's merchant has no coordinates; SNA9 is in stock: neither is drawn.
    assert sorted(terminals["sn"]) == ["SNA1", "SNA2", "SNA3", "SNA4", "SNB1"]
    assert terminals["unplaced"] == 1
    assert terminals["by_status"] == {"active": 2, "idle": 1, "dormant": 1, "declining": 1}
    assert data["as_of"] == AS_OF.isoformat()

    a1 = by_sn(data)["SNA1"]
    assert layers.STATUSES[a1["s"]] == "active"  # the latest run, not the older dormant one
    assert (a1["name"], a1["days"], a1["c30"]) == ("商户CA1", 3, 12)
    assert layers.STATUSES[by_sn(data)["SNA2"]["s"]] == "idle"

    markets = {m["code"]: m for m in data["markets"]}
    assert set(markets) == {"MKA1", "MKB1", "MKN"}
    mka1 = markets["MKA1"]
    # CA1, CA2 and CA4 are open in MKA1; CA1 and CA2 have a unit; SNA1 is active, SNA2 idle.
    assert (mka1["merchants"], mka1["with_terminal"], mka1["deployed"], mka1["active"]) == (
        3,
        2,
        2,
        1,
    )
    assert (mka1["trade"], mka1["radius"], mka1["polygon"]) == ("五金", 400.0, None)
    assert markets["MKN"]["deployed"] == 0 and len(markets["MKN"]["polygon"]) == 3

    assert sorted(data["white"]["code"]) == ["CA4"]  # CA5 is closed, CA6 has a unit
    assert data["white"]["phone"] == ["13800000004"]
    branches = {b["code"]: b for b in data["branches"]}
    assert set(branches) == {"LY", "A", "B", "A1", "B1"}
    assert (branches["A1"]["deployed"], branches["A1"]["active"]) == (5, 2)
    assert (branches["A1"]["radius"], branches["A"]["radius"], branches["LY"]["radius"]) == (
        3000.0,
        8000.0,
        0.0,
    )
    hexes = data["hexes"]
    assert sum(hexes["n"]) == 5 and sum(hexes["a"]) == 3  # active and declining count as active
    assert sum(hexes["v"]) == 12 + 0 + 0 + 2 + 30
    assert data["title"] == "机具覆盖图 · 全行"


def test_a_user_of_branch_a_sees_nothing_of_b(engine: Engine, map_world: MapWorld) -> None:
    data = payload(engine, actor_of(engine, "branch_ops_a"))
    assert sorted(data["terminals"]["sn"]) == ["SNA1", "SNA2", "SNA3", "SNA4"]
    assert {m["code"] for m in data["markets"]} == {"MKA1", "MKN"}  # MKN has no branch
    assert {b["code"] for b in data["branches"]} == {"A", "A1"}
    assert data["title"] == "机具覆盖图 · 网点A"
    assert sum(data["hexes"]["n"]) == 4


def test_a_branch_narrows_the_map_and_one_outside_the_scope_is_not_found(
    engine: Engine, map_world: MapWorld
) -> None:
    data = payload(engine, SYSTEM, branch="B1")
    assert data["terminals"]["sn"] == ["SNB1"]
    assert data["white"]["code"] == []
    assert data["title"] == "机具覆盖图 · 网点B1"
    with pytest.raises(NotFound):
        payload(engine, actor_of(engine, "field_a"), branch="B1")


def test_english_labels(engine: Engine, map_world: MapWorld) -> None:
    data = payload(engine, SYSTEM, lang="en")
    assert data["title"] == "Terminal coverage · The whole bank"
    assert [s["label"] for s in data["statuses"]][:3] == ["Active", "Declining", "Idle"]
    assert {m["trade"] for m in data["markets"]} == {"Hardware", "Stone"}


def test_unknown_base_map_is_refused(engine: Engine) -> None:
    with pytest.raises(Invalid, match="unknown base map 'bing'"):
        presets.choose_base(presets.load(), "bing")
    with pytest.raises(Invalid, match="FLEET_TIANDITU_KEY"):
        presets.choose_base(presets.load(), "tianditu")


@pytest.fixture
def far_away(engine: Engine) -> None:
    """A branch at the Beijing reference point, a merchant and unit at Shanghai's, a market at
    Shenzhen's: the three published pairs, one on each layer."""
    with session_scope(engine) as session:
        factories.branch(session, "BJ", level="county", lat=BEIJING[0][0], lng=BEIJING[0][1])
        factories.merchant(session, "SH1", "BJ", lat=SHANGHAI[0][0], lng=SHANGHAI[0][1])
        unit = factories.terminal(session, "SNSH", "BJ", "SH1")
        put_score(session, unit, UsageStatus.active)
        inventory.create_market(
            session,
            SYSTEM,
            MarketCreate(
                code="SZ",
                name="深圳市场",
                lat=SHENZHEN[0][0],
                lng=SHENZHEN[0][1],
                radius_m=300,
                branch_code="BJ",
            ),
        )


@pytest.mark.parametrize(
    ("base", "datum"), [("osm", Datum.wgs84), ("amap", Datum.gcj02), ("amap_satellite", "gcj02")]
)
def test_points_sit_on_the_base_maps_datum(
    engine: Engine, far_away: None, base: str, datum: str
) -> None:
    data = payload(engine, SYSTEM, base=base)
    assert data["datum"] == datum
    pick = 1 if datum == "gcj02" else 0  # where each reference point must be drawn
    terminal = by_sn(data)["SNSH"]
    market = data["markets"][0]
    branch = data["branches"][0]
    assert (terminal["lat"], terminal["lng"]) == pytest.approx(SHANGHAI[pick], abs=1e-6)
    assert (market["lat"], market["lng"]) == pytest.approx(SHENZHEN[pick], abs=1e-6)
    assert (branch["lat"], branch["lng"]) == pytest.approx(BEIJING[pick], abs=1e-6)


def test_the_shift_is_the_core_conversion_everywhere(engine: Engine) -> None:
    shift = layers.shifter(Datum.gcj02)
    for lat, lng in (SHANGHAI[0], (35.1038, 118.3564), (34.6, 117.9)):
        assert shift(lat, lng) == pytest.approx(wgs84_to_gcj02(lat, lng), abs=1e-6)
    # Outside China there is no offset to apply.
    assert shift(48.8566, 2.3522) == (48.8566, 2.3522)


def test_custom_tile_server_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from fleet.core.config import Settings

    settings = Settings(
        map_tiles_url="http://tiles.bank.local/{z}/{x}/{y}.png", map_tiles_datum="gcj02"
    )
    chosen = presets.choose_base(presets.load(settings), None, settings)
    assert (chosen.key, chosen.datum, chosen.tiles("zh")) == (
        "custom",
        Datum.gcj02,
        "http://tiles.bank.local/{z}/{x}/{y}.png",
    )
    keyed = Settings(tianditu_key="KEY123")
    tianditu = presets.choose_base(presets.load(keyed), "tianditu", keyed)
    assert "tk=KEY123" in tianditu.tiles("zh", keyed.tianditu_key)


def test_rendered_page_has_every_layer_and_no_outside_script(
    engine: Engine, map_world: MapWorld
) -> None:
    with session_scope(engine) as session:
        page = coverage.render(session, SYSTEM, mode=assets.Mode.served)
        offline = coverage.render(session, SYSTEM, mode=assets.Mode.inline, base="amap")
    assert page.counts["terminals"] == 5 and page.counts["white_markets"] == 1
    for kind in coverage.LAYER_KINDS:
        assert "FleetMap.layer(" in page.html and f'"{kind}")' in page.html
    assert '<script src="/static/vendor/leaflet/dist/leaflet.js"></script>' in page.html
    for html in (page.html, offline.html):
        for host in ("cdn.jsdelivr.net", "cdnjs.cloudflare.com", "code.jquery.com", "bootstrapcdn"):
            assert host not in html
        assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html
    assert "<script src=" not in offline.html  # everything inline: opens offline
    assert "webrd0{s}.is.autonavi.com" in offline.html


def test_names_are_data_not_markup(engine: Engine, map_world: MapWorld) -> None:
    name = "{{ 7*7 }}</script><script>alert(1)</script>"
    with session_scope(engine) as session:
        factories.merchant(session, "CA7", "A1", lat=35.05, lng=118.4)
        inventory.update_merchant(
            session,
            SYSTEM,
            inventory.merchant_by_code(session, SYSTEM, "CA7"),
            MerchantUpdate(name=name),
        )
        page = coverage.render(session, SYSTEM, mode=assets.Mode.served)
    assert "<script>alert(1)" not in page.html and "{{ 7*7 }}" in page.html
    assert name in payload_of(page.html)["white"]["name"]


def test_missing_assets_say_how_to_install_them(tmp_path: Path) -> None:
    from fleet.core.config import Settings

    settings = Settings(map_assets_dir=tmp_path)
    with pytest.raises(Unavailable, match=r"map assets are not installed .*scripts/setup.sh") as e:
        assets.head_html(assets.Mode.served, settings)
    # It names the asset, never the server's folders (issue 14: no paths in any answer).
    assert "leaflet/dist/leaflet.css" in e.value.message and str(tmp_path) not in e.value.message
    # Inlined, Leaflet's images travel with the file as data: URIs.
    inline = assets.head_html(assets.Mode.inline)
    assert "url(data:image/png;base64," in inline and "url(images/" not in inline
