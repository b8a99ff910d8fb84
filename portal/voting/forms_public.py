"""Field checks for the residents' election forms (the rules themselves live in the service)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length


class VoteForm(FlaskForm):
    """Step 1: choose. The choices (the options and "abstain") are set by the route."""

    choice = RadioField(
        _l("Your choice"),
        choices=[],
        validators=[InputRequired(message=_l("Choose one of the options, or abstain."))],
        validate_choice=True,
    )


class ConfirmVoteForm(FlaskForm):
    """Step 2: confirm. The choice travels in a hidden field; the service checks it."""

    choice = HiddenField(validators=[InputRequired()])


class ObjectionForm(FlaskForm):
    unit_id = SelectField(_l("Which unit is it about?"), coerce=int, choices=[])
    text = TextAreaField(
        _l("What is wrong with the roll?"),
        validators=[
            DataRequired(message=_l("Say what is wrong with the roll.")),
            Length(max=1000, message=_l("Please keep it under 1,000 characters.")),
        ],
        filters=[lambda s: s and s.strip()],
    )


class ReceiptLookupForm(FlaskForm):
    """Looking a receipt up changes nothing: a GET form, without a CSRF token."""

    class Meta:
        csrf = False

    receipt = StringField(
        _l("Receipt code"),
        validators=[
            DataRequired(message=_l("Type the code printed on your receipt.")),
            Length(
                max=40, message=_l("A receipt code has 10 letters and digits, like ABCDE-23456.")
            ),
        ],
    )
