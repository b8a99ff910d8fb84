"""Field checks for the staff pages of elections (the rules themselves live in the service)."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.voting import dashboard
from portal.voting.labels import MATTER_LABELS, SERVICE_LEVELS

_strip = [lambda s: s.strip() if isinstance(s, str) else s]

RULE_CHOICES = [
    ("civil-code-278", _l("Civil Code Art. 278 — the usual rule")),
    ("civil-code-278-special", _l("Civil Code Art. 278, items 6–8 — three quarters")),
    ("simple-majority", _l("Consultative poll — not binding")),
]
RULE_EXPLANATIONS = {
    "civil-code-278": _l(
        "For hiring, renewing or dismissing the property company. Owners holding at least two "
        "thirds of the area and at least two thirds of the owners must take part; the winner "
        "needs more than half of the participating owners and of their area."
    ),
    "civil-code-278-special": _l(
        "For raising or using the maintenance fund, rebuilding, or changing the use of common "
        "parts. Two thirds must take part; approval needs at least three quarters of the "
        "participating owners and of their area."
    ),
    "simple-majority": _l(
        "To ask the owners' opinion only: one owner, one vote, no quorum. The result does not "
        "bind anyone and cannot hire or dismiss a company."
    ),
}


def _two_decimals(form, field):
    value = field.data
    if value is not None and value != value.quantize(Decimal("0.01")):
        from wtforms.validators import ValidationError

        raise ValidationError(_l("Use at most two decimals, e.g. 1.85."))


class _Schedule:
    """Date and time inputs in Asia/Shanghai; ``schedule()`` gives aware UTC datetimes."""

    def validate_schedule(self, now) -> bool:
        ok = True
        od, cd = self.opens_date.data, self.closes_date.data
        if od and not self.opens_time.data:
            self.opens_time.errors.append(_l("Give the time voting opens."))
            ok = False
        if cd and not self.closes_time.data:
            self.closes_time.errors.append(_l("Give the time voting closes."))
            ok = False
        if bool(od) != bool(cd):
            target = self.closes_date if od else self.opens_date
            target.errors.append(_l("Give both the opening and the closing date, or neither."))
            return False
        if not ok or not od:
            return ok
        opens, closes = self.schedule()
        if opens <= now:
            self.opens_date.errors.append(_l("Voting must open in the future."))
            ok = False
        if closes <= opens:
            self.closes_date.errors.append(_l("Voting must close after it opens."))
            ok = False
        return ok

    def schedule(self):
        if not self.opens_date.data or not self.closes_date.data:
            return None, None
        return (
            dashboard.local_to_utc(self.opens_date.data, self.opens_time.data),
            dashboard.local_to_utc(self.closes_date.data, self.closes_time.data),
        )

    def fill_schedule(self, election) -> None:
        self.opens_date.data, self.opens_time.data = dashboard.utc_to_local(election.opens_at)
        self.closes_date.data, self.closes_time.data = dashboard.utc_to_local(election.closes_at)
        self.opens_time.data = self.opens_time.data or time(8, 0)
        self.closes_time.data = self.closes_time.data or time(20, 0)


class DraftForm(FlaskForm, _Schedule):
    """Editing a draft: what can change until it is announced."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=150)], filters=_strip)
    rule = RadioField(_l("Voting rule"), choices=RULE_CHOICES, default="civil-code-278")
    description = TextAreaField(
        _l("What the owners should know"),
        validators=[Optional(), Length(max=5000)],
        filters=_strip,
    )
    opens_date = DateField(_l("Voting opens on"), validators=[Optional()])
    opens_time = TimeField(_l("at (Beijing time)"), validators=[Optional()], default=time(8, 0))
    closes_date = DateField(_l("Voting closes on"), validators=[Optional()])
    closes_time = TimeField(_l("at (Beijing time)"), validators=[Optional()], default=time(20, 0))


class NewElectionForm(DraftForm):
    compound = SelectField(_l("Compound"), coerce=int, validate_choice=False)
    matter = RadioField(
        _l("What the owners decide"),
        choices=list(MATTER_LABELS.items()),
        default="hire",
    )


class CandidateForm(FlaskForm):
    company = SelectField(_l("Company"), coerce=int, validate_choice=False, default=0)
    label = StringField(
        _l("Name on the ballot"),
        validators=[Optional(), Length(max=150)],
        filters=_strip,
    )
    fee_per_m2 = DecimalField(
        _l("Fee per m² per month (yuan)"),
        places=2,
        validators=[
            Optional(),
            NumberRange(
                min=Decimal("0.01"),
                max=Decimal("99.99"),
                message=_l("Give a fee between 0.01 and 99.99 yuan."),
            ),
            _two_decimals,
        ],
    )
    service_level = SelectField(
        _l("Service level"),
        choices=[("", _l("Not stated"))] + list(SERVICE_LEVELS.items()),
        validators=[Optional()],
    )
    commitments = TextAreaField(
        _l("Service commitments"), validators=[Optional(), Length(max=5000)], filters=_strip
    )
    document = FileField(_l("Bid document (PDF, JPEG or PNG; optional)"))


class ResolveForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            ("uphold", _l("Uphold: correct the roll and freeze it again")),
            ("dismiss", _l("Dismiss: the roll stays as it is")),
        ],
        validators=[InputRequired(message=_l("Choose uphold or dismiss."))],
    )
    resolution = TextAreaField(
        _l("Resolution or reason (the resident sees it)"),
        validators=[
            DataRequired(message=_l("Write the resolution; the resident will see it.")),
            Length(max=1000),
        ],
        filters=_strip,
    )
    exclude_unit = BooleanField(_l("Leave this unit off the roll"))


class PaperForm(FlaskForm):
    building = SelectField(_l("Building"), validate_choice=False)
    unit = SelectField(_l("Unit"), coerce=int, validate_choice=False, default=0)
    room = StringField(
        _l("or type the room number"), validators=[Optional(), Length(max=30)], filters=_strip
    )
    choice = RadioField(
        _l("Choice on the paper ballot"),
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose what the ballot says."))],
    )
    channel = RadioField(
        _l("How the ballot came"),
        choices=[
            ("paper", _l("Paper ballot from the owner")),
            ("proxy", _l("Proxy: someone votes for the owner")),
        ],
        default="paper",
    )
    proxy_holder = StringField(
        _l("Proxy holder's name"), validators=[Optional(), Length(max=50)], filters=_strip
    )
    proxy_document = FileField(_l("Signed authorisation (PDF, JPEG or PNG)"))


class DiscardForm(FlaskForm):
    reason = TextAreaField(
        _l("Why is this entry wrong?"),
        validators=[DataRequired(message=_l("Say why the entry is wrong.")), Length(max=300)],
        filters=_strip,
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: the CSRF token only."""


class ContractForm(FlaskForm):
    starts_on = DateField(_l("Contract starts on"), validators=[DataRequired()])
    ends_on = DateField(_l("Contract ends on"), validators=[DataRequired()])
    fee_per_m2 = DecimalField(
        _l("Fee per m² per month (yuan)"),
        places=2,
        validators=[
            DataRequired(),
            NumberRange(
                min=Decimal("0.01"),
                max=Decimal("99.99"),
                message=_l("Give a fee between 0.01 and 99.99 yuan."),
            ),
            _two_decimals,
        ],
    )
    service_level = SelectField(
        _l("Service level"), choices=list(SERVICE_LEVELS.items()), validators=[DataRequired()]
    )
    commitments = TextAreaField(
        _l("Service commitments (published on the compound's page)"),
        validators=[Optional(), Length(max=5000)],
        filters=_strip,
    )
    document = FileField(_l("Signed contract (PDF, JPEG or PNG)"))
