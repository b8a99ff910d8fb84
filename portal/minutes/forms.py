"""Field checks for the minutes forms (the service checks the rules of a record)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.minutes.labels import KIND_LABELS
from portal.minutes.rules import MAX_DECISIONS

BLANK_DECISION_ROWS = 3


class DecisionForm(Form):
    """One decision; a row left entirely empty is ignored."""

    text = TextAreaField(_l("What was decided"), validators=[Optional(), Length(max=2000)])
    votes_for = IntegerField(_l("For"), validators=[Optional(), NumberRange(min=0)])
    votes_against = IntegerField(_l("Against"), validators=[Optional(), NumberRange(min=0)])
    votes_abstain = IntegerField(_l("Abstain"), validators=[Optional(), NumberRange(min=0)])


class MinutesForm(FlaskForm):
    kind = RadioField(_l("Kind of meeting"), choices=list(KIND_LABELS.items()))
    meeting_date = DateField(
        _l("Date of the meeting"), validators=[InputRequired(_l("Give the date of the meeting."))]
    )
    place = StringField(
        _l("Place"),
        validators=[Optional(), Length(max=200)],
        filters=[lambda s: s.strip() if isinstance(s, str) else s],
    )
    attendees_count = IntegerField(
        _l("Number of people present"),
        validators=[
            InputRequired(_l("Give the number of people present (at least 1).")),
            NumberRange(min=1, max=100_000),
        ],
    )
    attendee_names = TextAreaField(
        _l("Names of those present (optional)"),
        validators=[Optional(), Length(max=10_000)],
        render_kw={"rows": 4},
    )
    agenda = TextAreaField(
        _l("Agenda and discussion"),
        validators=[Optional(), Length(max=20_000)],
        render_kw={"rows": 6},
    )
    decisions = FieldList(
        FormField(DecisionForm), min_entries=BLANK_DECISION_ROWS, max_entries=MAX_DECISIONS
    )
    attachments = MultipleFileField(_l("Attachments (PDF, JPEG or PNG)"))


class CorrectionForm(FlaskForm):
    reason = TextAreaField(
        _l("What is corrected, and why (readers will see this)"),
        validators=[DataRequired(_l("Say what is corrected and why.")), Length(max=1000)],
        render_kw={"rows": 3},
    )


class ReturnForm(FlaskForm):
    note = TextAreaField(
        _l("What should the author correct?"),
        validators=[DataRequired(_l("Tell the author what to correct.")), Length(max=1000)],
        render_kw={"rows": 3},
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for buttons that post."""
