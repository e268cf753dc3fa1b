"""Geocoding merchant addresses against a real HTTP server speaking Nominatim's and Baidu's API."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from alembic import command
from sqlmodel import Session, select

from fleet.core.config import get_settings
from fleet.core.geo import gcj02_to_bd09
from fleet.imports.service import import_file
from fleet.inventory import service as inventory
from fleet.inventory.geocode import GeocodeCache
from fleet.migrations import alembic_config
from tests import factories as f
from tests.factories import SYSTEM
from tests.imports.util import count, outcome, write_csv

KNOWN = "临沂市兰山区五金城1号"
UNKNOWN = "查无此地"
WGS = (31.1774276, 121.5272106)
GCJ = (31.17530398364597, 121.531541859215)
PLACES = {KNOWN: (35.06, 118.36), "上海浦东": WGS}
HEADER = ["code", "name", "branch_code", "address", "lat", "lng"]


class FakeGeocoder(ThreadingHTTPServer):
    """Answers /search like Nominatim and /geocoding/v3/ like Baidu (in BD-09); logs queries."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.queries: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeGeocoder

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        params = parse_qs(url.query)
        query = (params.get("q") or params.get("address") or [""])[0]
        self.server.queries.append(query)
        place = PLACES.get(query)
        if url.path == "/search":
            body: object = (
                [{"lat": str(place[0]), "lon": str(place[1]), "display_name": query, "place_id": 1}]
                if place
                else []
            )
        else:
            lat, lng = gcj02_to_bd09(*GCJ) if place == WGS else (place or (0, 0))
            body = (
                {"status": 0, "result": {"location": {"lat": lat, "lng": lng}, "level": "门址"}}
                if place
                else {"status": 0}
            )
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return None  # keep the test output quiet


@pytest.fixture
def server() -> Iterator[FakeGeocoder]:
    fake = FakeGeocoder()
    thread = threading.Thread(target=fake.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.shutdown()
    fake.server_close()


@pytest.fixture
def use_geocoder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    def configure(provider: str, url: str, api_key: str | None = None) -> None:
        monkeypatch.setenv("FLEET_GEOCODER", provider)
        monkeypatch.setenv("FLEET_GEOCODER_URL", url)
        monkeypatch.setenv("FLEET_GEOCODER_MIN_DELAY_SECONDS", "0")
        monkeypatch.setenv("FLEET_GEOCODER_TIMEOUT_SECONDS", "3")
        if api_key:
            monkeypatch.setenv("FLEET_GEOCODER_API_KEY", api_key)
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


@pytest.fixture
def outlet(session: Session) -> None:
    f.branch(session, "A1")
    f.market(session, "MK1", "A1", lat=35.06, lng=118.36)


def test_addresses_are_looked_up_once_and_cached(
    session: Session,
    tmp_path: Path,
    outlet: None,
    server: FakeGeocoder,
    use_geocoder: Callable[..., None],
) -> None:
    use_geocoder("nominatim", server.url)
    path = write_csv(
        tmp_path / "m.csv",
        HEADER,
        [
            ["C1", "老王五金", "A1", KNOWN, "", ""],
            ["C2", "小王五金", "A1", f"  {KNOWN} ", "", ""],  # the same address, spaced differently
            ["C3", "无名店", "A1", UNKNOWN, "", ""],
            ["C4", "有坐标", "A1", "别处", "35.5", "118.5"],
        ],
    )
    report = import_file(session, SYSTEM, "merchants", path)
    assert outcome(report) == (4, 0, 0, 0)
    assert sorted(server.queries) == sorted([KNOWN, UNKNOWN])  # one request per address
    assert report.ungeocoded == [UNKNOWN] and report.warnings == []
    c1, c2, c3 = (inventory.merchant_by_code(session, SYSTEM, c) for c in ("C1", "C2", "C3"))
    assert (c1.lat, c1.lng) == (c2.lat, c2.lng) == PLACES[KNOWN]
    assert c1.market_id == inventory.market_by_code(session, SYSTEM, "MK1").id
    assert (c3.lat, c3.lng) == (None, None)
    cache = {row.address: (row.lat, row.provider) for row in session.exec(select(GeocodeCache))}
    assert cache == {KNOWN: (35.06, "nominatim"), UNKNOWN: (None, "nominatim")}

    # The next import asks the database, not the server; placed merchants are not asked about.
    server.queries.clear()
    more = write_csv(
        tmp_path / "more.csv",
        HEADER,
        [["C5", "新店", "A1", KNOWN, "", ""], ["C3", "无名店", "A1", UNKNOWN, "", ""]],
    )
    report = import_file(session, SYSTEM, "merchants", more)
    assert server.queries == [] and report.ungeocoded == [UNKNOWN]
    assert inventory.merchant_by_code(session, SYSTEM, "C5").lat == 35.06
    again = import_file(session, SYSTEM, "merchants", path)
    assert outcome(again) == (0, 0, 4, 0) and server.queries == []


def test_an_unreachable_geocoder_does_not_stop_the_import(
    session: Session, tmp_path: Path, outlet: None, use_geocoder: Callable[..., None]
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    use_geocoder("nominatim", closed)
    path = write_csv(
        tmp_path / "m.csv",
        HEADER,
        [["C1", "老王五金", "A1", KNOWN, "", ""], ["C2", "无名店", "A1", UNKNOWN, "", ""]],
    )
    report = import_file(session, SYSTEM, "merchants", path)
    assert outcome(report) == (2, 0, 0, 0)
    assert report.ungeocoded == [KNOWN, UNKNOWN]
    [warning] = report.warnings
    assert str(warning) == (
        f"the nominatim geocoder at {closed} cannot be reached; the remaining addresses were "
        "not geocoded"
    )
    assert inventory.merchant_by_code(session, SYSTEM, "C1").lat is None
    assert count(session, GeocodeCache) == 0  # a failure is not an answer


def test_without_a_geocoder_addresses_are_listed(
    session: Session, tmp_path: Path, outlet: None
) -> None:
    assert get_settings().geocoder == "none"
    path = write_csv(
        tmp_path / "m.csv",
        HEADER,
        [["C1", "老王五金", "A1", KNOWN, "", ""], ["C2", "不用找", "A1", "", "", ""]],
    )
    report = import_file(session, SYSTEM, "merchants", path)
    assert report.created == 2 and report.ungeocoded == [KNOWN] and report.warnings == []


def test_baidu_answers_are_converted_from_bd09(
    session: Session,
    tmp_path: Path,
    outlet: None,
    server: FakeGeocoder,
    use_geocoder: Callable[..., None],
) -> None:
    use_geocoder("baidu", server.url, api_key="test-key")
    path = write_csv(tmp_path / "m.csv", HEADER, [["C1", "浦东店", "A1", "上海浦东", "", ""]])
    report = import_file(session, SYSTEM, "merchants", path)
    assert report.ungeocoded == [] and server.queries == ["上海浦东"]
    merchant = inventory.merchant_by_code(session, SYSTEM, "C1")
    assert merchant.lat == pytest.approx(WGS[0], abs=1e-6)
    assert merchant.lng == pytest.approx(WGS[1], abs=1e-6)


def test_baidu_without_a_key_degrades_with_a_reason(
    session: Session,
    tmp_path: Path,
    outlet: None,
    server: FakeGeocoder,
    use_geocoder: Callable[..., None],
) -> None:
    use_geocoder("baidu", server.url)
    path = write_csv(tmp_path / "m.csv", HEADER, [["C1", "浦东店", "A1", "上海浦东", "", ""]])
    report = import_file(session, SYSTEM, "merchants", path)
    assert report.created == 1 and report.ungeocoded == ["上海浦东"]
    assert [str(w) for w in report.warnings] == [
        "geocoding is off: the baidu geocoder needs FLEET_GEOCODER_API_KEY"
    ]
    assert server.queries == []


def test_migrations_match_the_models(db_url: str) -> None:
    command.check(alembic_config(db_url))  # raises if a table (geocode_cache too) is missing
