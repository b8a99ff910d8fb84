"""Translated messages for the roster import's error codes (see ``portal.places.roster``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from portal.places.roster import RowError

FIELD_LABELS = {
    "building": _l("building"),
    "room": _l("room number"),
    "area_m2": _l("exclusive area"),
    "owner_key": _l("owner number"),
    "owner_name": _l("owner's name"),
    "phone": _l("phone number"),
    "developer_held": _l("developer-held flag"),
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
    "file_too_large": _l(
        "The file is larger than %(mb)d MB. Split the roster into several files, for example "
        "one per building."
    ),
    "too_many_rows": _l(
        "The file has more than %(max)d units. Split the roster into several files, for example "
        "one per building."
    ),
    # the header row
    "header_unknown": _l(
        "Line %(line)d: the column “%(column)s” is not one the portal knows. "
        "The columns are: %(expected)s."
    ),
    "header_missing": _l("Line %(line)d: the required column “%(column)s” is missing."),
    "header_duplicate": _l("Line %(line)d: the column “%(column)s” appears twice."),
    "no_rows": _l("Line %(line)d: the header row is there, but no units follow it."),
    # one unit's row
    "required": _l("Line %(line)d: the %(field)s is missing."),
    "too_long": _l("Line %(line)d: the %(field)s is longer than %(max)d characters."),
    "area_invalid": _l(
        "Line %(line)d: the area must be a number greater than 0 with at most two decimals "
        "(the file says “%(value)s”)."
    ),
    "room_duplicate": _l(
        "Line %(line)d: room %(room)s of %(building)s is already on line %(first_line)d."
    ),
    "phone_invalid": _l(
        "Line %(line)d: “%(value)s” is not a mainland mobile number (11 digits starting with 1). "
        "Leave the cell empty when there is no number."
    ),
    "owner_name_conflict": _l(
        "Line %(line)d: owner number %(owner_key)s is named “%(name)s” here but "
        "“%(first_name)s” on line %(first_line)d. One owner number must always carry the same "
        "name."
    ),
    "developer_invalid": _l(
        "Line %(line)d: the developer column says “%(value)s”; write 是 or 否 (yes or no), "
        "or leave it empty for no."
    ),
}


def message(error: RowError) -> str:
    """The translated sentence for one error, in the current locale."""
    params = dict(error.params)
    params["line"] = error.line
    if "field" in params:
        params["field"] = str(FIELD_LABELS.get(params["field"], params["field"]))
    return str(MESSAGES[error.code]) % params


def messages(errors: list[RowError]) -> list[str]:
    return [message(e) for e in errors]
