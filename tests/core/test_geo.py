"""Datum conversions against published reference points, and extents."""

from __future__ import annotations

import pytest

from fleet.core.errors import Invalid
from fleet.core.geo import (
    Datum,
    distance_m,
    from_wgs84,
    gcj02_to_wgs84,
    parse_datum,
    to_wgs84,
    wgs84_to_gcj02,
)
from fleet.inventory import extent

# (WGS-84) → (GCJ-02), from public test suites (see shared/realdata/README.md).
REFERENCE = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_wgs84_to_gcj02_matches_the_reference(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), REFERENCE)
def test_gcj02_back_to_wgs84_within_a_centimetre(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    assert distance_m(gcj02_to_wgs84(*gcj), wgs) < 0.01
    assert distance_m(to_wgs84(*gcj, Datum.gcj02), wgs) < 0.02


def test_bd09_round_trip_stays_within_a_decimetre() -> None:
    linyi = (35.1038, 118.3564)
    baidu = from_wgs84(*linyi, Datum.bd09)
    assert distance_m(baidu, linyi) > 500  # the shift is real...
    assert distance_m(to_wgs84(*baidu, Datum.bd09), linyi) < 0.1  # ...and undone


def test_points_outside_china_are_not_shifted() -> None:
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)


def test_datum_names() -> None:
    assert parse_datum("") is Datum.wgs84
    assert parse_datum("GCJ-02") is Datum.gcj02
    assert parse_datum("百度") is Datum.bd09
    # As Chinese sheets name them (高德 and 腾讯 maps use GCJ-02, the 国测局 datum).
    for name in ("高德", "高德坐标", "腾讯", "国测局", "火星坐标"):
        assert parse_datum(name) is Datum.gcj02, name
    assert parse_datum("百度坐标") is Datum.bd09
    assert parse_datum("GPS坐标") is Datum.wgs84
    with pytest.raises(Invalid, match="unknown coordinate system 'utm'"):
        parse_datum("utm")


class Area:
    def __init__(
        self,
        lat: float | None = None,
        lng: float | None = None,
        radius_m: float | None = None,
        polygon: list[list[float]] | None = None,
    ) -> None:
        self.lat, self.lng, self.radius_m, self.polygon = lat, lng, radius_m, polygon


def test_extent_by_radius_and_by_polygon() -> None:
    circle = Area(35.0, 118.0, radius_m=500)
    assert extent.contains(circle, 35.004, 118.0)  # ~445 m north
    assert not extent.contains(circle, 35.005, 118.0)  # ~556 m north
    square = Area(polygon=[[35.0, 118.0], [35.0, 118.01], [35.01, 118.01], [35.01, 118.0]])
    assert extent.contains(square, 35.005, 118.005)
    assert not extent.contains(square, 35.011, 118.005)
    assert extent.area_m2(square) == pytest.approx(1113 * 911, rel=0.01)
    with pytest.raises(Invalid):
        extent.check_polygon([[35.0, 118.0], [35.1, 118.1]])
