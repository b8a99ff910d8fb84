"""The 24 / 48 / 72-hour clocks (pure: no Flask, no database; ``now`` is passed in).

A proposal's clock starts when the community accepts it (and again, with the same complexity,
when the author's "unsatisfied" reopens it) and stops at the first substantive response (see
``workflow.RESPONSE_ACTIONS``). It is overdue from the deadline itself: accepted as "general" at
10:00, it is overdue at 10:00:00 the next day, not a second later; a response at exactly the
deadline is a late one. All datetimes are timezone-aware (stored in UTC, shown in Asia/Shanghai).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

HOURS = {"general": 24, "hard": 48, "complex": 72}
COMPLEXITIES = tuple(HOURS)


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def deadline(accepted_at: datetime, complexity: str) -> datetime:
    """When the first substantive response is due."""
    _aware(accepted_at, "accepted_at")
    try:
        hours = HOURS[complexity]
    except KeyError:
        raise ValueError(f"unknown complexity {complexity!r}") from None
    return accepted_at + timedelta(hours=hours)


def is_overdue(deadline: datetime, responded_at: datetime | None, now: datetime) -> bool:
    """Overdue from the deadline on: not answered by ``now >= deadline``, or answered at or
    after the deadline."""
    _aware(deadline, "deadline")
    _aware(now, "now")
    if responded_at is not None:
        _aware(responded_at, "responded_at")
        return responded_at >= deadline
    return now >= deadline


def time_left(deadline: datetime, now: datetime) -> timedelta:
    """Time until the deadline; zero or negative once it has passed."""
    _aware(deadline, "deadline")
    _aware(now, "now")
    return deadline - now


@dataclass(frozen=True)
class Clock:
    """What a clock shows: ``status`` is running, overdue, met (answered in time) or late
    (answered after the deadline); ``days``/``hours``/``minutes`` of time left (running) or
    of time past the deadline (overdue), whole minutes rounded down."""

    status: str
    deadline: datetime
    days: int = 0
    hours: int = 0
    minutes: int = 0

    @property
    def running(self) -> bool:
        return self.status in ("running", "overdue")


def split(delta: timedelta) -> tuple[int, int, int]:
    """(days, hours, minutes) of an absolute duration, rounded down to the minute."""
    total = int(abs(delta).total_seconds()) // 60
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    return days, hours, minutes


def clock(deadline: datetime, responded_at: datetime | None, now: datetime) -> Clock:
    if responded_at is not None:
        late = is_overdue(deadline, responded_at, now)
        return Clock("late" if late else "met", deadline, *split(responded_at - deadline))
    left = time_left(deadline, now)
    if is_overdue(deadline, None, now):
        return Clock("overdue", deadline, *split(left))
    return Clock("running", deadline, *split(left))
