"""The pure rules of volunteer sign-up, waiting list, check-in, hours, points and months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portal.volunteers import rules
from portal.volunteers.rules import Plan, Refused, Seats

START = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
END = START + timedelta(hours=2)
SECOND = timedelta(seconds=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def seats(capacity=3, confirmed=0, open_=True):
    return Seats(capacity=capacity, confirmed=confirmed, starts_at=START, signup_open=open_)


# ---- sign-up -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "capacity, confirmed, expected",
    [
        (1, 0, rules.CONFIRMED),
        (3, 2, rules.CONFIRMED),  # the last place
        (3, 3, rules.WAITLISTED),  # exactly full
        (3, 4, rules.WAITLISTED),  # (never happens, but over-full still waits)
        (1, 1, rules.WAITLISTED),
    ],
)
def test_capacity_boundary(capacity, confirmed, expected):
    assert rules.signup_outcome(seats(capacity, confirmed), START - SECOND) == expected


def test_sign_up_one_second_before_the_start_is_allowed():
    assert rules.signup_outcome(seats(), START - SECOND) == rules.CONFIRMED


@pytest.mark.parametrize("now", [START, START + SECOND, END, END + timedelta(days=1)])
def test_sign_up_at_or_after_the_start_is_refused(now):
    with pytest.raises(Refused) as e:
        rules.signup_outcome(seats(), now)
    assert e.value.code == "started"


def test_sign_up_exactly_at_the_start_is_refused_even_when_places_are_free():
    with pytest.raises(Refused, match="started"):
        rules.signup_outcome(seats(capacity=100, confirmed=0), START)


def test_closed_sign_up_is_refused_before_the_start():
    with pytest.raises(Refused) as e:
        rules.signup_outcome(seats(open_=False), START - timedelta(days=1))
    assert e.value.code == "closed"


def test_started_wins_over_closed():
    with pytest.raises(Refused) as e:
        rules.signup_outcome(seats(open_=False), START)
    assert e.value.code == "started"


@pytest.mark.parametrize("status", [rules.CONFIRMED, rules.WAITLISTED])
@pytest.mark.parametrize("now", [START - timedelta(days=1), START])
def test_already_on_the_list_is_refused(status, now):
    with pytest.raises(Refused) as e:
        rules.signup_outcome(seats(), now, status)
    assert e.value.code == "already" and e.value.params["status"] == status


def test_a_cancelled_person_may_sign_up_again():
    assert rules.signup_outcome(seats(), START - SECOND, rules.CANCELLED) == rules.CONFIRMED
    assert rules.signup_outcome(seats(1, 1), START - SECOND, rules.CANCELLED) == rules.WAITLISTED


# ---- cancel and promotion --------------------------------------------------------------------


@pytest.mark.parametrize("status", [rules.CONFIRMED, rules.WAITLISTED])
def test_cancel_until_one_second_before_the_start(status):
    rules.check_cancel(status, START, START - SECOND)


@pytest.mark.parametrize("now", [START, START + SECOND])
def test_cancel_at_or_after_the_start_is_refused(now):
    with pytest.raises(Refused, match="started"):
        rules.check_cancel(rules.CONFIRMED, START, now)


@pytest.mark.parametrize("status", [None, rules.CANCELLED])
def test_cancel_without_a_sign_up_is_refused(status):
    with pytest.raises(Refused) as e:
        rules.check_cancel(status, START, START - timedelta(days=1))
    assert e.value.code == "not_signed_up"


def test_one_cancel_promotes_the_first_in_line():
    # capacity 2, one confirmed left after a cancel; waiting: seq 5 (id 50), seq 3 (id 30)
    assert rules.promotions(2, 1, [(5, 50), (3, 30)]) == [30]


def test_promotion_follows_sign_up_order_not_ids():
    assert rules.promotions(3, 0, [(9, 1), (2, 7), (4, 3)]) == [7, 3, 1]


def test_no_promotion_when_full_or_nobody_waits():
    assert rules.promotions(2, 2, [(1, 10)]) == []
    assert rules.promotions(2, 3, [(1, 10)]) == []
    assert rules.promotions(2, 0, []) == []


def test_raising_the_capacity_promotes_as_many_as_fit():
    assert rules.promotions(5, 2, [(i, i * 10) for i in range(1, 6)]) == [10, 20, 30]


@pytest.mark.parametrize(
    "seq, waiting, position",
    [(4, [4], 1), (7, [4, 7, 9], 2), (9, [9, 4, 7], 3), (4, [4, 7, 9], 1)],
)
def test_waitlist_position(seq, waiting, position):
    assert rules.waitlist_position(seq, waiting) == position


@pytest.mark.parametrize(
    "capacity, confirmed, open_, now, state",
    [
        (3, 2, True, START - SECOND, "open"),
        (3, 3, True, START - SECOND, "full"),
        (3, 0, False, START - SECOND, "closed"),
        (3, 0, True, START, "started"),
        (3, 3, False, START, "started"),
    ],
)
def test_seat_state(capacity, confirmed, open_, now, state):
    assert rules.seat_state(seats(capacity, confirmed, open_), 0, now) == state


# ---- check-in ------------------------------------------------------------------------------


def test_attended_may_be_marked_from_one_hour_before_the_start():
    rules.check_attendance(rules.ATTENDED, rules.CONFIRMED, START, END, START - timedelta(hours=1))
    with pytest.raises(Refused) as e:
        rules.check_attendance(
            rules.ATTENDED, rules.CONFIRMED, START, END, START - timedelta(hours=1) - SECOND
        )
    assert e.value.code == "too_early"


def test_no_show_only_from_the_start():
    rules.check_attendance(rules.NO_SHOW, rules.CONFIRMED, START, END, START)
    with pytest.raises(Refused, match="too_early"):
        rules.check_attendance(rules.NO_SHOW, rules.CONFIRMED, START, END, START - SECOND)


@pytest.mark.parametrize("mark", [rules.ATTENDED, rules.NO_SHOW])
def test_check_in_closes_thirty_days_after_the_end(mark):
    rules.check_attendance(mark, rules.CONFIRMED, START, END, END + timedelta(days=30))
    with pytest.raises(Refused, match="too_late"):
        rules.check_attendance(mark, rules.CONFIRMED, START, END, END + timedelta(days=30) + SECOND)


@pytest.mark.parametrize("status", [rules.WAITLISTED, rules.CANCELLED])
def test_only_confirmed_people_are_checked_in(status):
    with pytest.raises(Refused, match="not_confirmed"):
        rules.check_attendance(rules.ATTENDED, status, START, END, START)


def test_unknown_mark():
    with pytest.raises(Refused, match="unknown_mark"):
        rules.check_attendance("maybe", rules.CONFIRMED, START, END, START)


# ---- hours and points ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "length, hours",
    [
        (timedelta(hours=2), Decimal("2.00")),
        (timedelta(minutes=90), Decimal("1.50")),
        (timedelta(minutes=20), Decimal("0.33")),
        (timedelta(minutes=50), Decimal("0.83")),
        (timedelta(seconds=18), Decimal("0.01")),  # 0.005 rounds half up
        (timedelta(hours=24), Decimal("24.00")),
    ],
)
def test_default_hours_is_the_length_rounded_half_up(length, hours):
    assert rules.default_hours(START, START + length) == hours


def test_points_default_to_one_per_hour():
    assert rules.DEFAULT_POINTS_PER_HOUR == Decimal("1")
    assert rules.credit(rules.ATTENDED, Decimal("2.5"), rules.DEFAULT_POINTS_PER_HOUR) == (
        Decimal("2.50"),
        Decimal("2.50"),
    )


@pytest.mark.parametrize(
    "hours, per_hour, points",
    [
        (Decimal("1.5"), Decimal("2"), Decimal("3.00")),
        (Decimal("0.33"), Decimal("1.5"), Decimal("0.50")),  # 0.495 rounds half up
        (Decimal("2"), Decimal("0"), Decimal("0.00")),
    ],
)
def test_points_are_hours_times_points_per_hour(hours, per_hour, points):
    assert rules.points_for(hours, per_hour) == points


def test_a_no_show_earns_nothing():
    assert rules.credit(rules.NO_SHOW, Decimal("3"), Decimal("2")) == (
        Decimal("0.00"),
        Decimal("0.00"),
    )


# ---- activity plans --------------------------------------------------------------------------


NOW = START - timedelta(days=1)


def plan(**kw):
    base = {"starts_at": START, "ends_at": END, "capacity": 5}
    base.update(kw)
    return Plan(**base)


def codes(problems):
    return [code for _field, code in problems]


def test_a_good_new_plan_has_no_problems():
    assert rules.plan_problems(plan(), NOW) == []


@pytest.mark.parametrize("start", [NOW, NOW - SECOND])
def test_a_new_activity_starts_in_the_future(start):
    p = plan(starts_at=start, ends_at=start + timedelta(hours=1))
    assert codes(rules.plan_problems(p, NOW)) == ["start_in_past"]


def test_end_after_start_and_at_most_a_day():
    assert codes(rules.plan_problems(plan(ends_at=START), NOW)) == ["end_before_start"]
    assert rules.plan_problems(plan(ends_at=START + timedelta(hours=24)), NOW) == []
    too_long = plan(ends_at=START + timedelta(hours=24) + SECOND)
    assert codes(rules.plan_problems(too_long, NOW)) == ["too_long"]


@pytest.mark.parametrize("capacity, ok", [(0, False), (1, True), (1000, True), (1001, False)])
def test_capacity_range(capacity, ok):
    assert (rules.plan_problems(plan(capacity=capacity), NOW) == []) is ok


@pytest.mark.parametrize(
    "hours, per_hour, problem",
    [
        (Decimal("-0.01"), None, "hours_range"),
        (Decimal("24.01"), None, "hours_range"),
        (Decimal("24"), Decimal("100"), None),
        (None, Decimal("100.01"), "points_range"),
        (None, Decimal("-1"), "points_range"),
    ],
)
def test_hours_and_points_ranges(hours, per_hour, problem):
    found = codes(rules.plan_problems(plan(hours=hours, points_per_hour=per_hour), NOW))
    assert found == ([problem] if problem else [])


def test_capacity_never_below_the_confirmed():
    before = plan()
    assert rules.plan_problems(plan(capacity=3), NOW, before=before, confirmed=3) == []
    assert codes(rules.plan_problems(plan(capacity=2), NOW, before=before, confirmed=3)) == [
        "below_confirmed"
    ]


def test_an_unchanged_start_in_the_past_is_no_problem_before_start():
    # editing the title of an activity that has not started keeps its (future) start
    assert rules.plan_problems(plan(), START - SECOND, before=plan()) == []


def test_after_the_start_times_and_capacity_are_fixed():
    before = plan()
    moved = plan(starts_at=START + timedelta(hours=1), ends_at=END + timedelta(hours=1))
    assert codes(rules.plan_problems(moved, START, before=before)) == ["started_times_fixed"]
    assert codes(rules.plan_problems(plan(capacity=9), START, before=before)) == [
        "started_capacity_fixed"
    ]
    fix_hours = plan(hours=Decimal("1.5"))
    assert rules.plan_problems(fix_hours, END + timedelta(days=3), before=before) == []


# ---- months ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-03", (2026, 3)),
        ("2026-12", (2026, 12)),
        ("2026-13", None),
        ("2026-00", None),
        ("1999-05", None),
        ("2026-3", None),
        ("abcd-ef", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_month(text, expected):
    assert rules.parse_month(text) == expected


@pytest.mark.parametrize(
    "ym, delta, expected",
    [
        ((2026, 1), -1, (2025, 12)),
        ((2026, 12), 1, (2027, 1)),
        ((2026, 3), -12, (2025, 3)),
        ((2026, 3), 0, (2026, 3)),
    ],
)
def test_shift_month(ym, delta, expected):
    assert rules.shift_month(*ym, delta) == expected


def test_month_bounds_are_local_midnights_in_utc():
    start, end = rules.month_bounds(2026, 3, SHANGHAI)
    assert start == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)


def test_local_month_changes_at_beijing_midnight():
    assert rules.local_month(datetime(2026, 3, 31, 15, 59, tzinfo=UTC), SHANGHAI) == (2026, 3)
    assert rules.local_month(datetime(2026, 3, 31, 16, 0, tzinfo=UTC), SHANGHAI) == (2026, 4)


def test_month_weeks_start_on_monday_and_blank_other_months():
    weeks = rules.month_weeks(2026, 3)  # 1 March 2026 is a Sunday
    assert all(len(w) == 7 for w in weeks)
    assert weeks[0] == [None] * 6 + [date(2026, 3, 1)]
    days = [d for w in weeks for d in w if d]
    assert days[0] == date(2026, 3, 1) and days[-1] == date(2026, 3, 31) and len(days) == 31


def test_last_months_newest_first_across_the_year():
    months = rules.last_months(datetime(2026, 2, 10, tzinfo=UTC), SHANGHAI, 12)
    assert months[0] == (2026, 2) and months[1] == (2026, 1) and months[2] == (2025, 12)
    assert months[-1] == (2025, 3) and len(months) == 12


def test_monthly_summary_counts_activities_people_and_hours_per_team_and_month():
    march = datetime(2026, 3, 31, 15, 0, tzinfo=UTC)  # 23:00 on 31 March in Beijing
    april = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 April in Beijing
    old = datetime(2025, 1, 5, tzinfo=UTC)
    activities = [(1, 10, march), (2, 10, march), (3, 10, april), (4, 20, march), (5, 10, old)]
    attended = [
        (1, 100, Decimal("2")),
        (2, 100, Decimal("1.5")),  # the same person twice in a month counts once
        (2, 101, Decimal("1.5")),
        (3, 100, Decimal("3")),
        (5, 100, Decimal("9")),  # outside the months asked for
        (99, 100, Decimal("9")),  # an activity not listed
    ]
    months = rules.last_months(datetime(2026, 4, 15, tzinfo=UTC), SHANGHAI, 12)
    cells = rules.monthly_summary(activities, attended, months, SHANGHAI)
    m = cells[(10, (2026, 3))]
    assert (m.activities, m.volunteers, m.hours) == (2, 2, Decimal("5.0"))
    a = cells[(10, (2026, 4))]
    assert (a.activities, a.volunteers, a.hours) == (1, 1, Decimal("3"))
    other = cells[(20, (2026, 3))]
    assert (other.activities, other.volunteers, other.hours) == (1, 0, Decimal("0"))
    assert (10, (2025, 1)) not in cells
