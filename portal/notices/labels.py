"""Translated labels of the notice vocabularies."""

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "announcement": _l("Announcement"),
    "election": _l("Election"),
    "fees": _l("Fee disclosure"),
    "maintenance": _l("Maintenance"),
    "outage": _l("Water or power cut"),
    "event": _l("Event"),
    "other": _l("Other"),
}

STATE_LABELS = {
    "scheduled": _l("Scheduled to appear"),
    "current": _l("Current"),
    "archived": _l("Archived"),
    "withdrawn": _l("Withdrawn"),
}

SCOPE_LABELS = {
    "street": _l("Street notice"),
    "community": _l("Community notice"),
    "compound": _l("Compound notice"),
}
