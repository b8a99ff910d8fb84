"""Translated labels of the ratings domain, and the default 100-point checklist."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

CATEGORY_LABELS = {
    "cleaning": _l("Cleaning"),
    "greening": _l("Greening"),
    "security": _l("Security"),
    "facilities": _l("Facilities and equipment"),
    "parking": _l("Parking order"),
    "fire_safety": _l("Fire safety"),
    "service_desk": _l("Service desk"),
    "repairs": _l("Repairs"),
    "other": _l("Other"),
}

LEVEL_LABELS = {
    "community": _l("Community inspection"),
    "street": _l("Street inspection"),
    "district": _l("District inspection"),
    "third_party": _l("Third-party inspection"),
}

LEVEL_CADENCE = {
    "community": _l("monthly, by the community secretary"),
    "street": _l("quarterly, by the street officer"),
    "district": _l("half-yearly, by the district (site administrator)"),
    "third_party": _l("unannounced, by the street's third-party inspector"),
}

RESPONSIBLE_LABELS = {
    "company": _l("Property company"),
    "committee": _l("Owners' committee"),
    "community": _l("Community"),
    "other": _l("Other"),
}

FINDING_STATUS_LABELS = {
    "open": _l("Open"),
    "reported": _l("Reported rectified, awaiting re-inspection"),
    "closed": _l("Rectified"),
}

LIST_LABELS = {
    "red": _l("Red list"),
    "black": _l("Black list"),
    "none": _l("Not listed"),
}

BASIS_LABELS = {
    "both": _l("Inspections and satisfaction"),
    "inspections_only": _l("Inspections only (no survey in the period)"),
    "surveys_only": _l("Satisfaction only (no inspection in the period)"),
    "no_data": _l("Not enough data"),
}

PERIOD_KIND_LABELS = {
    "quarter": _l("Quarter"),
    "half": _l("Half-year"),
    "year": _l("Year"),
}

# Problem codes of portal.ratings.scoring -> messages
RULES_PROBLEMS = {
    "weight_range": _l("Each weight lies between 0 and 100."),
    "weights_sum": _l("The two weights must add up to 100."),
    "threshold_range": _l("Thresholds lie between 0 and 100."),
    "thresholds_order": _l("The black-list threshold cannot be above the red-list threshold."),
    "tiers_empty": _l("Give at least one subsidy tier."),
    "tier_range": _l("A tier's minimum score lies between 0 and 100."),
    "factor_range": _l("A tier's factor lies between 0 and 10."),
    "tiers_order": _l(
        "List the tiers from the highest minimum score down, each lower than the last."
    ),
    "factors_order": _l("A lower tier cannot have a higher factor than the tier above it."),
    "base_negative": _l("The base amount cannot be negative."),
}

SCORE_PROBLEMS = {
    "missing": _l("Give a score."),
    "negative": _l("A score cannot be negative."),
    "too_high": _l("A score cannot be above the item's points."),
    "precision": _l("Use at most one decimal, e.g. 7.5."),
}

POINTS_PROBLEMS = {
    "missing": _l("Give the points."),
    "not_positive": _l("An item is worth more than 0 points."),
    "too_high": _l("An item is worth at most 100 points."),
    "precision": _l("Use at most one decimal, e.g. 7.5."),
}

# The default checklist: (key, category, title, points); the points add up to 100.
DEFAULT_CHECKLIST = (
    ("cleaning.common", "cleaning", _l("Stairwells, corridors, lifts and roads are clean"), "10"),
    ("cleaning.waste", "cleaning", _l("Waste is sorted, bins are clean and emptied daily"), "8"),
    ("greening.care", "greening", _l("Lawns, trees and shrubs are tended; no bare patches"), "6"),
    (
        "greening.misuse",
        "greening",
        _l("No vegetable plots, dumping or sheds on green land"),
        "4",
    ),
    (
        "security.gate",
        "security",
        _l("Gates are staffed round the clock; visitors are registered"),
        "8",
    ),
    ("security.patrol", "security", _l("Patrols are logged; the cameras work"), "7"),
    ("facilities.lifts", "facilities", _l("Lifts are inspected; certificates are on display"), "7"),
    (
        "facilities.common",
        "facilities",
        _l("Pumps, lighting, doors and entry phones work"),
        "7",
    ),
    ("parking.order", "parking", _l("Vehicles park in order; fire lanes are clear"), "6"),
    ("parking.ebikes", "parking", _l("E-bikes are charged only at the charging points"), "4"),
    (
        "fire.equipment",
        "fire_safety",
        _l("Extinguishers and hydrants are complete and in date"),
        "7",
    ),
    ("fire.exits", "fire_safety", _l("Escape routes and exits are unobstructed"), "6"),
    (
        "desk.open",
        "service_desk",
        _l("The service desk is staffed; fees and commitments are posted"),
        "5",
    ),
    (
        "desk.complaints",
        "service_desk",
        _l("Complaints are logged and answered in time"),
        "5",
    ),
    ("repairs.time", "repairs", _l("Repairs are attended within the committed time"), "6"),
    ("repairs.records", "repairs", _l("Repair and maintenance records are kept"), "4"),
)
DEFAULT_TITLES = {key: title for key, _c, title, _p in DEFAULT_CHECKLIST}
DEFAULT_TOTAL = sum(Decimal(p) for *_rest, p in DEFAULT_CHECKLIST)


def item_title(item) -> str:
    """A checklist item's title in the reader's language when it is a default item."""
    if item.builtin_key and item.builtin_key in DEFAULT_TITLES:
        return str(DEFAULT_TITLES[item.builtin_key])
    return item.title
