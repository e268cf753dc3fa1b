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
    for i, anchor in _spaced_labels(labels, [x(i) for i in range(len(labels))]):
        parts.append(
            f'<text class="x-label" x="{x(i):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">'
            f"{escape(labels[i])}</text>"
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


# The axis labels' font (pages.css: .chart text), and the least room between two labels.
LABEL_PX, LABEL_GAP = 11, 8


def label_width(text: str) -> float:
    """About how wide `text` is drawn at LABEL_PX: a Chinese character a full em, digits and
    Latin letters a little over half of one."""
    return sum(LABEL_PX if ord(c) >= 0x2E80 else LABEL_PX * 0.62 for c in text)


def _spaced_labels(labels: Sequence[str], xs: Sequence[float]) -> list[tuple[int, str]]:
    """Which x-axis labels to draw, and how anchored, so that none overlaps another: the first
    (anchored at its start) and the last (at its end) always, and between them labels at
    least k points apart, k the smallest step at which the widest label fits, each kept only
    where it clears its neighbours by LABEL_GAP."""
    if not labels:
        return []
    last = len(labels) - 1

    def span(i: int, anchor: str) -> tuple[float, float]:
        w = label_width(labels[i])
        left = {"start": xs[i], "middle": xs[i] - w / 2, "end": xs[i] - w}[anchor]
        return left, left + w

    if last == 0:
        return [(0, "middle")]
    step = (xs[last] - xs[0]) / last
    widest = max(label_width(label) for label in labels)
    every = max(1, math.ceil((widest + LABEL_GAP) / max(step, 1e-9)))
    chosen = [(0, "start")]
    end_left = span(last, "end")[0]
    for i in range(1, last):
        if i - chosen[-1][0] < every:
            continue
        left, right = span(i, "middle")
        if left >= span(*chosen[-1])[1] + LABEL_GAP and right + LABEL_GAP <= end_left:
            chosen.append((i, "middle"))
    if end_left >= span(*chosen[-1])[1] + LABEL_GAP:
        chosen.append((last, "end"))
    return chosen


def _nice_top(value: float) -> float:
    """The axis top: the smallest of 1, 2, 4, 8 × 10^k at or above `value` (at least 1),
    so that quarter ticks are round numbers."""
    if value <= 1:
        return 1.0
    scale = 10 ** math.floor(math.log10(value))
    return next(m * scale for m in (1, 2, 4, 8, 10) if m * scale >= value)
