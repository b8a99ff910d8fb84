"""Field checks for the notice forms (the service checks the rules again)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.notices.labels import CATEGORY_LABELS
from portal.notices.service import BODY_MAX, TITLE_MAX


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class NoticeForm(FlaskForm):
    category = SelectField(
        _l("Category"), choices=list(CATEGORY_LABELS.items()), default="announcement"
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(_l("Give the notice a title.")), Length(max=TITLE_MAX)],
        filters=[_strip],
    )
    body = TextAreaField(
        _l("Text"),
        validators=[Optional(), Length(max=BODY_MAX)],
        render_kw={"rows": 10},
    )
    pinned = BooleanField(_l("Pin to the top of the list"))
    publish_at = DateTimeLocalField(
        _l("Publish at (optional)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )
    expires_at = DateTimeLocalField(
        _l("Move to the archive at (optional)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )
    attachments = MultipleFileField(_l("Attachments (PDF, JPEG or PNG)"))


class WithdrawForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is it withdrawn? (readers will see this)"),
        validators=[DataRequired(_l("Give the reason.")), Length(max=500)],
        render_kw={"rows": 2},
    )


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for buttons that post."""
