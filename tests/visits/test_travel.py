"""Travel times: the geodesic estimate, and an OSRM-compatible server (a real one on
127.0.0.1) with its answers in blocks, its gaps, and its absence."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from fleet.core.config import Settings
from fleet.core.geo import distance_m
from fleet.visits import travel
from fleet.visits.present import notes_said
from tests.visits.osrm import cell, fake_osrm

BRANCH = (35.05, 118.35)
POINTS = [BRANCH, (35.06, 118.36), (35.20, 118.35), (35.05, 118.60), (35.30, 118.70)]


def settings(**values: object) -> Settings:
    return Settings(**values)  # type: ignore[arg-type]


def test_the_geodesic_estimate_agrees_with_geopy() -> None:
    metres = travel.geodesic_m(POINTS)
    for i, a in enumerate(POINTS):
        for j, b in enumerate(POINTS):
            assert metres[i, j] == pytest.approx(distance_m(a, b), rel=1e-3, abs=0.5)


def test_urban_legs_are_slower_than_rural_ones() -> None:
    s = settings()
    m = travel.estimate(POINTS, [BRANCH], s)
    # Both ends within 5 km of the county branch: 1.3 x distance at 25 km/h.
    road = distance_m(POINTS[0], POINTS[1]) * 1.3
    assert m.distances[0, 1] == pytest.approx(road, abs=1)
    assert m.durations[0, 1] == pytest.approx(road / (25 / 3.6), abs=1)
    # Both ends out in the country: 40 km/h.
    road = distance_m(POINTS[2], POINTS[4]) * 1.3
    assert m.durations[2, 4] == pytest.approx(road / (40 / 3.6), abs=1)
    # From town to country: half the way at each speed.
    road = distance_m(POINTS[0], POINTS[2]) * 1.3
    assert m.durations[0, 2] == pytest.approx(road / 2 / (25 / 3.6) + road / 2 / (40 / 3.6), abs=1)
    assert np.all(np.diag(m.durations) == 0)


def test_an_osrm_server_is_asked_in_blocks_it_accepts() -> None:
    with fake_osrm() as server:
        # A limit of 4 coordinates: 2 sources x 2 destinations a request, 9 requests for 5.
        s = settings(osrm_url=server.url, osrm_max_table=4)
        m = travel.travel_matrix(POINTS, [BRANCH], s)
    assert (m.source, m.notes) == ("osrm", [])
    assert len(server.requests) == 9
    assert all(len(r.split("?")[0].split(";")) <= 4 for r in server.requests)
    for i, a in enumerate(POINTS):
        for j, b in enumerate(POINTS):
            seconds, metres = cell((a[1], a[0]), (b[1], b[0]))
            assert (m.durations[i, j], m.distances[i, j]) == (round(seconds), round(metres))


def test_legs_osrm_cannot_route_are_estimated() -> None:
    with fake_osrm() as server:
        server.null_pairs.add(((118.35, 35.05), (118.7, 35.3)))
        m = travel.travel_matrix(POINTS, [BRANCH], settings(osrm_url=server.url))
    estimate = travel.estimate(POINTS, [BRANCH], settings())
    assert m.source == "osrm"
    assert m.durations[0, 4] == estimate.durations[0, 4]
    assert m.durations[4, 0] == round(cell((118.7, 35.3), (118.35, 35.05))[0])
    assert notes_said(m.notes) == [
        "the routing server found no road for 1 of 20 legs; those are estimated"
    ]
    assert m.notes == [{"code": "note_osrm_missing", "values": {"n": 1, "legs": 20}}]


def test_an_unreachable_server_falls_back_to_the_estimate_and_says_so() -> None:
    with socket.socket() as sock:  # a port that nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    s = settings(osrm_url=f"http://127.0.0.1:{port}", osrm_timeout_seconds=2)
    m = travel.travel_matrix(POINTS, [BRANCH], s)
    assert m.source == "geodesic"
    assert np.array_equal(m.durations, travel.estimate(POINTS, [BRANCH], s).durations)
    said = notes_said(m.notes)
    assert len(said) == 1 and "could not be used (ConnectError" in said[0]
    assert "travel times are estimates" in said[0]
    assert m.notes[0]["code"] == "note_osrm_failed"


def test_an_error_answer_falls_back_too() -> None:
    with fake_osrm() as server:
        server.code = "InvalidQuery"
        m = travel.travel_matrix(POINTS, [BRANCH], settings(osrm_url=server.url))
    assert m.source == "geodesic"
    assert "HTTP 400 refused by the test" in notes_said(m.notes)[0]
