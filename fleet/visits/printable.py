"""A printable HTML plan: a page per person with a small inline-SVG route map and the stops.

The map is a sketch (an equirectangular projection of the WGS-84 points, no tiles), light
enough to print; the interactive maps are fleet.maps'.
"""

from __future__ import annotations

import math
from html import escape

from fleet.core.i18n import N_, Texts, texts_for
from fleet.core.words import word
from fleet.visits.exports import (
    COLUMNS,
    LUNCH,
    UNPLANNED_COLUMNS,
    headers,
    hm,
    left_out,
    plan_title,
    route_rows,
    route_title,
    unplanned_title,
)
from fleet.visits.schemas import PlanPublic, RoutePublic

WIDTH, HEIGHT, PAD = 420, 300, 24
NAVIGATION, AMAP = N_("Navigation"), N_("AMap")  # the column of links to AMap's navigation
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


def _title_html(plan: PlanPublic, route: RoutePublic, t: Texts) -> str:
    """The route's title, the officer's username small after their name (as the pages do)."""
    title = escape(route_title(plan, route, t))
    user = escape(route.username)
    small = f' <small class="code">{user}</small>'
    for written in (f"（{user}）", f" ({user})"):  # as the Chinese and the English write it
        if written in title:
            return title.replace(written, small, 1)
    return title


def _route_section(plan: PlanPublic, route: RoutePublic, t: Texts) -> str:
    cells_head = [*headers(t, COLUMNS), t.gettext(NAVIGATION)]
    head = "".join(f"<th>{escape(h)}</th>" for h in cells_head)
    links = {s.seq: s.nav_amap for s in route.stops}
    rows = []
    for row in route_rows(route, t):
        lunch = row[1] == t.gettext(LUNCH)
        cells = "".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row)
        link = links.get(row[0]) if not lunch else None  # type: ignore[call-overload]
        nav = f'<a href="{escape(link)}">{escape(t.gettext(AMAP))}</a>' if link else ""
        rows.append(f'<tr class="{"lunch" if lunch else ""}">{cells}<td>{nav}</td></tr>')
    return (
        f"<section><h2>{_title_html(plan, route, t)}</h2>{route_svg(route)}"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def html_text(plan: PlanPublic, t: Texts | None = None) -> str:
    """The whole plan as one printable page, in the reader's language (Chinese by default)."""
    t = t or texts_for("zh")
    sections = [_route_section(plan, r, t) for r in plan.routes]
    unplanned = "".join(
        f"<tr><td>{escape(u.sn or '')}</td><td>{escape(u.merchant_code)}</td>"
        f"<td>{escape(u.merchant_name)}</td>"
        f"<td>{escape(t.gettext(word('visit_kind', u.kind)))}</td>"
        f"<td>{u.priority}</td><td>{escape(left_out(u.reason_code, t))}</td>"
        f"<td>{escape(t.phrase(u.why))}</td></tr>"
        for u in plan.unplanned
    )
    unplanned_head = "".join(f"<th>{escape(h)}</th>" for h in headers(t, UNPLANNED_COLUMNS))
    title = plan_title(t, plan)
    made = t.gettext(
        "Made at {time} · {people} people · {stops} stops · {km} km",
        time=hm(plan.created_at),
        people=len(plan.routes),
        stops=plan.planned,
        km=f"{plan.distance_km:.1f}",
    )
    # The candidates left out, when there are: an empty table printed a page of its own.
    left_out_section = (
        f"<section><h2>{escape(unplanned_title(t, plan))}</h2><table><thead><tr>"
        f"{unplanned_head}</tr></thead><tbody>{unplanned}</tbody></table></section>"
        if plan.unplanned
        else ""
    )
    html_lang = "zh-CN" if t.lang == "zh" else "en"
    return (
        f'<!DOCTYPE html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>{escape(made)}</p>"
        f"{''.join(sections)}{left_out_section}</body></html>"
    )
