"""Translated labels for place vocabularies."""

from flask_babel import lazy_gettext as _l

COMPOUND_KIND_LABELS = {
    "commercial": _l("Commercial housing"),
    "old": _l("Old compound"),
    "resettlement": _l("Resettlement housing"),
}

# The compound hub's tabs, in order: slug -> (label, empty-state text)
HUB_TABS = {
    "notices": (
        _l("Notices"),
        _l("No notices have been published for this compound yet."),
    ),
    "fees": (
        _l("Fee accounts"),
        _l("No fee statement has been published for this compound yet."),
    ),
    "commitments": (
        _l("Service commitments"),
        _l("No service commitments have been recorded for this compound yet."),
    ),
    "ratings": (
        _l("Ratings"),
        _l("No inspection ratings have been published for this compound yet."),
    ),
    "elections": (
        _l("Elections"),
        _l("No property-company election has been held in this compound on the portal yet."),
    ),
    "proposals": (
        _l("Proposals"),
        _l("No proposals have been raised in this compound yet."),
    ),
    "volunteers": (
        _l("Volunteers"),
        _l("No volunteer teams or activities are listed for this compound yet."),
    ),
    "minutes": (
        _l("Minutes"),
        _l("No meeting minutes have been published for this compound yet."),
    ),
}
