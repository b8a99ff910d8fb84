"""Translated labels of the minutes vocabularies."""

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "committee": _l("Owners' committee meeting"),
    "assembly": _l("Owners' assembly"),
    "joint": _l("Joint meeting with the residents' committee"),
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Waiting for confirmation"),
    "published": _l("Published"),
}
