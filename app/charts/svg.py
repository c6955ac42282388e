"""Hand-written SVG with real <text> labels, so charts stay crisp in print and searchable in PDF.

Every function takes plain numbers and returns an SVG string; callers format units.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

Formatter = Callable[[float], str]
FONT = 'font-family="Inter, Segoe UI, Helvetica, Arial, sans-serif"'
INK, MUTED, GRID, ACCENT = "#1b2430", "#5b6675", "#dde2e8", "#1f5fbf"


@dataclass(frozen=True)
class Series:
    label: str
    x: Sequence[float]
    y: Sequence[float]
    colour: str = ACCENT


@dataclass(frozen=True)
class Band:
    """A shaded stretch of the x axis (a collar, a walk-away zone)."""

    label: str
    low: float
    high: float
    colour: str = "#eaf1fc"


@dataclass(frozen=True)
class Marker:
    """A labelled vertical line at x (today's price, the offer)."""

    label: str
    value: float
    colour: str = "#a11a1a"
    dashed: bool = True


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^k) covering [low, high].

    >>> nice_ticks(0.0, 97.0)
    [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks, value = [], start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 12))
    return ticks


@dataclass
class _Frame:
    """Plot area inside the SVG and the data-to-pixel mapping."""

    width: int
    height: int
    x_ticks: list[float]
    y_ticks: list[float]
    left: int = 64
    right: int = 16
    top: int = 16
    bottom: int = 44
    parts: list[str] = field(default_factory=list)

    def x(self, value: float) -> float:
        lo, hi = self.x_ticks[0], self.x_ticks[-1]
        return self.left + (value - lo) / (hi - lo) * (self.width - self.left - self.right)

    def y(self, value: float) -> float:
        lo, hi = self.y_ticks[0], self.y_ticks[-1]
        return (
            self.height
            - self.bottom
            - (value - lo) / (hi - lo) * (self.height - self.top - self.bottom)
        )

    def axes(self, x_label: str, y_label: str, fx: Formatter, fy: Formatter) -> None:
        for t in self.y_ticks:
            y = self.y(t)
            self.parts.append(
                f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{GRID}"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                f'fill="{MUTED}" {FONT}>{escape(fy(t))}</text>'
            )
        base = self.height - self.bottom
        for t in self.x_ticks:
            x = self.x(t)
            self.parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{base}" y2="{base + 4}" stroke="{MUTED}"/>'
                f'<text x="{x:.1f}" y="{base + 17}" text-anchor="middle" font-size="11" '
                f'fill="{MUTED}" {FONT}>{escape(fx(t))}</text>'
            )
        self.parts.append(
            f'<line x1="{self.left}" x2="{self.width - self.right}" y1="{base}" y2="{base}" '
            f'stroke="{MUTED}"/>'
            f'<text x="{(self.left + self.width - self.right) / 2:.1f}" y="{self.height - 6}" '
            f'text-anchor="middle" font-size="12" fill="{INK}" {FONT}>{escape(x_label)}</text>'
            f'<text transform="translate(14 {(self.top + base) / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" font-size="12" fill="{INK}" {FONT}>{escape(y_label)}</text>'
        )

    def band(self, band: Band) -> None:
        x0, x1 = self.x(band.low), self.x(band.high)
        self.parts.append(
            f'<rect x="{x0:.1f}" y="{self.top}" width="{max(x1 - x0, 0):.1f}" '
            f'height="{self.height - self.top - self.bottom}" fill="{band.colour}"/>'
            f'<text x="{(x0 + x1) / 2:.1f}" y="{self.top + 12}" text-anchor="middle" '
            f'font-size="11" fill="{MUTED}" {FONT}>{escape(band.label)}</text>'
        )

    def marker(self, marker: Marker, row: int = 0) -> None:
        x = self.x(marker.value)
        dash = ' stroke-dasharray="4 3"' if marker.dashed else ""
        self.parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" y2="{self.height - self.bottom}" '
            f'stroke="{marker.colour}" stroke-width="1.5"{dash}/>'
            f'<text x="{x + 4:.1f}" y="{self.top - 4 - 13 * row}" font-size="11" '
            f'fill="{marker.colour}" {FONT}>{escape(marker.label)}</text>'
        )

    def svg(self, title: str) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {self.width} {self.height}" '
            f'width="100%" role="img" aria-label="{escape(title)}" class="chart">'
            f"<title>{escape(title)}</title>{''.join(self.parts)}</svg>"
        )


def line_chart(
    series: Sequence[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    fx: Formatter = str,
    fy: Formatter = str,
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    width: int = 640,
    height: int = 300,
) -> str:
    """Lines over a shared x axis, with optional shaded bands and vertical markers."""
    xs = [v for s in series for v in s.x] + [m.value for m in markers]
    ys = [v for s in series for v in s.y if math.isfinite(v)]
    frame = _Frame(
        width,
        height,
        nice_ticks(min(xs), max(xs)),
        nice_ticks(min(ys), max(ys)),
        top=16 + 13 * len(markers),
    )
    for band in bands:
        frame.band(band)
    frame.axes(x_label, y_label, fx, fy)
    for s in series:
        points = " ".join(
            f"{frame.x(x):.1f},{frame.y(y):.1f}"
            for x, y in zip(s.x, s.y, strict=True)
            if math.isfinite(y)
        )
        frame.parts.append(
            f'<polyline points="{points}" fill="none" stroke="{s.colour}" stroke-width="2"/>'
        )
    for row, marker in enumerate(markers):
        frame.marker(marker, row)
    legend_x = frame.left + 8
    for i, s in enumerate(series):
        y = height - frame.bottom - 10 - 14 * i
        frame.parts.append(
            f'<rect x="{legend_x}" y="{y - 8}" width="10" height="3" fill="{s.colour}"/>'
            f'<text x="{legend_x + 14}" y="{y}" font-size="11" fill="{INK}" {FONT}>'
            f"{escape(s.label)}</text>"
        )
    return frame.svg(title)


def histogram(
    counts: Sequence[float],
    edges: Sequence[float],
    *,
    title: str,
    x_label: str,
    y_label: str = "Share of scenarios",
    fx: Formatter = str,
    markers: Sequence[Marker] = (),
    width: int = 640,
    height: int = 260,
) -> str:
    """Bars of a distribution (counts are shown as shares of the total)."""
    total = sum(counts) or 1.0
    shares = [c / total for c in counts]
    xs = [edges[0], edges[-1], *(m.value for m in markers)]
    frame = _Frame(
        width,
        height,
        nice_ticks(min(xs), max(xs)),
        nice_ticks(0.0, max(shares)),
        top=16 + 13 * len(markers),
    )
    frame.axes(x_label, y_label, fx, lambda v: f"{v * 100:.0f}%")
    for share, lo, hi in zip(shares, edges[:-1], edges[1:], strict=True):
        x0, x1, y = frame.x(lo), frame.x(hi), frame.y(share)
        frame.parts.append(
            f'<rect x="{x0:.1f}" y="{y:.1f}" width="{max(x1 - x0 - 1, 0.5):.1f}" '
            f'height="{frame.y(0) - y:.1f}" fill="#9db7e0"/>'
        )
    for row, marker in enumerate(markers):
        frame.marker(marker, row)
    return frame.svg(title)


def football_field(
    rows: Sequence[tuple[str, float, float]],
    *,
    title: str,
    x_label: str,
    fx: Formatter = str,
    label_format: Formatter | None = None,
    markers: Sequence[Marker] = (),
    width: int = 640,
) -> str:
    """Horizontal value ranges, one per method, against reference prices.

    `fx` formats the axis ticks; `label_format` (default `fx`) the ends of each bar.
    """
    fl = label_format or fx
    bar, gap = 22, 12
    top = 16 + 13 * len(markers)
    height = top + len(rows) * (bar + gap) + 56
    values = [v for _, lo, hi in rows for v in (lo, hi) if math.isfinite(v)]
    values += [m.value for m in markers]
    frame = _Frame(
        width, height, nice_ticks(min(values), max(values)), [0.0, 1.0], left=170, top=top
    )
    base = height - frame.bottom
    for t in frame.x_ticks:
        x = frame.x(t)
        frame.parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top}" y2="{base}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{base + 17}" text-anchor="middle" font-size="11" '
            f'fill="{MUTED}" {FONT}>{escape(fx(t))}</text>'
        )
    frame.parts.append(
        f'<text x="{(frame.left + width - frame.right) / 2:.1f}" y="{height - 6}" '
        f'text-anchor="middle" font-size="12" fill="{INK}" {FONT}>{escape(x_label)}</text>'
    )
    halo = 'stroke="#fff" stroke-width="3" paint-order="stroke"'
    labels = []
    for i, (label, lo, hi) in enumerate(rows):
        y = frame.top + 8 + i * (bar + gap)
        x0, x1 = frame.x(lo), frame.x(hi)
        frame.parts.append(
            f'<text x="{frame.left - 8}" y="{y + bar / 2 + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="{INK}" {FONT}>{escape(label)}</text>'
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 2):.1f}" height="{bar}" '
            f'fill="#9db7e0" stroke="{ACCENT}"/>'
        )
        # Bar-end labels go on top of the reference lines, each on a white halo.
        labels.append(
            f'<text x="{x0 - 4:.1f}" y="{y + bar / 2 + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="{MUTED}" {halo} {FONT}>{escape(fl(lo))}</text>'
            f'<text x="{x1 + 4:.1f}" y="{y + bar / 2 + 4:.1f}" font-size="10" fill="{MUTED}" '
            f"{halo} {FONT}>{escape(fl(hi))}</text>"
        )
    for row, marker in enumerate(markers):
        frame.marker(marker, row)
    frame.parts.extend(labels)
    return frame.svg(title)
