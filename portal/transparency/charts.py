"""Geometry of the server-drawn SVG charts (pure: no Flask; exact arithmetic).

The templates draw what these functions compute: rectangles and text positions in the SVG's
own units (its ``viewBox``), so the browser scales the picture to the screen. Lengths are
proportional to the values, computed as exact fractions and rounded half up to whole units;
a value of zero or below draws no bar. ``large`` makes the text and rows bigger (large-text
mode), since text in an SVG does not follow the page's font size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction


def _scale(value, top, length: int) -> int:
    """round_half_up(value / top * length), 0 for nothing to show."""
    if top is None or top <= 0 or value is None or value <= 0:
        return 0
    f = Fraction(Decimal(value)) / Fraction(Decimal(top)) * length
    q, r = divmod(f.numerator, f.denominator)
    if 2 * r >= f.denominator:
        q += 1
    return max(1, min(q, length))


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    text: str  # the value as shown (formatted money)
    kind: str  # css class: income | expense
    x: int
    y: int
    width: int
    height: int
    label_y: int
    text_x: int
    text_y: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    font: int
    bars: list[Bar]


def hbars(items: Sequence[tuple[str, Decimal, str, str]], top=None, large: bool = False) -> Chart:
    """Horizontal bars, one row per item ``(label, value, text, kind)``: the label above its
    bar, the value's text after the bar's end. ``top`` is the value of a full-length bar (the
    largest value when not given), so that two charts can share one scale."""
    font = 22 if large else 15
    width = 320 if not large else 360
    text_room = font * 8  # room for "¥1,234,567.89" after the longest bar
    length = width - text_room - 4
    bar_h = font + 2
    row = font + 6 + bar_h + 10
    if top is None:
        top = max((v for _l, v, _t, _k in items), default=Decimal(0))
    bars = []
    y = 0
    for label, value, text, kind in items:
        w = _scale(value, top, length)
        bar_y = y + font + 4
        bars.append(
            Bar(
                label=label,
                value=value,
                text=text,
                kind=kind,
                x=0,
                y=bar_y,
                width=w,
                height=bar_h,
                label_y=y + font,
                text_x=w + 6,
                text_y=bar_y + bar_h - 3,
            )
        )
        y += row
    return Chart(width=width, height=max(y, row), font=font, bars=bars)


@dataclass(frozen=True)
class Group:
    label: str  # under the bars
    sublabel: str  # a second line (the year, where it changes), or ""
    x: int
    bars: list[Bar]


@dataclass(frozen=True)
class GroupedChart:
    width: int
    height: int
    font: int
    plot_top: int
    plot_bottom: int
    top_text: str  # the value of the highest gridline
    groups: list[Group]


def vbars(
    groups: Sequence[tuple[str, str, Sequence[tuple[str, Decimal, str, str]]]],
    top_text_for=None,
    large: bool = False,
) -> GroupedChart:
    """Vertical bars in groups ``(label, sublabel, [(label, value, text, kind), …])``, e.g. the
    income and the expenses of each period. ``top_text_for(value)`` formats the scale's top."""
    font = 17 if large else 12
    width = 320
    legend = font + 12
    plot_top = legend + font + 4
    plot_h = 150
    plot_bottom = plot_top + plot_h
    height = plot_bottom + 2 * font + 10
    n = max(len(groups), 1)
    slot = Fraction(width, n)
    top = max((v for _l, _s, bars in groups for _b, v, _t, _k in bars), default=Decimal(0))
    out = []
    for i, (label, sublabel, bars) in enumerate(groups):
        x0 = int(slot * i)
        inner = int(slot * (i + 1)) - x0
        k = max(len(bars), 1)
        bar_w = max(2, (inner - 6) // k)
        drawn = []
        for j, (blabel, value, text, kind) in enumerate(bars):
            h = _scale(value, top, plot_h)
            bx = x0 + 3 + j * bar_w
            drawn.append(
                Bar(
                    label=blabel,
                    value=value,
                    text=text,
                    kind=kind,
                    x=bx,
                    y=plot_bottom - h,
                    width=max(bar_w - 1, 1),
                    height=h,
                    label_y=0,
                    text_x=0,
                    text_y=0,
                )
            )
        out.append(Group(label=label, sublabel=sublabel, x=x0 + inner // 2, bars=drawn))
    top_text = top_text_for(top) if (top_text_for and top > 0) else ""
    return GroupedChart(
        width=width,
        height=height,
        font=font,
        plot_top=plot_top,
        plot_bottom=plot_bottom,
        top_text=top_text,
        groups=out,
    )
