"""The rules of volunteer sign-up, waiting list, check-in, hours and points (pure: no Flask,
no database; ``now`` is always passed in).

Sign-up
    Open to the verified residents of the team's community (the service checks that). A sign-up
    is refused once the activity has started (``now >= starts_at``, the start itself included),
    when the coordinator has closed sign-up, or when the person is already on the list. Otherwise
    the person is confirmed while ``confirmed < capacity`` and goes onto the waiting list after.

Cancel
    A confirmed or waiting person may cancel until the start (the start itself refused). When a
    confirmed place frees up, the waiting list moves up in the order people signed up (``seq``);
    the service applies ``promotions`` right away, in the same transaction.

Check-in
    Only confirmed people are checked in. "Attended" may be recorded from one hour before the
    start (people arrive early), "no-show" from the start; both until 30 days after the end, and
    a mark may be corrected within that window.

Hours and points
    An activity credits ``hours`` to each person who attended; by default the length of the
    activity (end - start) in hours, rounded half-up to 0.01. Points are ``hours x
    points_per_hour``, rounded half-up to 0.01; ``points_per_hour`` defaults to 1 (one point per
    hour of service), so by default points equal hours. A no-show earns neither.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
ATTENDED = "attended"
NO_SHOW = "no_show"

DEFAULT_POINTS_PER_HOUR = Decimal("1")
MAX_HOURS = Decimal("24")
MAX_POINTS_PER_HOUR = Decimal("100")
MAX_CAPACITY = 1000
MAX_LENGTH = timedelta(hours=24)
CHECKIN_OPENS_BEFORE = timedelta(hours=1)
CHECKIN_CLOSES_AFTER = timedelta(days=30)
CENT = Decimal("0.01")


class Refused(Exception):
    """A move the rules do not allow; ``code`` names the rule (the service words it)."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


# ---- sign-up and cancel --------------------------------------------------------------------


@dataclass(frozen=True)
class Seats:
    capacity: int
    confirmed: int
    starts_at: datetime
    signup_open: bool = True


def has_started(starts_at: datetime, now: datetime) -> bool:
    return now >= starts_at


def signup_outcome(seats: Seats, now: datetime, current_status: str | None = None) -> str:
    """CONFIRMED or WAITLISTED for a new sign-up; raises Refused("already" | "started" |
    "closed")."""
    if current_status in (CONFIRMED, WAITLISTED):
        raise Refused("already", status=current_status)
    if has_started(seats.starts_at, now):
        raise Refused("started")
    if not seats.signup_open:
        raise Refused("closed")
    return CONFIRMED if seats.confirmed < seats.capacity else WAITLISTED


def check_cancel(status: str | None, starts_at: datetime, now: datetime) -> None:
    """Raises Refused("not_signed_up" | "started") unless the person may cancel now."""
    if status not in (CONFIRMED, WAITLISTED):
        raise Refused("not_signed_up")
    if has_started(starts_at, now):
        raise Refused("started")


def promotions(capacity: int, confirmed: int, waitlist: Iterable[tuple[int, int]]) -> list[int]:
    """Ids to move from the waiting list to confirmed, first in line first.

    ``waitlist`` holds ``(seq, signup_id)`` pairs in any order; as many move up as there are
    free places (none when the activity is full or over).
    """
    free = max(0, capacity - confirmed)
    return [sid for _seq, sid in sorted(waitlist)][:free]


def waitlist_position(seq: int, waiting_seqs: Iterable[int]) -> int:
    """1 for the first in line: how many wait ahead, plus one."""
    return sum(1 for s in waiting_seqs if s < seq) + 1


def seat_state(seats: Seats, waitlist_count: int, now: datetime) -> str:
    """What a list shows: started | closed | open | full (places taken, waiting list open)."""
    if has_started(seats.starts_at, now):
        return "started"
    if not seats.signup_open:
        return "closed"
    return "open" if seats.confirmed < seats.capacity else "full"


# ---- check-in, hours, points -----------------------------------------------------------------


def check_attendance(
    mark: str, status: str, starts_at: datetime, ends_at: datetime, now: datetime
) -> None:
    """Raises Refused("unknown_mark" | "not_confirmed" | "too_early" | "too_late")."""
    if mark not in (ATTENDED, NO_SHOW):
        raise Refused("unknown_mark")
    if status != CONFIRMED:
        raise Refused("not_confirmed")
    opens = starts_at - CHECKIN_OPENS_BEFORE if mark == ATTENDED else starts_at
    if now < opens:
        raise Refused("too_early", opens=opens)
    if now > ends_at + CHECKIN_CLOSES_AFTER:
        raise Refused("too_late")


def default_hours(starts_at: datetime, ends_at: datetime) -> Decimal:
    seconds = Decimal(int((ends_at - starts_at).total_seconds()))
    return (seconds / Decimal(3600)).quantize(CENT, rounding=ROUND_HALF_UP)


def points_for(hours: Decimal, points_per_hour: Decimal) -> Decimal:
    return (Decimal(hours) * Decimal(points_per_hour)).quantize(CENT, rounding=ROUND_HALF_UP)


def credit(mark: str, hours: Decimal, points_per_hour: Decimal) -> tuple[Decimal, Decimal]:
    """(hours, points) recorded for a check-in mark."""
    if mark != ATTENDED:
        return Decimal("0.00"), Decimal("0.00")
    h = Decimal(hours).quantize(CENT, rounding=ROUND_HALF_UP)
    return h, points_for(h, points_per_hour)


# ---- activity details ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    starts_at: datetime
    ends_at: datetime
    capacity: int
    hours: Decimal | None = None
    points_per_hour: Decimal | None = None


def plan_problems(
    plan: Plan,
    now: datetime,
    *,
    before: Plan | None = None,
    confirmed: int = 0,
) -> list[tuple[str, str]]:
    """(field, code) pairs of what is wrong with a new (``before`` None) or changed plan.

    A new activity must start in the future. Once an activity has started, its times and its
    capacity are fixed (hours and points may still be corrected). The capacity never goes
    below the number of people already confirmed.
    """
    problems: list[tuple[str, str]] = []
    started = before is not None and has_started(before.starts_at, now)
    if started:
        if plan.starts_at != before.starts_at or plan.ends_at != before.ends_at:
            problems.append(("starts_at", "started_times_fixed"))
        if plan.capacity != before.capacity:
            problems.append(("capacity", "started_capacity_fixed"))
    else:
        moved = before is None or plan.starts_at != before.starts_at
        if moved and plan.starts_at <= now:
            problems.append(("starts_at", "start_in_past"))
    if plan.ends_at <= plan.starts_at:
        problems.append(("ends_at", "end_before_start"))
    elif plan.ends_at - plan.starts_at > MAX_LENGTH:
        problems.append(("ends_at", "too_long"))
    if plan.capacity < 1 or plan.capacity > MAX_CAPACITY:
        problems.append(("capacity", "capacity_range"))
    elif plan.capacity < confirmed and not started:
        problems.append(("capacity", "below_confirmed"))
    if plan.hours is not None and not (Decimal(0) <= plan.hours <= MAX_HOURS):
        problems.append(("hours", "hours_range"))
    if plan.points_per_hour is not None and not (
        Decimal(0) <= plan.points_per_hour <= MAX_POINTS_PER_HOUR
    ):
        problems.append(("points_per_hour", "points_range"))
    return problems


# ---- months and the calendar -----------------------------------------------------------------


def parse_month(text: str | None) -> tuple[int, int] | None:
    """'2026-03' -> (2026, 3); anything else (or a year outside 2000-2100) -> None."""
    if not text or len(text) != 7 or text[4] != "-":
        return None
    y, m = text[:4], text[5:]
    if not (y.isdigit() and m.isdigit()):
        return None
    year, month = int(y), int(m)
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return year, month


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def local_month(now: datetime, tz: tzinfo) -> tuple[int, int]:
    local = now.astimezone(tz)
    return local.year, local.month


def month_bounds(year: int, month: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar month, in UTC."""
    ny, nm = shift_month(year, month, 1)
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
    end = datetime.combine(date(ny, nm, 1), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_weeks(year: int, month: int) -> list[list[date | None]]:
    """The month as weeks from Monday to Sunday; days of other months are None."""
    weeks = _calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    return [[d if d.month == month else None for d in week] for week in weeks]


def local_date(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def last_months(now: datetime, tz: tzinfo, n: int = 12) -> list[tuple[int, int]]:
    """The ``n`` local months up to and including the current one, newest first."""
    y, m = local_month(now, tz)
    return [shift_month(y, m, -i) for i in range(n)]


# ---- monthly summary -------------------------------------------------------------------------


@dataclass
class MonthCell:
    activities: int = 0
    volunteers: int = 0
    hours: Decimal = Decimal("0.00")
    _people: set[int] = field(default_factory=set, repr=False)


def monthly_summary(
    activities: Iterable[tuple[int, int, datetime]],
    attended: Iterable[tuple[int, int, Decimal]],
    months: Sequence[tuple[int, int]],
    tz: tzinfo,
) -> dict[tuple[int, tuple[int, int]], MonthCell]:
    """Per (team id, local month): activities held, distinct volunteers who attended, hours.

    ``activities`` are ``(activity_id, team_id, starts_at)``; ``attended`` are
    ``(activity_id, user_id, hours)`` of attended sign-ups. An activity counts in the local
    month of its start; months outside ``months`` are left out.
    """
    wanted = set(months)
    where: dict[int, tuple[int, tuple[int, int]]] = {}
    cells: dict[tuple[int, tuple[int, int]], MonthCell] = {}
    for activity_id, team_id, starts_at in activities:
        local = starts_at.astimezone(tz)
        ym = (local.year, local.month)
        if ym not in wanted:
            continue
        key = (team_id, ym)
        where[activity_id] = key
        cells.setdefault(key, MonthCell()).activities += 1
    for activity_id, user_id, hours in attended:
        key = where.get(activity_id)
        if key is None:
            continue
        cell = cells[key]
        cell._people.add(user_id)
        cell.hours += Decimal(hours or 0)
    for cell in cells.values():
        cell.volunteers = len(cell._people)
    return cells
