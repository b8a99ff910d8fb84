"""The staff home's cards: each desk with the roles that may open it."""

from flask_babel import lazy_gettext as _l

# (endpoint, title, description, roles that see it)
DESKS = [
    (
        "ratings.desk",
        _l("Inspections and ratings"),
        _l("Inspections, findings and re-inspections, satisfaction surveys, rating periods."),
        {"inspector", "company", "committee", "secretary", "street", "admin"},
    ),
    (
        "transparency.desk",
        _l("Fee accounts"),
        _l("Draft, import, review and publish the fee statements; corrections as revisions."),
        {"company", "secretary", "street", "admin"},
    ),
    (
        "transparency.questions_desk",
        _l("Residents' questions"),
        _l("Answer residents' public questions on the fee statements."),
        {"company"},
    ),
    (
        "notices.desk",
        _l("Notices desk"),
        _l("Post notices for your places; manage scheduled, current, archived and withdrawn ones."),
        {"secretary", "street", "committee", "company", "admin"},
    ),
    (
        "minutes.desk",
        _l("Minutes desk"),
        _l("Record meeting minutes and confirm your colleagues' minutes."),
        {"committee", "secretary", "admin"},
    ),
    (
        "proposals.inbox",
        _l("Proposals to handle"),
        _l("Accept, schedule and answer residents' proposals; see the clocks."),
        {"secretary", "street", "company", "committee", "admin"},
    ),
    (
        "proposals.reports",
        _l("Reports to moderate"),
        _l("Hide or dismiss reported proposals and comments."),
        {"secretary", "admin"},
    ),
    (
        "proposals.street_overdue",
        _l("Overdue proposals"),
        _l("Proposals of your street whose 24/48/72-hour clock ran out."),
        {"street", "admin"},
    ),
    (
        "volunteers.staff",
        _l("Volunteer teams"),
        _l("Create teams, appoint coordinators, see monthly summaries."),
        {"secretary", "street", "admin"},
    ),
]


def desks_for(role_names: set[str]) -> list[tuple]:
    return [d for d in DESKS if d[3] & role_names]
