"""A light sketch of a field day's route, drawn on the server as inline SVG: the home branch,
the stops numbered in route order and joined by straight lines. No tiles, nothing fetched; the
full route map (/maps/routes) is a link away for when a real map is needed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 320, 180, 16


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
    for stop in stops:
        x, y = xy(stop)
        fill = "#6b6b6b" if stop.done else "#a3161a"
        parts.append(
            f'<g><circle cx="{x:.0f}" cy="{y:.0f}" r="10" fill="{fill}"/>'
            f'<text x="{x:.0f}" y="{y + 4:.0f}" text-anchor="middle" fill="#fff" '
            f'font-size="11" font-weight="700">{stop.seq}</text>'
            f"<title>{stop.seq}. {escape(stop.name)}</title></g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
