"""Small bar and line charts drawn on the server as inline SVG: no script, no CDN, no library.

Pure functions from numbers and already-translated words to SVG markup. In a
right-to-left page the first bar sits on the right and the value axis on the right, as
an Arabic or Kurdish reader expects; the digits themselves stay left-to-right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 240
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_AXIS, MARGIN_FAR = 14, 28, 44, 10
GRID_LINES = 4
MAX_X_LABELS = 16


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    css_class: str = ""


@dataclass(frozen=True)
class Frame:
    """Where the plot sits in the SVG, and which way the categories run."""

    left: float
    right: float
    top: float
    bottom: float
    count: int
    rtl: bool

    @property
    def band(self) -> float:
        return (self.right - self.left) / max(self.count, 1)

    def x(self, index: int, offset: float = 0.5) -> float:
        """The x of a point `offset` bands into category `index`, mirrored in RTL."""
        distance = (index + offset) * self.band
        return self.right - distance if self.rtl else self.left + distance

    def y(self, value: float, top_value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value / top_value if top_value else 0)


def axis_top(value: float, *, whole: bool = True) -> float:
    """The top of a value axis at or above `value`, with round grid lines: each line a step
    of 1, 2 or 5 times a power of ten (whole steps for counts)."""
    wanted = value / GRID_LINES
    if wanted <= 0:
        return GRID_LINES if whole else 1
    power = 10 ** math.floor(math.log10(wanted))
    step = next(s * power for s in (1, 2, 5, 10) if wanted <= s * power)
    return max(step, 1 if whole else step) * GRID_LINES


def whole_number(value: float) -> str:
    return f"{value:,.0f}"


def frame(count: int, rtl: bool) -> Frame:
    if rtl:
        return Frame(MARGIN_FAR, WIDTH - MARGIN_AXIS, MARGIN_TOP, HEIGHT - MARGIN_BOTTOM, count, rtl)
    return Frame(MARGIN_AXIS, WIDTH - MARGIN_FAR, MARGIN_TOP, HEIGHT - MARGIN_BOTTOM, count, rtl)


def value_axis(f: Frame, top_value: float, fmt: Callable[[float], str]) -> list[str]:
    parts = []
    label_x, anchor = (f.right + 6, "start") if f.rtl else (f.left - 6, "end")
    for n in range(GRID_LINES + 1):
        value = top_value * n / GRID_LINES
        y = f.y(value, top_value)
        parts.append(f'<line class="grid-line" x1="{f.left:.1f}" x2="{f.right:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis-label" x="{label_x:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}">'
            f"{escape(fmt(value))}</text>"
        )
    return parts


def category_axis(f: Frame, labels: Sequence[str]) -> list[str]:
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    return [
        f'<text class="axis-label" x="{f.x(i):.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(label)}</text>'
        for i, label in enumerate(labels)
        if i % every == 0
    ]


def svg(title: str, parts: list[str]) -> Markup:
    # direction="ltr": coordinates and anchors mean what they say; RTL is done by mirroring.
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" direction="ltr"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    rtl: bool = False,
    fmt: Callable[[float], str] = whole_number,
) -> Markup:
    """Bars per category, the series side by side; each bar names its category, series and value."""
    f = frame(len(labels), rtl)
    top_value = axis_top(max((v or 0 for s in series for v in s.values), default=0))
    parts = value_axis(f, top_value, fmt)
    width = f.band * 0.8 / max(len(series), 1)
    for s_index, s in enumerate(series):
        for i, value in enumerate(s.values):
            if not value:
                continue
            offset = 0.1 + width * (s_index + 0.5) / f.band
            centre = f.x(i, offset)
            y = f.y(value, top_value)
            parts.append(
                f'<rect class="bar {escape(s.css_class)}" x="{centre - width / 2 + 0.5:.1f}" y="{y:.1f}" '
                f'width="{max(width - 1, 1):.1f}" height="{f.bottom - y:.1f}">'
                f"<title>{escape(labels[i])} · {escape(s.name)}: {escape(fmt(value))}</title></rect>"
            )
    return svg(title, parts + category_axis(f, labels))


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Series,
    *,
    rtl: bool = False,
    top_value: float = 1.0,
    fmt: Callable[[float], str] = whole_number,
    target: float | None = None,
) -> Markup:
    """A line through the values; None leaves a gap (nothing to measure there)."""
    f = frame(len(labels), rtl)
    parts = value_axis(f, top_value, fmt)
    if target is not None:
        y = f.y(target, top_value)
        parts.append(f'<line class="target" x1="{f.left:.1f}" x2="{f.right:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
    points: list[str] = []
    for i, value in enumerate(list(series.values) + [None]):
        if value is None:
            if len(points) > 1:
                parts.append(f'<polyline class="line {escape(series.css_class)}" points="{" ".join(points)}"/>')
            points = []
            continue
        x, y = f.x(i), f.y(value, top_value)
        points.append(f"{x:.1f},{y:.1f}")
        parts.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5">'
            f"<title>{escape(labels[i])} · {escape(series.name)}: {escape(fmt(value))}</title></circle>"
        )
    return svg(title, parts + category_axis(f, labels))
