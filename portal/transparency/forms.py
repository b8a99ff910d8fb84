"""Field checks for the fee statement, question, commitment and contract forms."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.transparency import feecore
from portal.transparency.labels import (
    CATEGORY_LABELS,
    DIRECTION_LABELS,
    PERIOD_KIND_LABELS,
    SERVICE_CATEGORY_LABELS,
    SERVICE_LEVEL_LABELS,
)

BLANK_LINE_ROWS = 4


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _no_phone(form, field):
    if feecore.contains_phone(field.data):
        raise ValidationError(_l("This text is public: leave phone numbers and names out."))


def _money(allow_negative=False):
    def check(form, field):
        if field.data in (None, ""):
            return
        value = feecore.parse_amount(field.data, allow_negative=allow_negative)
        if value is None:
            raise ValidationError(
                _l("Write a number of yuan with at most two decimals, e.g. 1234.50.")
                if allow_negative
                else _l("Write a number of yuan, 0 or more, with at most two decimals.")
            )

    return check


def line_choices():
    """One select for direction and category: "income:property_fees" …"""
    choices = [("", _l("— no line —"))]
    for direction in feecore.DIRECTIONS:
        for c in feecore.CATEGORIES[direction]:
            choices.append(
                (f"{direction}:{c}", f"{DIRECTION_LABELS[direction]} · {CATEGORY_LABELS[c]}")
            )
    return choices


class LineForm(Form):
    kind = SelectField(_l("Category"), choices=[], validators=[Optional()])
    item = StringField(
        _l("Item"), validators=[Optional(), Length(max=100), _no_phone], filters=[_strip]
    )
    amount = StringField(_l("Amount (yuan)"), validators=[Optional(), _money()], filters=[_strip])
    note = StringField(
        _l("Note"), validators=[Optional(), Length(max=300), _no_phone], filters=[_strip]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = line_choices()

    def is_blank(self) -> bool:
        return not (self.kind.data or self.item.data or self.amount.data or self.note.data)

    def validate_kind(self, field):
        if not self.is_blank() and not field.data:
            raise ValidationError(_l("Choose the category of this line."))

    def validate_amount(self, field):
        if not self.is_blank() and not field.data:
            raise ValidationError(_l("Write the amount of this line."))


class BuildingForm(Form):
    name = HiddenField()
    households_billed = IntegerField(
        _l("Households billed"), validators=[Optional(), NumberRange(min=0, max=100000)]
    )
    households_paid = IntegerField(
        _l("Households paid"), validators=[Optional(), NumberRange(min=0, max=100000)]
    )
    amount_billed = StringField(
        _l("Amount billed"), validators=[Optional(), _money()], filters=[_strip]
    )
    amount_collected = StringField(
        _l("Amount collected"), validators=[Optional(), _money()], filters=[_strip]
    )

    def is_blank(self) -> bool:
        return all(
            f.data in (None, "")
            for f in (
                self.households_billed,
                self.households_paid,
                self.amount_billed,
                self.amount_collected,
            )
        )

    def validate_households_billed(self, field):
        if not self.is_blank():
            for f in (
                self.households_billed,
                self.households_paid,
                self.amount_billed,
                self.amount_collected,
            ):
                if f.data in (None, ""):
                    raise ValidationError(_l("Fill in all four figures of the building, or none."))


class PeriodFields:
    """The period of a statement: kind, year, and the month or the quarter."""

    period_kind = SelectField(
        _l("Period"),
        choices=list(PERIOD_KIND_LABELS.items()),
        default="month",
    )
    year = IntegerField(
        _l("Year"),
        validators=[DataRequired(), NumberRange(min=2000, max=2100)],
        default=lambda: date.today().year,
    )
    month = SelectField(
        _l("Month (for a monthly statement)"),
        coerce=int,
        choices=[(m, str(m)) for m in range(1, 13)],
        default=lambda: date.today().month,
    )
    quarter = SelectField(
        _l("Quarter (for a quarterly statement)"),
        coerce=int,
        choices=[(q, str(q)) for q in range(1, 5)],
        default=1,
    )

    def init_period_choices(self) -> None:
        from flask_babel import gettext as _

        self.quarter.choices = [(q, _("Q%(n)d", n=q)) for q in range(1, 5)]

    def period_number(self) -> int | None:
        return {"month": self.month.data, "quarter": self.quarter.data}.get(
            self.period_kind.data, 1
        )


class StatementForm(PeriodFields, FlaskForm):
    compound = SelectField(
        _l("Compound"),
        coerce=int,
        validate_choice=False,  # the service decides who may draft where (403, not 422)
        validators=[NumberRange(min=1, message=_l("Choose the compound."))],
    )
    opening_balance = StringField(
        _l("Balance brought forward (yuan)"),
        validators=[Optional(), _money(allow_negative=True)],
        filters=[_strip],
        default="0.00",
    )
    households_billed = IntegerField(
        _l("Households billed"), validators=[InputRequired(), NumberRange(min=0, max=100000)]
    )
    households_paid = IntegerField(
        _l("Households paid"), validators=[Optional(), NumberRange(min=0, max=100000)], default=0
    )
    amount_billed = StringField(
        _l("Amount billed (yuan)"), validators=[DataRequired(), _money()], filters=[_strip]
    )
    amount_collected = StringField(
        _l("Amount collected (yuan)"), validators=[DataRequired(), _money()], filters=[_strip]
    )
    note = TextAreaField(
        _l("Remarks (public)"),
        validators=[Optional(), Length(max=2000), _no_phone],
        filters=[_strip],
    )
    revision_reason = TextAreaField(
        _l("Reason for this revision (public)"),
        validators=[Optional(), Length(max=1000), _no_phone],
        filters=[_strip],
    )
    lines = FieldList(FormField(LineForm), min_entries=0, max_entries=200)
    buildings = FieldList(FormField(BuildingForm), min_entries=0, max_entries=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_period_choices()


class ConfirmForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


class ReturnForm(FlaskForm):
    reason = TextAreaField(
        _l("What must the company correct?"),
        validators=[
            DataRequired(message=_l("Tell the company what to correct.")),
            Length(max=1000),
        ],
        filters=[_strip],
    )


class RevisionForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is a correction needed? (public)"),
        validators=[
            DataRequired(message=_l("Give the reason for the revision.")),
            Length(max=1000),
            _no_phone,
        ],
        filters=[_strip],
    )


class ImportForm(PeriodFields, FlaskForm):
    compound = SelectField(
        _l("Compound"),
        coerce=int,
        validate_choice=False,
        validators=[NumberRange(min=1, message=_l("Choose the compound."))],
    )
    revision_reason = TextAreaField(
        _l("Reason for the revision, when the period is already published (public)"),
        validators=[Optional(), Length(max=1000), _no_phone],
        filters=[_strip],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_period_choices()

    file = FileField(
        _l("Statement file"),
        validators=[
            FileRequired(_l("Choose the statement file.")),
            FileAllowed(["csv", "xlsx"], _l("Choose a CSV (.csv) or Excel (.xlsx) file.")),
        ],
    )


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class QuestionForm(FlaskForm):
    body = TextAreaField(
        _l("Your question (public; your name is shown masked)"),
        validators=[
            DataRequired(message=_l("Write your question.")),
            Length(min=5, max=1000, message=_l("Write between 5 and 1000 characters.")),
            _no_phone,
        ],
        filters=[_strip],
    )


class AnswerForm(FlaskForm):
    answer = TextAreaField(
        _l("The company's answer (public)"),
        validators=[
            DataRequired(message=_l("Write the answer.")),
            Length(max=2000),
            _no_phone,
        ],
        filters=[_strip],
    )


class CommitmentForm(FlaskForm):
    category = SelectField(_l("Service category"), choices=list(SERVICE_CATEGORY_LABELS.items()))
    promise = StringField(
        _l("Promise"),
        validators=[DataRequired(message=_l("Write the promise.")), Length(max=300)],
        filters=[_strip],
    )
    standard = StringField(
        _l("Measurable standard"),
        validators=[Optional(), Length(max=300)],
        filters=[_strip],
    )
    service_level = SelectField(_l("Service level"), choices=list(SERVICE_LEVEL_LABELS.items()))
    fee_per_m2 = StringField(
        _l("Fee per m² per month (yuan)"),
        validators=[DataRequired(), _money()],
        filters=[_strip],
    )


class ContractForm(FlaskForm):
    company = SelectField(_l("Property company"), coerce=int, validate_choice=False)
    new_company = StringField(
        _l("…or a company not yet on the portal"),
        validators=[Optional(), Length(max=150)],
        filters=[_strip],
    )
    starts_on = DateField(_l("Contract starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Contract ends on"), validators=[DataRequired()])
    fee_per_m2 = StringField(
        _l("Fee per m² per month (yuan)"),
        validators=[DataRequired(), _money()],
        filters=[_strip],
    )
    service_level = SelectField(_l("Service level"), choices=list(SERVICE_LEVEL_LABELS.items()))
    commitments = TextAreaField(
        _l("Service commitments, one per line"),
        validators=[Optional(), Length(max=5000)],
        filters=[_strip],
    )
