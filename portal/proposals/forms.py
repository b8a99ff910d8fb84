"""Field checks for the proposal forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from portal.proposals.labels import CATEGORY_LABELS, COMPLEXITY_LABELS, RESPONSIBLE_LABELS

MAX_PHOTOS = 3
_strip = [lambda s: s and s.strip()]


def _photo_count(form, field):
    files = [f for f in (field.data or []) if getattr(f, "filename", "")]
    if len(files) > MAX_PHOTOS:
        raise ValidationError(_l("Attach at most %(n)s photos.", n=MAX_PHOTOS))


class ProposalForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(), Length(min=4, max=120)], filters=_strip
    )
    category = SelectField(
        _l("Category"),
        choices=[("", _l("Choose a category"))] + list(CATEGORY_LABELS.items()),
        validators=[DataRequired(message=_l("Choose a category."))],
    )
    body = TextAreaField(
        _l("What is the problem or the idea?"),
        validators=[DataRequired(), Length(min=10, max=5000)],
        filters=_strip,
    )
    photos = MultipleFileField(_l("Photos (optional, JPEG or PNG)"), validators=[_photo_count])


class AcceptForm(FlaskForm):
    complexity = RadioField(
        _l("Complexity"), choices=list(COMPLEXITY_LABELS.items()), validators=[DataRequired()]
    )
    responsible = RadioField(
        _l("Responsible party"),
        choices=list(RESPONSIBLE_LABELS.items()),
        validators=[DataRequired()],
    )


class ReasonForm(FlaskForm):
    """Reject (public reason) or hide (public reason)."""

    reason = TextAreaField(
        _l("Reason (shown publicly)"),
        validators=[DataRequired(), Length(max=500)],
        filters=_strip,
    )


class MergeForm(FlaskForm):
    target = SelectField(_l("Merge into"), coerce=int, validators=[DataRequired()])


class ScheduleForm(FlaskForm):
    meeting_on = DateField(_l("Date of the joint meeting"), validators=[DataRequired()])


class ConcludeForm(FlaskForm):
    conclusion = TextAreaField(
        _l("Conclusion of the meeting"),
        validators=[DataRequired(), Length(max=3000)],
        filters=_strip,
    )


class FeedbackForm(FlaskForm):
    feedback = TextAreaField(
        _l("What was done"), validators=[DataRequired(), Length(max=3000)], filters=_strip
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        _l("Your comment"), validators=[DataRequired(), Length(max=1000)], filters=_strip
    )


class ReportForm(FlaskForm):
    reason = TextAreaField(
        _l("Why should the community look at this?"),
        validators=[DataRequired(), Length(max=300)],
        filters=_strip,
    )


class ThresholdForm(FlaskForm):
    support_threshold = IntegerField(
        _l("Supports needed for the joint meeting's agenda"),
        validators=[DataRequired(), NumberRange(min=1, max=10000)],
    )


class VerdictForm(FlaskForm):
    verdict = RadioField(
        _l("Are you satisfied with what was done?"),
        choices=[("satisfied", _l("Satisfied")), ("unsatisfied", _l("Not satisfied"))],
        validators=[DataRequired()],
    )
    note = TextAreaField(_l("Comment (optional)"), validators=[Optional(), Length(max=500)])


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for buttons that post."""
