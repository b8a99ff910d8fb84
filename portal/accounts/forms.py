"""Field checks for the account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, ValidationError

from portal.validators import normalise_mobile

RELATION_CHOICES = [
    ("owner", _l("Owner")),
    ("tenant", _l("Tenant")),
    ("family", _l("Family member of the owner")),
]


def _mobile(form, field):
    value = normalise_mobile(field.data)
    if value is None:
        raise ValidationError(_l("Enter an 11-digit mainland mobile number, e.g. 13800138000."))
    field.data = value


class RegisterForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired(), _mobile])
    display_name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=30)],
        filters=[lambda s: s and s.strip()],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class LoginForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    next = HiddenField()


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Your name"),
        validators=[DataRequired(), Length(max=30)],
        filters=[lambda s: s and s.strip()],
    )
    locale = SelectField(_l("Language"), choices=[("zh_Hans_CN", "中文"), ("en", "English")])
    large_text = BooleanField(_l("Large text"))


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=128)])
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ClaimForm(FlaskForm):
    building = SelectField(_l("Building"), coerce=int, validators=[DataRequired()])
    room = StringField(
        _l("Room number"),
        validators=[DataRequired(), Length(max=30)],
        filters=[lambda s: s and s.strip()],
    )
    relation = RadioField(_l("You are the unit's"), choices=RELATION_CHOICES, default="owner")
    claimed_name = StringField(
        _l("Owner's name as registered"),
        validators=[DataRequired(), Length(max=30)],
        filters=[lambda s: s and s.strip()],
    )
    note = TextAreaField(
        _l("Note for the community (optional)"), validators=[Optional(), Length(max=300)]
    )


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (the resident will see it)"), validators=[DataRequired(), Length(max=300)]
    )


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""


class GrantForm(FlaskForm):
    phone = StringField(_l("User's mobile number"), validators=[DataRequired(), _mobile])
    role = SelectField(_l("Role"))
    scope_code = StringField(
        _l("Scope code"),
        validators=[Optional(), Length(max=32)],
        filters=[lambda s: s and s.strip()],
    )
