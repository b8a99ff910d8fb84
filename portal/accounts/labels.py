"""Translated labels for account vocabularies."""

from flask_babel import lazy_gettext as _l

RELATION_LABELS = {
    "owner": _l("Owner"),
    "tenant": _l("Tenant"),
    "family": _l("Family member"),
}
STATUS_LABELS = {
    "pending": _l("Waiting for the community"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
}
ROLE_LABELS = {
    "committee": _l("Owners' committee member"),
    "secretary": _l("Community secretary"),
    "street": _l("Street officer"),
    "company": _l("Property-company staff"),
    "inspector": _l("Inspector"),
    "admin": _l("Site administrator"),
}
SCOPE_LABELS = {
    "compound": _l("compound"),
    "community": _l("community"),
    "street": _l("street"),
    "company": _l("company"),
}

# The secretary's view of the same states
QUEUE_LABELS = {
    "pending": _l("To review"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
}
