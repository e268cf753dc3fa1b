"""A printable HTML plan: a page per person with a small inline-SVG route map and the stops.

The map is a sketch (an equirectangular projection of the WGS-84 points, no tiles), light
enough to print; the interactive maps are fleet.maps'.
"""

from __future__ import annotations

import math
from html import escape

from fleet.visits.exports import COLUMNS, ZH, hm, left_out, route_rows, route_title
from fleet.visits.schemas import PlanPublic, RoutePublic

WIDTH, HEIGHT, PAD = 420, 300, 24
STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; font-size: 12px; }
h1 { font-size: 18px; } h2 { font-size: 15px; margin: 0 0 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 2px 4px; vertical-align: top; }
th { background: #ddebf7; }
tr.lunch td { background: #f3f3f3; font-style: italic; }
section { page-break-after: always; margin-bottom: 24px; }
.map { float: right; margin: 0 0 8px 12px; border: 1px solid #ccc; }
@page { size: A4 landscape; margin: 10mm; }
@media print { a { color: inherit; text-decoration: none; } }
"""


def route_svg(route: RoutePublic) -> str:
    """An SVG sketch of the route: the home branch as a square, stops numbered in order."""
    home = (route.home_lat, route.home_lng) if route.home_lat and route.home_lng else None
    points = [(s.lat, s.lng) for s in route.stops if s.lat is not None and s.lng is not None]
    every = points + ([home] if home else [])
    if not every:
        return ""
    lat0 = sum(p[0] for p in every) / len(every)
    k = math.cos(math.radians(lat0))
    xs = [p[1] * k for p in every]
    ys = [p[0] for p in every]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-4)
    scale = min(WIDTH - 2 * PAD, HEIGHT - 2 * PAD) / span

    def xy(p: tuple[float, float]) -> tuple[float, float]:
        return PAD + (p[1] * k - min(xs)) * scale, PAD + (max(ys) - p[0]) * scale

    path = ([home] if home else []) + points + ([home] if home else [])
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, path))
    parts = [
        f'<svg class="map" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<polyline points="{line}" fill="none" stroke="#2b6cb0" stroke-width="1.5"/>',
    ]
    if home:
        hx, hy = xy(home)
        parts.append(
            f'<rect x="{hx - 6:.1f}" y="{hy - 6:.1f}" width="12" height="12" fill="#c53030"/>'
        )
    for n, p in enumerate(points, 1):
        x, y = xy(p)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="#fff" stroke="#2b6cb0"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y + 3:.1f}" font-size="9" text-anchor="middle">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _title_html(plan: PlanPublic, route: RoutePublic) -> str:
    """The route's title, the officer's username small after their name (as the pages do)."""
    title = escape(route_title(plan, route))
    user = escape(route.username)
    return title.replace(f"（{user}）", f' <small class="code">{user}</small>', 1)


def _route_section(plan: PlanPublic, route: RoutePublic) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h, _ in COLUMNS) + "<th>导航</th>"
    links = {s.seq: s.nav_amap for s in route.stops}
    rows = []
    for row in route_rows(route):
        lunch = row[1] == "午休"
        cells = "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row)
        link = links.get(row[0]) if not lunch else None  # type: ignore[call-overload]
        nav = f'<a href="{escape(link)}">高德</a>' if link else ""
        rows.append(f'<tr class="{"lunch" if lunch else ""}">{cells}<td>{nav}</td></tr>')
    return (
        f"<section><h2>{_title_html(plan, route)}</h2>{route_svg(route)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def html_text(plan: PlanPublic) -> str:
    """The whole plan as one printable page."""
    sections = [_route_section(plan, r) for r in plan.routes]
    unplanned = "".join(
        f"<tr><td>{escape(u.sn or '')}</td><td>{escape(u.merchant_name)}</td>"
        f"<td>{u.priority}</td><td>{escape(left_out(u.reason_code))}</td><td>{escape(ZH.phrase(u.why))}</td></tr>"
        for u in plan.unplanned
    )
    title = f"{plan.branch_name}（{plan.branch_code}）{plan.date} 回访计划"
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>生成 {hm(plan.created_at)} · {len(plan.routes)} 人 · "
        f"{plan.planned} 站 · {plan.distance_km:.1f} km</p>"
        f"{''.join(sections)}"
        f"<section><h2>未安排的候选（{len(plan.unplanned)}）</h2><table><thead><tr><th>终端号</th>"
        f"<th>商户</th><th>优先级</th><th>未安排原因</th><th>入选原因</th></tr></thead>"
        f"<tbody>{unplanned}</tbody></table></section>"
        "</body></html>"
    )
