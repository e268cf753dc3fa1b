"""The server-drawn SVGs stay legible (issue 17, item 9): a chart's date labels never overlap,
however many weeks; the route sketch's stop numbers never overlap, however close the shops
(a disc moved off its shop keeps a leader line to it). Checked on the SVG, and in Chromium on
a phone-wide page in Chinese, where the drawn boxes are measured."""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest

from fleet.core.i18n import texts_for
from fleet.pages.charts import Series, label_width, line_chart
from fleet.pages.field.sketch import HEIGHT, RADIUS, WIDTH, Point, route_sketch
from tests.conftest import TEST_URL
from tests.pages.conftest import PHONE, needs_browser

LABEL = re.compile(r'<text class="x-label" x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)">([^<]*)<')
DISC = re.compile(r'class="disc" cx="([\d.]+)" cy="([\d.]+)"')


def weeks(n: int) -> list[str]:
    zh = texts_for("zh")
    return [zh.date(date(2026, 6, 1) + timedelta(weeks=k), "medium") for k in range(n)]


def chart(labels: list[str]) -> str:
    values = [0.3 + 0.01 * k for k in range(len(labels))]
    return str(line_chart("动户率（按周）", labels, [Series("动户率", values)], percent=True))


def cluster() -> tuple[Point, list[Point]]:
    """Six shops on one street corner (a few metres apart), one across town, the branch."""
    home = Point(0, 35.10, 118.35, "兰山支行")
    near = [
        Point(k + 1, 35.12 + 0.00002 * (k % 2), 118.37 + 0.00002 * k, f"商户{k}") for k in range(6)
    ]
    return home, [*near, Point(7, 35.16, 118.42, "远处商户")]


@pytest.mark.parametrize("n", [2, 3, 5, 8, 13, 26, 52])
def test_chart_labels_do_not_overlap(n: int) -> None:
    drawn = LABEL.findall(chart(weeks(n)))
    spans = []
    for x, anchor, text in drawn:
        w = label_width(text)
        left = {"start": float(x), "middle": float(x) - w / 2, "end": float(x) - w}[anchor]
        spans.append((left, left + w))
    assert all(a[1] < b[0] for a, b in pairwise(spans)), drawn
    assert drawn[0][2] == weeks(n)[0] and drawn[-1][2] == weeks(n)[-1]  # first and last named
    assert len(drawn) >= min(n, 3)


def test_stop_numbers_do_not_overlap_and_lead_to_their_shops() -> None:
    home, stops = cluster()
    svg = str(route_sketch("今日路线示意", home, stops))
    discs = [(float(x), float(y)) for x, y in DISC.findall(svg)]
    assert len(discs) == len(stops)
    closest = min(math.dist(a, b) for i, a in enumerate(discs) for b in discs[i + 1 :])
    assert closest >= 2 * RADIUS
    assert all(RADIUS <= x <= WIDTH - RADIUS and RADIUS <= y <= HEIGHT - RADIUS for x, y in discs)
    assert svg.count('class="leader"') >= 5  # the clustered discs point back at their shops
    # A lone stop stays on its shop: no leader line in its group.
    lone = svg[svg.index("<title>7. 远处商户") - 400 : svg.index("<title>7. 远处商户")]
    assert 'class="leader"' not in lone.split('<g class="stop">')[-1]


BOXES = """(selector) => Array.from(document.querySelectorAll(selector)).map((el) => {
  const r = el.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
})"""


def overlapping(boxes: list[list[float]]) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i, a in enumerate(boxes)
        for j, b in enumerate(boxes)
        if i < j and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    ]


@pytest.mark.skipif(TEST_URL.startswith("postgresql"), reason="run once, in the SQLite pass")
@needs_browser
def test_drawn_in_chromium_nothing_overlaps(open_browser: Any, server: str) -> None:
    tab = open_browser(viewport=PHONE, locale="zh-CN")
    home, stops = cluster()
    tab.page.set_content(
        f'<html lang="zh-CN"><head><link rel="stylesheet" href="{server}/pages/static/pages.css">'
        f"</head><body><main>{chart(weeks(13))}{chart(weeks(52))}"
        f'<div class="sketch-box">{route_sketch("今日路线示意", home, stops)}</div>'
        "</main></body></html>"
    )
    tab.page.wait_for_load_state("load")
    for svg in (1, 2):
        labels = tab.page.evaluate(BOXES, f"svg.chart:nth-of-type({svg}) text.x-label")
        assert len(labels) >= 3 and overlapping(labels) == [], labels
    discs = tab.page.evaluate(BOXES, "svg.sketch circle.disc")
    assert len(discs) == len(stops)
    # Circles' boxes may touch at the corners only: compare the discs as circles.
    centres = [((b[0] + b[2]) / 2, (b[1] + b[3]) / 2, (b[2] - b[0]) / 2) for b in discs]
    for i, a in enumerate(centres):
        for b in centres[i + 1 :]:
            assert math.dist(a[:2], b[:2]) >= a[2] + b[2] - 0.5
    assert tab.errors == [] and tab.blocked == []
