"""The election calendar and lifecycle, at their boundaries."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.voting.workflow import (
    ACTIONS,
    PHASES,
    Calendar,
    ScheduleError,
    TransitionRefused,
    challenge_until,
    check_schedule,
    next_state,
    phase,
    result_due,
    result_late,
)

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
CAL = Calendar()
D = timedelta(days=1)
S = timedelta(seconds=1)


def test_notice_of_exactly_15_days_is_enough():
    check_schedule(T0, T0 + 15 * D, T0 + 15 * D + 5 * D, CAL)


def test_notice_one_second_short_is_refused():
    with pytest.raises(ScheduleError) as e:
        check_schedule(T0, T0 + 15 * D - S, T0 + 25 * D, CAL)
    assert e.value.code == "notice_too_short" and e.value.params == {"days": 15}


@pytest.mark.parametrize("days, ok", [(5, True), (60, True), (30, True)])
def test_window_bounds_are_inclusive(days, ok):
    check_schedule(T0, T0 + 15 * D, T0 + 15 * D + days * D, CAL)


def test_window_one_second_short_or_long_is_refused():
    opens = T0 + 15 * D
    with pytest.raises(ScheduleError) as e:
        check_schedule(T0, opens, opens + 5 * D - S, CAL)
    assert e.value.code == "window_too_short"
    with pytest.raises(ScheduleError) as e:
        check_schedule(T0, opens, opens + 60 * D + S, CAL)
    assert e.value.code == "window_too_long"


def test_closing_before_opening_is_refused():
    with pytest.raises(ScheduleError):
        check_schedule(T0, T0 + 20 * D, T0 + 19 * D, CAL)


def test_calendar_is_configurable():
    short = Calendar(notice_days=7, min_window_days=1, max_window_days=10)
    check_schedule(T0, T0 + 7 * D, T0 + 8 * D, short)
    with pytest.raises(ScheduleError):
        check_schedule(T0, T0 + 7 * D, T0 + 8 * D, CAL)


def test_phase_follows_the_clock():
    opens, closes = T0 + 15 * D, T0 + 20 * D
    assert phase("draft", None, None, T0) == "draft"
    assert phase("announced", opens, closes, opens - S) == "announced"
    assert phase("announced", opens, closes, opens) == "open"
    assert phase("announced", opens, closes, closes - S) == "open"
    assert phase("announced", opens, closes, closes) == "ended"
    for stored in ("closed", "certified", "signed"):
        assert phase(stored, opens, closes, closes + 100 * D) == stored


def test_result_due_three_days_after_close_and_late_flag():
    closes = T0 + 20 * D
    assert result_due(closes, CAL) == closes + 3 * D
    assert not result_late(closes, closes + 3 * D, closes + 10 * D, CAL)
    assert result_late(closes, closes + 3 * D + S, closes + 10 * D, CAL)
    # not yet certified: late once the due time has passed
    assert not result_late(closes, None, closes + 3 * D, CAL)
    assert result_late(closes, None, closes + 3 * D + S, CAL)


def test_challenge_window_is_one_year():
    assert challenge_until(T0, CAL) == T0 + 365 * D


ALLOWED = {
    ("edit", "draft"): "draft",
    ("announce", "draft"): "announced",
    ("object", "announced"): "announced",
    ("refreeze", "announced"): "announced",
    ("vote", "open"): "announced",
    ("close", "ended"): "closed",
    ("certify", "closed"): "certified",
    ("sign", "certified"): "signed",
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("current", PHASES)
def test_every_move_allowed_or_refused(action, current):
    if (action, current) in ALLOWED:
        assert next_state(action, current) == ALLOWED[(action, current)]
    else:
        with pytest.raises(TransitionRefused):
            next_state(action, current)
