"""Coordinates: datums used in China and distances.

fleet stores WGS-84. Chinese map apps and geocoders speak GCJ-02 (AMap/Gaode, Tencent) or
BD-09 (Baidu); input says which it is and is converted here, on the way in, and map layers
shift points back out when drawn on a GCJ-02 base map.
"""

from __future__ import annotations

import math
from enum import StrEnum

from geopy.distance import geodesic

from fleet.core.errors import Invalid


class Datum(StrEnum):
    wgs84 = "wgs84"
    gcj02 = "gcj02"
    bd09 = "bd09"


# Krasovsky 1940 ellipsoid, which the GCJ-02 obfuscation is defined on.
_A = 6378245.0
_EE = 0.00669342162296594323
_BD_PI = math.pi * 3000.0 / 180.0

DATUM_ALIASES = {
    "": Datum.wgs84,
    "wgs84": Datum.wgs84,
    "wgs-84": Datum.wgs84,
    "gps": Datum.wgs84,
    "gcj02": Datum.gcj02,
    "gcj-02": Datum.gcj02,
    "amap": Datum.gcj02,
    "gaode": Datum.gcj02,
    "火星坐标": Datum.gcj02,
    "高德": Datum.gcj02,
    "高德坐标": Datum.gcj02,
    "腾讯": Datum.gcj02,
    "腾讯坐标": Datum.gcj02,
    "国测局": Datum.gcj02,
    "国测局坐标": Datum.gcj02,
    "bd09": Datum.bd09,
    "bd-09": Datum.bd09,
    "baidu": Datum.bd09,
    "百度": Datum.bd09,
    "百度坐标": Datum.bd09,
    "gps坐标": Datum.wgs84,
}


def parse_datum(text: str | None) -> Datum:
    """The datum named by `text` (case-insensitive; empty means WGS-84)."""
    key = (text or "").strip().lower()
    if key not in DATUM_ALIASES:
        raise Invalid("unknown coordinate system {name}; use wgs84, gcj02 or bd09", name=repr(text))
    return DATUM_ALIASES[key]


def outside_china(lat: float, lng: float) -> bool:
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _delta(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlng += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlng += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (
        (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )
    rad_lat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if outside_china(lat, lng):
        return lat, lng
    dlat, dlng = _delta(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse of wgs84_to_gcj02 by fixed-point iteration (well under a centimetre)."""
    if outside_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-10 and abs(dlng) < 1e-10:
            break
    return wlat, wlng


def gcj02_to_bd09(lat: float, lng: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _BD_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _BD_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_wgs84(lat: float, lng: float, datum: Datum) -> tuple[float, float]:
    """Converts a point given in `datum` to WGS-84, rounded to 7 decimals (about 1 cm)."""
    if datum is Datum.gcj02:
        lat, lng = gcj02_to_wgs84(lat, lng)
    elif datum is Datum.bd09:
        lat, lng = gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))
    return round(lat, 7), round(lng, 7)


def from_wgs84(lat: float, lng: float, datum: Datum) -> tuple[float, float]:
    """Converts a stored WGS-84 point to `datum`, for drawing on that datum's map."""
    if datum is Datum.gcj02:
        return wgs84_to_gcj02(lat, lng)
    if datum is Datum.bd09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))
    return lat, lng


def check_point(lat: float, lng: float) -> None:
    if not (-90.0 <= lat <= 90.0) or not (-180.0 <= lng <= 180.0):
        raise Invalid("coordinates out of range: lat {lat}, lng {lng}", lat=lat, lng=lng)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres between two WGS-84 (lat, lng) points."""
    return float(geodesic(a, b).meters)
