"""Travel times and distances between stops: a geodesic estimate, or an OSRM `/table` server.

The estimate: geodesic distance x a road-circuity factor, driven at an urban speed within a
few kilometres of a city or county branch (a county seat or district centre) and a rural
speed elsewhere; a leg between the two is driven half at each. With `FLEET_OSRM_URL` set the
road network's own durations and distances are asked for; when the server cannot be reached,
or answers nonsense, the plan falls back to the estimate and says so in its notes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

from fleet.core.config import Settings
from fleet.core.phrases import Phrase, phrase

Point = tuple[float, float]  # (lat, lng), WGS-84

# WGS-84 ellipsoid: on the scale of a county, distances on the tangent plane at the mean
# latitude, with the meridian and prime-vertical radii there, are within 0.1% of geodesic.
_A = 6378137.0
_E2 = 6.69437999014e-3


@dataclass
class Matrix:
    """Durations (s) and distances (m) between every pair of points, and where they came from."""

    durations: np.ndarray
    distances: np.ndarray
    source: str = "geodesic"
    notes: list[Phrase] = field(default_factory=list)  # phrases (fleet.core.phrases)


def geodesic_m(points: Sequence[Point]) -> np.ndarray:
    """Pairwise geodesic distances in metres (vectorised; see the note on _A and _E2)."""
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    lat, lng = np.radians(pts[:, 0]), np.radians(pts[:, 1])
    mean = (lat[:, None] + lat[None, :]) / 2
    sin2 = np.sin(mean) ** 2
    meridian = _A * (1 - _E2) / (1 - _E2 * sin2) ** 1.5
    normal = _A / np.sqrt(1 - _E2 * sin2)
    dy = (lat[:, None] - lat[None, :]) * meridian
    dlng = (lng[:, None] - lng[None, :] + math.pi) % (2 * math.pi) - math.pi
    dx = dlng * normal * np.cos(mean)
    return np.asarray(np.hypot(dx, dy))


def urban_mask(points: Sequence[Point], centres: Sequence[Point], radius_km: float) -> np.ndarray:
    """True for each point within `radius_km` of any centre."""
    if not centres or not points:
        return np.zeros(len(points), dtype=bool)
    both = list(points) + list(centres)
    d = geodesic_m(both)[: len(points), len(points) :]
    return np.asarray((d <= radius_km * 1000).any(axis=1))


def estimate(points: Sequence[Point], centres: Sequence[Point], settings: Settings) -> Matrix:
    """The geodesic estimate: circuity x distance, at urban or rural speed (half each between)."""
    road = geodesic_m(points) * settings.revisit_circuity
    urban = urban_mask(points, centres, settings.revisit_urban_radius_km)
    pace = np.where(urban, 3.6 / settings.revisit_urban_kmh, 3.6 / settings.revisit_rural_kmh)
    seconds = road * (pace[:, None] + pace[None, :]) / 2
    return Matrix(
        durations=np.rint(seconds).astype(np.int64),
        distances=np.rint(road).astype(np.int64),
        source="geodesic",
    )


def describe_estimate(settings: Settings) -> Phrase:
    """How the estimate is made, for a plan's notes (a phrase)."""
    return phrase(
        "note_estimate_how",
        circuity=settings.revisit_circuity,
        urban_kmh=settings.revisit_urban_kmh,
        radius_km=settings.revisit_urban_radius_km,
        rural_kmh=settings.revisit_rural_kmh,
    )


class OsrmError(Exception):
    pass


def _table_block(
    client: httpx.Client, base: str, points: Sequence[Point], rows: list[int], cols: list[int]
) -> tuple[list[list[float | None]], list[list[float | None]]]:
    """One /table request: durations and distances from `rows` to `cols` (point indices)."""
    coords = list(dict.fromkeys(rows + cols))
    where = {p: i for i, p in enumerate(coords)}
    path = ";".join(f"{points[p][1]:.6f},{points[p][0]:.6f}" for p in coords)
    params = {
        "annotations": "duration,distance",
        "sources": ";".join(str(where[r]) for r in rows),
        "destinations": ";".join(str(where[c]) for c in cols),
    }
    answer = client.get(f"{base}/table/v1/driving/{path}", params=params)
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if answer.status_code != 200 or not isinstance(body, dict):
        said = body.get("message", "") if isinstance(body, dict) else ""
        raise OsrmError(f"HTTP {answer.status_code} {said}".strip())
    if body.get("code") != "Ok":
        raise OsrmError(f"answer code {body.get('code')!r}: {body.get('message', '')}".strip())
    durations, distances = body.get("durations"), body.get("distances")
    if not (
        isinstance(durations, list)
        and isinstance(distances, list)
        and len(durations) == len(rows) == len(distances)
        and all(isinstance(r, list) and len(r) == len(cols) for r in durations + distances)
    ):
        raise OsrmError("the answer lacks durations or distances of the expected shape")
    return durations, distances


def osrm(points: Sequence[Point], centres: Sequence[Point], settings: Settings, url: str) -> Matrix:
    """Road durations and distances from an OSRM-compatible server, in blocks the server takes;
    the estimate when it cannot be reached (the matrix's notes say so)."""
    fallback = estimate(points, centres, settings)
    n = len(points)
    if n < 2:
        return fallback
    base = url.rstrip("/")
    # A request holds its sources and destinations: half the server's limit for each.
    block = max(1, settings.osrm_max_table // 2)
    durations = np.full((n, n), -1.0)
    distances = np.full((n, n), -1.0)
    try:
        with httpx.Client(timeout=settings.osrm_timeout_seconds) as client:
            for r0 in range(0, n, block):
                rows = list(range(r0, min(n, r0 + block)))
                for c0 in range(0, n, block):
                    cols = list(range(c0, min(n, c0 + block)))
                    dur, dist = _table_block(client, base, points, rows, cols)
                    for i, r in enumerate(rows):
                        for j, c in enumerate(cols):
                            seconds, metres = dur[i][j], dist[i][j]
                            durations[r, c] = -1.0 if seconds is None else float(seconds)
                            distances[r, c] = -1.0 if metres is None else float(metres)
    except (httpx.HTTPError, OsrmError, ValueError, TypeError) as exc:
        fallback.notes.append(
            phrase(
                "note_osrm_failed",
                server=base,
                error=f"{type(exc).__name__}: {exc}",
                how=describe_estimate(settings),
            )
        )
        return fallback
    missing = (durations < 0) | (distances < 0)
    np.fill_diagonal(missing, False)
    matrix = Matrix(
        durations=np.where(missing, fallback.durations, np.rint(durations)).astype(np.int64),
        distances=np.where(missing, fallback.distances, np.rint(distances)).astype(np.int64),
        source="osrm",
    )
    np.fill_diagonal(matrix.durations, 0)
    np.fill_diagonal(matrix.distances, 0)
    if missing.any():
        matrix.notes.append(phrase("note_osrm_missing", n=int(missing.sum()), legs=n * n - n))
    return matrix


def travel_matrix(points: Sequence[Point], centres: Sequence[Point], settings: Settings) -> Matrix:
    """The road server's matrix when FLEET_OSRM_URL is set, else the geodesic estimate."""
    if settings.osrm_url:
        return osrm(points, centres, settings, settings.osrm_url)
    matrix = estimate(points, centres, settings)
    matrix.notes.append(phrase("note_estimates", how=describe_estimate(settings)))
    return matrix
