"""Translated labels and messages of the volunteers domain."""

from flask_babel import lazy_gettext as _l

SIGNUP_STATUS_LABELS = {
    "confirmed": _l("Place confirmed"),
    "waitlisted": _l("On the waiting list"),
    "cancelled": _l("Cancelled"),
}
ATTENDANCE_LABELS = {
    "attended": _l("Attended"),
    "no_show": _l("Did not come"),
}
# What a list of activities shows about sign-up (rules.seat_state)
SEAT_LABELS = {
    "open": _l("Sign-up open"),
    "full": _l("Full: waiting list open"),
    "closed": _l("Sign-up closed"),
    "started": _l("Started"),
}
# rules.Refused codes -> what the person is told
REFUSALS = {
    "already": _l("You have already signed up for this activity."),
    "started": _l(
        "This activity has already started, so sign-up and cancellation are closed. "
        "Please speak to the coordinator on site."
    ),
    "closed": _l("The coordinator has closed sign-up for this activity."),
    "not_signed_up": _l("You are not signed up for this activity."),
    "unknown_mark": _l("Choose attended or did not come."),
    "not_confirmed": _l("Only people with a confirmed place can be checked in."),
    "too_early": _l("Check-in opens one hour before the start."),
    "too_late": _l("Check-in closed 30 days after the activity."),
}
PLAN_PROBLEMS = {
    "started_times_fixed": _l("The activity has started: its times can no longer change."),
    "started_capacity_fixed": _l("The activity has started: its capacity can no longer change."),
    "start_in_past": _l("The start must be in the future."),
    "end_before_start": _l("The end must be after the start."),
    "too_long": _l("An activity lasts at most 24 hours."),
    "capacity_range": _l("Enter a number of places from 1 to 1000."),
    "below_confirmed": _l(
        "More people are already confirmed than this; the capacity cannot go below that."
    ),
    "hours_range": _l("Enter hours from 0 to 24."),
    "points_range": _l("Enter points per hour from 0 to 100."),
}
