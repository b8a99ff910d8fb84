"""Monthly figures of the proposal board and the geometry of their chart (pure: no Flask).

Definitions (shown on the statistics page too), all by the month a proposal was received, in
Asia/Shanghai time:

- received: submitted in the month;
- accepted: of those, accepted by the community (even if later merged or closed);
- resolved: closed — the author was satisfied, was unsatisfied after one reopening, or did not
  answer the feedback in time;
- rejected: not accepted, with a public reason;
- overdue: the clock ran out at least once before the first substantive response;
- median time to first response: from acceptance to the first substantive response;
- median time to resolution: from submission to closing;
- satisfaction rate: satisfied ÷ (satisfied + unsatisfied) among closed proposals whose author
  gave a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from statistics import median
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Row:
    created_at: datetime
    state: str
    accepted_at: datetime | None = None
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    ever_overdue: bool = False


@dataclass
class Figures:
    label: str  # "2026-03", or "total"
    received: int = 0
    accepted: int = 0
    resolved: int = 0
    rejected: int = 0
    overdue: int = 0
    satisfied: int = 0
    unsatisfied: int = 0
    first_response: list[timedelta] = field(default_factory=list, repr=False)
    resolution: list[timedelta] = field(default_factory=list, repr=False)

    def add(self, r: Row) -> None:
        self.received += 1
        if r.accepted_at is not None:
            self.accepted += 1
            if r.first_response_at is not None:
                self.first_response.append(r.first_response_at - r.accepted_at)
        if r.state == "rejected":
            self.rejected += 1
        if r.state == "closed":
            self.resolved += 1
            if r.resolved_at is not None:
                self.resolution.append(r.resolved_at - r.created_at)
        if r.ever_overdue:
            self.overdue += 1
        if r.outcome == "satisfied":
            self.satisfied += 1
        elif r.outcome == "unsatisfied":
            self.unsatisfied += 1

    @property
    def median_first_response(self) -> timedelta | None:
        return median(self.first_response) if self.first_response else None

    @property
    def median_resolution(self) -> timedelta | None:
        return median(self.resolution) if self.resolution else None

    @property
    def satisfaction(self) -> Fraction | None:
        judged = self.satisfied + self.unsatisfied
        return Fraction(self.satisfied, judged) if judged else None


def month_key(at: datetime, tz=SHANGHAI) -> str:
    local = at.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def monthly(rows, year: int, tz=SHANGHAI) -> tuple[list[Figures], Figures]:
    """Twelve months of ``year`` (January first) and the year's total."""
    months = [Figures(f"{year:04d}-{m:02d}") for m in range(1, 13)]
    by_key = {f.label: f for f in months}
    total = Figures("total")
    for r in rows:
        f = by_key.get(month_key(r.created_at, tz))
        if f is None:
            continue
        f.add(r)
        total.add(r)
    return months, total


def year_bounds(year: int, tz=SHANGHAI) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar year, as aware datetimes."""
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def hours(delta: timedelta | None) -> float | None:
    return None if delta is None else round(delta.total_seconds() / 3600, 1)


# ---- the chart: grouped bars (received, resolved) per month, drawn by the server ---------------


@dataclass(frozen=True)
class Bar:
    series: str
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[tuple[str, float]]  # (month label, x of its centre)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def tick_values(top: int) -> list[int]:
    """Evenly spaced whole numbers from 0 to ``top`` (a ``nice_ceiling``)."""
    for steps in (4, 5, 2):
        if top % steps == 0 and top >= steps:
            return [top * k // steps for k in range(steps + 1)]
    return [0, top]


def bar_chart(
    months: list[Figures],
    series: tuple[str, ...] = ("received", "resolved"),
    width: int = 360,
    height: int = 200,
) -> Chart:
    left, top, bottom_pad = 28, 10, 22
    plot_h = height - top - bottom_pad
    bottom = top + plot_h
    top_value = nice_ceiling(max([getattr(f, s) for f in months for s in series] + [1]))
    slot = (width - left) / max(len(months), 1)
    bar_w = slot * 0.8 / len(series)
    bars, labels = [], []
    for i, f in enumerate(months):
        x0 = left + i * slot + slot * 0.1
        labels.append((f.label[-2:], round(left + i * slot + slot / 2, 1)))
        for j, s in enumerate(series):
            v = getattr(f, s)
            h = plot_h * v / top_value
            bars.append(
                Bar(
                    s,
                    f.label,
                    v,
                    round(x0 + j * bar_w, 1),
                    round(bottom - h, 1),
                    round(bar_w - 1, 1),
                    round(h, 1),
                )
            )
    ticks = [Tick(v, round(bottom - plot_h * v / top_value, 1)) for v in tick_values(top_value)]
    return Chart(width, height, left, bottom, bars, ticks, labels)
