"""Charts drawn on the server as SVG: no chart library, nothing fetched, readable by screen
readers (a title, a description and a text value on every point)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# Drawn about as wide as it is shown (a card on a phone, a third of a desktop page), so that
# the labels stay readable.
WIDTH, HEIGHT = 360, 190
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 14, 30, 24
PALETTE = ("#0b5394", "#a3161a", "#1e6b2f", "#8a4b00")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = False,
    describe: str = "",
) -> Markup:
    """A line chart of one or more series over `labels` (e.g. weeks). With `percent`, values
    are fractions and the axis runs 0–100%."""
    points = [v for s in series for v in s.values if v is not None]
    top = 1.0 if percent else _nice_top(max([*points, 0.0]))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / max(len(labels) - 1, 1)

    def x(i: int) -> float:
        return PAD_LEFT + i * step

    def y(v: float) -> float:
        return PAD_TOP + plot_h * (1 - v / top)

    def tick(v: float) -> str:
        if percent:
            return f"{v * 100:.0f}%"
        return f"{v:,.0f}" if top >= 10 else f"{v:g}"

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    if describe:
        parts.append(f"<desc>{escape(describe)}</desc>")
    parts.append(
        f'<text class="chart-title" x="4" y="16" aria-hidden="true">{escape(title)}</text>'
    )
    for k in range(5):
        v = top * k / 4
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="#d0d0d0"/><text x="{PAD_LEFT - 4}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{tick(v)}</text>'
        )
    every = max(1, len(labels) // 6)
    for i, label in enumerate(labels):
        last = len(labels) - 1
        if i == last or (i % every == 0 and last - i >= max(1, every // 2 + 1)):
            anchor = "end" if i == len(labels) - 1 and i else "middle"
            parts.append(
                f'<text x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
                f"{escape(label)}</text>"
            )
    for n, s in enumerate(series):
        color = PALETTE[n % len(PALETTE)]
        drawn = [(i, v) for i, v in enumerate(s.values) if v is not None]
        if len(drawn) > 1:
            path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in drawn)
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{path}"/>'
            )
        for i, v in drawn:
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.5" fill="{color}" '
                f'data-series="{escape(s.name)}" data-value="{v}">'
                f"<title>{escape(s.name)} {escape(labels[i])}: {tick(v)}</title></circle>"
            )
    if len(series) > 1:
        for n, s in enumerate(series):
            lx = PAD_LEFT + 8 + n * 110
            parts.append(
                f'<rect x="{lx}" y="{PAD_TOP - 2}" width="10" height="10" '
                f'fill="{PALETTE[n % len(PALETTE)]}"/>'
                f'<text x="{lx + 14}" y="{PAD_TOP + 7}">{escape(s.name)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice_top(value: float) -> float:
    """The axis top: the smallest of 1, 2, 4, 8 × 10^k at or above `value` (at least 1),
    so that quarter ticks are round numbers."""
    if value <= 1:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in (1, 2, 4, 8, 10) if m * scale >= value)
