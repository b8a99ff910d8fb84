"""The 24/48/72-hour clocks, to the second; Beijing time in, UTC stored."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from portal.proposals import sla

SH = ZoneInfo("Asia/Shanghai")
S = timedelta(seconds=1)
ACCEPTED = datetime(2026, 3, 2, 10, 0, tzinfo=SH)  # Monday 10:00 Beijing time


@pytest.mark.parametrize("complexity, hours", [("general", 24), ("hard", 48), ("complex", 72)])
def test_deadline_per_complexity(complexity, hours):
    assert sla.deadline(ACCEPTED, complexity) == ACCEPTED + timedelta(hours=hours)


def test_general_at_ten_is_overdue_at_ten_the_next_day_not_a_second_earlier():
    due = sla.deadline(ACCEPTED, "general")
    assert due == datetime(2026, 3, 3, 10, 0, tzinfo=SH)
    assert not sla.is_overdue(due, None, due - S)
    assert sla.is_overdue(due, None, due)
    assert sla.is_overdue(due, None, due + S)


def test_same_instant_in_utc_and_beijing_time():
    due = sla.deadline(ACCEPTED.astimezone(UTC), "general")
    assert due == datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
    assert sla.is_overdue(due, None, datetime(2026, 3, 3, 10, 0, tzinfo=SH))


def test_a_response_stops_the_clock_and_decides_in_time_or_late():
    due = sla.deadline(ACCEPTED, "hard")
    later = due + timedelta(days=30)
    assert not sla.is_overdue(due, due - S, later)  # answered a second early: in time forever
    assert sla.is_overdue(due, due, later)  # answered at the deadline: late
    assert sla.is_overdue(due, due + S, due - S + S)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: sla.deadline(datetime(2026, 3, 2, 10, 0), "general"),
        lambda: sla.is_overdue(datetime(2026, 3, 2), None, ACCEPTED),
        lambda: sla.is_overdue(ACCEPTED, None, datetime(2026, 3, 2)),
        lambda: sla.time_left(ACCEPTED, datetime(2026, 3, 2)),
    ],
)
def test_naive_times_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_unknown_complexity_is_refused():
    with pytest.raises(ValueError):
        sla.deadline(ACCEPTED, "urgent")


def test_clock_running_overdue_met_late():
    due = sla.deadline(ACCEPTED, "complex")  # 72 h
    c = sla.clock(due, None, ACCEPTED)
    assert (c.status, c.days, c.hours, c.minutes) == ("running", 3, 0, 0)
    assert c.running
    c = sla.clock(due, None, due - S)
    assert (c.status, c.days, c.hours, c.minutes) == ("running", 0, 0, 0)  # under a minute left
    c = sla.clock(due, None, due)
    assert c.status == "overdue" and (c.days, c.hours, c.minutes) == (0, 0, 0)
    c = sla.clock(due, None, due + timedelta(hours=25, minutes=7, seconds=59))
    assert (c.status, c.days, c.hours, c.minutes) == ("overdue", 1, 1, 7)
    c = sla.clock(due, due - timedelta(hours=1), due + timedelta(days=9))
    assert c.status == "met" and not c.running
    c = sla.clock(due, due + timedelta(minutes=90), due + timedelta(days=9))
    assert (c.status, c.hours, c.minutes) == ("late", 1, 30)


def test_time_left_is_negative_after_the_deadline():
    due = sla.deadline(ACCEPTED, "general")
    assert sla.time_left(due, due - S) == S
    assert sla.time_left(due, due + S) == -S


def test_split_rounds_down_to_the_minute():
    assert sla.split(timedelta(days=2, hours=3, minutes=4, seconds=59)) == (2, 3, 4)
    assert sla.split(-timedelta(minutes=61)) == (0, 1, 1)
