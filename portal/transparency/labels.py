"""Translated labels of the transparency vocabulary and messages of the statement import."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.places.roster import RowError

CATEGORY_LABELS = {
    # income
    "property_fees": _l("Property fees collected"),
    "subsidy": _l("Government subsidy"),
    "parking": _l("Parking income"),
    "common_area": _l("Common-area income (advertising, rent)"),
    "other_income": _l("Other income"),
    # expenses
    "wages": _l("Staff wages"),
    "cleaning": _l("Cleaning"),
    "greening": _l("Greening"),
    "security": _l("Security"),
    "repairs": _l("Repairs and maintenance"),
    "utilities": _l("Common-area utilities"),
    "management": _l("Management"),
    "other_expense": _l("Other expenses"),
}

DIRECTION_LABELS = {"income": _l("Income"), "expense": _l("Expenses")}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Awaiting review"),
    "returned": _l("Returned for correction"),
    "published": _l("Published"),
}

PERIOD_KIND_LABELS = {"month": _l("Monthly"), "quarter": _l("Quarterly"), "year": _l("Yearly")}

QUESTION_FILTERS = {
    "all": _l("All questions"),
    "open": _l("Unanswered"),
    "overdue": _l("Overdue"),
    "answered": _l("Answered"),
}

SERVICE_CATEGORY_LABELS = {
    "cleaning": _l("Cleaning"),
    "greening": _l("Greening"),
    "security": _l("Security"),
    "facilities": _l("Facilities"),
    "parking": _l("Parking order"),
    "fire_safety": _l("Fire safety"),
    "service_desk": _l("Service desk"),
    "repairs": _l("Repairs"),
    "other": _l("Other"),
}

SERVICE_LEVEL_LABELS = {
    "一级": _l("Level 1 (highest)"),
    "二级": _l("Level 2"),
    "三级": _l("Level 3"),
}

FIGURE_LABELS = {
    "opening_balance": _l("Balance brought forward"),
    "households_billed": _l("Households billed"),
    "households_paid": _l("Households paid"),
    "amount_billed": _l("Amount billed"),
    "amount_collected": _l("Amount collected"),
}

FIELD_LABELS = {
    "section": _l("section"),
    "category": _l("category"),
    "item": _l("item"),
    "amount": _l("amount"),
    "note": _l("note"),
    "building": _l("building"),
    "households_billed": _l("households billed"),
    "households_paid": _l("households paid"),
    "amount_billed": _l("amount billed"),
    "amount_collected": _l("amount collected"),
}

SECTION_LABELS = {
    "income": _l("an income line"),
    "expense": _l("an expense line"),
}

MESSAGES = {
    # the file as a whole
    "file_empty": _l("The file is empty."),
    "file_type": _l(
        "Only CSV (.csv) and Excel (.xlsx) files can be imported. In Excel, save an older "
        ".xls file as .xlsx first."
    ),
    "file_unreadable": _l(
        "The file could not be read as CSV or Excel (.xlsx). Open it in Excel, save it again "
        "and upload it once more."
    ),
    "file_encoding": _l(
        "The text encoding of the CSV file was not recognised. In Excel, save it as "
        "“CSV UTF-8” and upload it again."
    ),
    "file_too_large": _l("The file is larger than %(mb)d MB. A statement file is much smaller."),
    "too_many_rows": _l("The file has more than %(max)d rows; a statement has far fewer."),
    "no_lines": _l("The file has no income or expense line."),
    "billing_missing": _l(
        "The file has no billing row (section 收费 / billing): households billed and paid, "
        "amounts billed and collected."
    ),
    # the header row
    "header_unknown": _l(
        "Line %(line)d: the column “%(column)s” is not one the portal knows. "
        "The columns are: %(expected)s."
    ),
    "header_missing": _l("Line %(line)d: the required column “%(column)s” is missing."),
    "header_duplicate": _l("Line %(line)d: the column “%(column)s” appears twice."),
    "no_rows": _l("Line %(line)d: the header row is there, but no rows follow it."),
    # one row
    "required": _l("Line %(line)d: the %(field)s is missing."),
    "too_long": _l("Line %(line)d: the %(field)s is longer than %(max)d characters."),
    "section_unknown": _l(
        "Line %(line)d: the section “%(value)s” is not one of 收入 / income, 支出 / expense, "
        "收费 / billing, 结余 / opening."
    ),
    "category_unknown": _l(
        "Line %(line)d: “%(value)s” is not a category of %(section)s. See the list of "
        "categories on the import page."
    ),
    "amount_invalid": _l(
        "Line %(line)d: the %(field)s must be a number of yuan, 0 or more, with at most two "
        "decimals (the file says “%(value)s”)."
    ),
    "balance_invalid": _l(
        "Line %(line)d: the %(field)s must be a number of yuan with at most two decimals "
        "(the file says “%(value)s”)."
    ),
    "count_invalid": _l(
        "Line %(line)d: the %(field)s must be a whole number, 0 or more (the file says "
        "“%(value)s”)."
    ),
    "phone_in_text": _l(
        "Line %(line)d: the %(field)s contains a phone number. This text is public: leave "
        "phone numbers and names out."
    ),
    "line_duplicate": _l(
        "Line %(line)d: the same category and item are already on line %(first_line)d. "
        "Add them up into one line, or name the items differently."
    ),
    "billing_column_missing": _l(
        "Line %(line)d: a billing row needs the column “%(column)s”, which the file does not have."
    ),
    "billing_twice": _l(
        "Line %(line)d: the whole compound's billing is already on line %(first_line)d."
    ),
    "building_duplicate": _l(
        "Line %(line)d: building %(building)s is already on line %(first_line)d."
    ),
    "building_unknown": _l(
        "Line %(line)d: there is no building “%(building)s” in this compound on record."
    ),
    "opening_twice": _l(
        "Line %(line)d: the balance brought forward is already on line %(first_line)d."
    ),
    "paid_over_billed": _l("Line %(line)d: more households paid than were billed."),
    "collected_over_billed": _l(
        "Line %(line)d: more was collected than billed. Report arrears collected for earlier "
        "periods as an income line."
    ),
    "buildings_do_not_add_up": _l(
        "Line %(line)d: the buildings' billing figures do not add up to the whole compound's."
    ),
}

# The same rules, checked on a form (no line numbers).
FORM_MESSAGES = {
    "category_unknown": _l("Choose a category of the right kind for every line."),
    "line_duplicate": _l(
        "Two lines have the same category and item. Add them up into one line, or name the "
        "items differently."
    ),
    "paid_over_billed": _l("More households paid than were billed."),
    "collected_over_billed": _l(
        "More was collected than billed. Report arrears collected for earlier periods as an "
        "income line."
    ),
    "building_paid_over_billed": _l("%(building)s: more households paid than were billed."),
    "building_collected_over_billed": _l("%(building)s: more was collected than billed."),
    "building_duplicate": _l("Building %(building)s appears twice."),
    "building_unknown": _l("There is no building “%(building)s” in this compound on record."),
    "phone_in_text": _l(
        "The %(field)s contains a phone number. This text is public: leave phone numbers and "
        "names out."
    ),
    "billing_missing": _l("Give the whole compound's billing figures."),
    "buildings_do_not_add_up": _l(
        "The buildings' billing figures do not add up to the whole compound's. Correct them, "
        "or leave the buildings empty."
    ),
}


def message(error: RowError) -> str:
    params = dict(error.params)
    params["line"] = error.line
    if "field" in params:
        params["field"] = str(FIELD_LABELS.get(params["field"], params["field"]))
    if "section" in params:
        params["section"] = str(SECTION_LABELS.get(params["section"], params["section"]))
    return str(MESSAGES[error.code]) % params


def form_message(error: RowError) -> str:
    """The sentence for a rule broken on the form (no line numbers)."""
    params = dict(error.params)
    code = error.code
    if code in ("paid_over_billed", "collected_over_billed") and params.get("building"):
        code = "building_" + code
    if "field" in params:
        params["field"] = str(FIELD_LABELS.get(params["field"], params["field"]))
    template = FORM_MESSAGES.get(code) or MESSAGES[code]
    return str(template) % params


def messages(errors: list[RowError]) -> list[str]:
    return [message(e) for e in errors]
