"""Translated labels for the proposal vocabulary."""

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "parking": _l("Parking"),
    "sanitation": _l("Sanitation"),
    "safety": _l("Safety"),
    "greening": _l("Greening"),
    "facilities": _l("Facilities"),
    "pets": _l("Pets"),
    "neighbours": _l("Neighbours"),
    "other": _l("Other"),
}
STATE_LABELS = {
    "collect": _l("Collecting"),
    "accepted": _l("Accepted"),
    "rejected": _l("Not accepted"),
    "merged": _l("Merged"),
    "deliberating": _l("Under deliberation"),
    "feedback": _l("Feedback given"),
    "reopened": _l("Reopened"),
    "closed": _l("Closed"),
}
# What each state means to a resident (shown on the detail page).
STATE_HINTS = {
    "collect": _l("Waiting for the community to accept it."),
    "accepted": _l("The community accepted it; the responsible party must respond in time."),
    "rejected": _l("The community did not accept it; the reason is below."),
    "merged": _l("It duplicates another proposal and was merged into it."),
    "deliberating": _l("It is on the agenda of the joint meeting."),
    "feedback": _l("The responsible party has said what was done; the author is asked to judge."),
    "reopened": _l("The author was not satisfied; it is being handled again."),
    "closed": _l("The case is finished."),
}
COMPLEXITY_LABELS = {
    "general": _l("General (answer within 24 hours)"),
    "hard": _l("Hard (answer within 48 hours)"),
    "complex": _l("Complex (answer within 72 hours)"),
}
COMPLEXITY_SHORT = {
    "general": _l("General"),
    "hard": _l("Hard"),
    "complex": _l("Complex"),
}
RESPONSIBLE_LABELS = {
    "company": _l("Property company"),
    "community": _l("Community (residents' committee)"),
    "committee": _l("Owners' committee"),
    "street": _l("Street office"),
}
# Who did it, on the public timeline ("author" shows the masked name instead).
ACTOR_LABELS = {
    "secretary": _l("Community secretary"),
    "company": _l("Property company"),
    "community": _l("Community (residents' committee)"),
    "committee": _l("Owners' committee"),
    "street": _l("Street office"),
    "admin": _l("Portal administrator"),
    "system": _l("Portal (automatic)"),
}
EVENT_LABELS = {
    "submitted": _l("Submitted"),
    "accepted": _l("Accepted"),
    "rejected": _l("Not accepted"),
    "merged": _l("Merged into another proposal"),
    "merged_in": _l("A duplicate was merged into this proposal"),
    "scheduled": _l("Put on the joint meeting's agenda"),
    "concluded": _l("Meeting conclusion recorded"),
    "feedback": _l("Feedback published"),
    "satisfied": _l("The author is satisfied"),
    "unsatisfied": _l("The author is not satisfied"),
    "reopened": _l("Reopened"),
    "closed": _l("Closed"),
    "overdue": _l("Overdue: escalated to the street office"),
    "expired": _l("Closed: the author did not judge the feedback in time"),
    "hidden": _l("Hidden by the community"),
}
OUTCOME_LABELS = {
    "satisfied": _l("Satisfied"),
    "unsatisfied": _l("Not satisfied"),
    "no_reply": _l("No verdict from the author"),
}
SORT_LABELS = {
    "newest": _l("Newest"),
    "supported": _l("Most supported"),
    "deadline": _l("Deadline"),
}
REPORT_STATUS_LABELS = {
    "open": _l("Open"),
    "hidden": _l("Hidden"),
    "dismissed": _l("Dismissed"),
}
