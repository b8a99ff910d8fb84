"""Field checks for the volunteer forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.validators import normalise_mobile

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


def _strip(s):
    return s.strip() if isinstance(s, str) else s


def _mobile(form, field):
    if not field.data:
        return
    value = normalise_mobile(field.data)
    if value is None:
        from wtforms.validators import ValidationError

        raise ValidationError(_l("Enter an 11-digit mainland mobile number, e.g. 13800138000."))
    field.data = value


class TeamForm(FlaskForm):
    name = StringField(
        _l("Team name"), validators=[DataRequired(), Length(max=100)], filters=[_strip]
    )
    description = TextAreaField(
        _l("What the team does"), validators=[Optional(), Length(max=2000)], filters=[_strip]
    )
    compound = SelectField(_l("Compound"), coerce=int, default=0)
    coordinator_phone = StringField(
        _l("Coordinator's mobile number (optional)"),
        validators=[Optional(), _mobile],
        filters=[_strip],
    )


class CoordinatorForm(FlaskForm):
    phone = StringField(
        _l("Coordinator's mobile number"), validators=[DataRequired(), _mobile], filters=[_strip]
    )


class ActivityForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=150)], filters=[_strip])
    description = TextAreaField(
        _l("Description"), validators=[Optional(), Length(max=4000)], filters=[_strip]
    )
    place = StringField(_l("Place"), validators=[DataRequired(), Length(max=200)], filters=[_strip])
    starts_at = DateTimeLocalField(
        _l("Starts"),
        format=DATETIME_FORMATS,
        validators=[InputRequired(message=_l("Enter a date and time."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends"),
        format=DATETIME_FORMATS,
        validators=[InputRequired(message=_l("Enter a date and time."))],
    )
    capacity = IntegerField(
        _l("Places"),
        validators=[InputRequired(), NumberRange(min=1, max=1000)],
        default=10,
    )
    signup_open = BooleanField(_l("Sign-up is open"), default=True)
    hours = DecimalField(
        _l("Hours credited to each person who attends"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=24)],
    )
    points_per_hour = DecimalField(
        _l("Points per hour"),
        places=2,
        validators=[Optional(), NumberRange(min=0, max=100)],
    )
