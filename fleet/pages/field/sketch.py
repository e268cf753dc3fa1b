"""A light sketch of a field day's route, drawn on the server as inline SVG: the home branch,
the stops numbered in route order and joined by straight lines. No tiles, nothing fetched; the
full route map (/maps/routes) is a link away for when a real map is needed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 320, 180, 16
# A stop's numbered disc, and the least distance between two discs' centres (a little room).
RADIUS = 10
APART = 2 * RADIUS + 2


@dataclass(frozen=True)
class Point:
    seq: int  # 0 for the home branch
    lat: float
    lng: float
    name: str
    done: bool = False


def route_sketch(title: str, home: Point | None, stops: Sequence[Point]) -> Markup:
    """The route as an SVG sketch (empty when no stop has coordinates). Points are projected
    flat (longitude shrunk by cos(latitude)), which is true enough over a county's few km."""
    if not stops:
        return Markup("")
    points = [*([home] if home else []), *stops]
    mid_lat = math.radians(sum(p.lat for p in points) / len(points))

    def flat(p: Point) -> tuple[float, float]:
        return p.lng * math.cos(mid_lat), p.lat

    xs, ys = zip(*(flat(p) for p in points), strict=True)
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min((WIDTH - 2 * PAD) / span, (HEIGHT - 2 * PAD) / span)
    # Centre the drawing in the box.
    off_x = (WIDTH - (max(xs) - min(xs)) * scale) / 2
    off_y = (HEIGHT - (max(ys) - min(ys)) * scale) / 2

    def xy(p: Point) -> tuple[float, float]:
        x, y = flat(p)
        return off_x + (x - min(xs)) * scale, HEIGHT - off_y - (y - min(ys)) * scale

    path = " ".join(f"{x:.0f},{y:.0f}" for x, y in map(xy, points))
    if home:
        hx, hy = xy(home)
        path += f" {hx:.0f},{hy:.0f}"  # back home at the end of the day
    parts = [
        f'<svg class="sketch" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<polyline points="{path}" fill="none" stroke="#0b5394" stroke-width="2" '
        'stroke-dasharray="5 3"/>',
    ]
    if home:
        parts.append(
            f'<rect x="{hx - 7:.0f}" y="{hy - 7:.0f}" width="14" height="14" fill="#1a1a1a">'
            f"<title>{escape(home.name)}</title></rect>"
        )
    places = [xy(stop) for stop in stops]
    fixed = [xy(home)] if home else []
    for stop, (px, py), (x, y) in zip(stops, places, spread(places, fixed), strict=True):
        fill = "#6b6b6b" if stop.done else "#a3161a"
        # A disc moved off its shop (stops close together) keeps a leader line to the spot.
        leader = (
            f'<line class="leader" x1="{px:.0f}" y1="{py:.0f}" x2="{x:.0f}" y2="{y:.0f}" '
            f'stroke="{fill}" stroke-width="1.5"/><rect class="spot" x="{px - 2.5:.1f}" '
            f'y="{py - 2.5:.1f}" width="5" height="5" fill="{fill}"/>'
            if math.hypot(x - px, y - py) > 3
            else ""
        )
        parts.append(
            f'<g class="stop">{leader}<circle class="disc" cx="{x:.0f}" cy="{y:.0f}" '
            f'r="{RADIUS}" fill="{fill}"/>'
            f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" fill="#fff" '
            f'font-size="11" font-weight="700">{stop.seq}</text>'
            f"<title>{stop.seq}. {escape(stop.name)}</title></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def spread(
    places: Sequence[tuple[float, float]], fixed: Sequence[tuple[float, float]] = ()
) -> list[tuple[float, float]]:
    """Where to draw each stop's disc so that no two (nor a disc and the home branch) overlap:
    discs closer than APART are pushed apart along the line between them (stops at the very
    same spot fan out around it), a few rounds, kept inside the drawing. Deterministic."""
    pos = [[x, y] for x, y in places]
    n = len(pos)
    lo_x, hi_x, lo_y, hi_y = RADIUS + 1, WIDTH - RADIUS - 1, RADIUS + 1, HEIGHT - RADIUS - 1
    for _ in range(200):
        moved = False
        for i in range(n):
            for fx, fy in fixed:
                dx, dy = pos[i][0] - fx, pos[i][1] - fy
                d = math.hypot(dx, dy)
                if d < APART:
                    ux, uy = (dx / d, dy / d) if d > 1e-6 else _fan(i, n)
                    pos[i][0], pos[i][1] = fx + ux * APART, fy + uy * APART
                    moved = True
            for j in range(i + 1, n):
                dx, dy = pos[j][0] - pos[i][0], pos[j][1] - pos[i][1]
                d = math.hypot(dx, dy)
                if d < APART:
                    ux, uy = (dx / d, dy / d) if d > 1e-6 else _fan(j, n)
                    push = (APART - d) / 2 + 0.01
                    pos[i][0], pos[i][1] = pos[i][0] - ux * push, pos[i][1] - uy * push
                    pos[j][0], pos[j][1] = pos[j][0] + ux * push, pos[j][1] + uy * push
                    moved = True
        for p in pos:
            p[0], p[1] = min(max(p[0], lo_x), hi_x), min(max(p[1], lo_y), hi_y)
        if not moved:
            break
    return [(x, y) for x, y in pos]


def _fan(k: int, n: int) -> tuple[float, float]:
    angle = 2 * math.pi * k / max(n, 1)
    return math.cos(angle), math.sin(angle)
