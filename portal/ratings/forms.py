"""Field checks for the ratings pages (the rules themselves live in the service and scoring)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.ratings import scoring
from portal.ratings.labels import (
    CATEGORY_LABELS,
    LEVEL_LABELS,
    PERIOD_KIND_LABELS,
    POINTS_PROBLEMS,
    RESPONSIBLE_LABELS,
    SCORE_PROBLEMS,
    item_title,
)

_strip = [lambda s: s.strip() if isinstance(s, str) else s]
SCORE_CHOICES = [(5, "5"), (4, "4"), (3, "3"), (2, "2"), (1, "1")]


def parse_decimal(text) -> Decimal | None:
    """A decimal from a form field ("7.5", "7,5", " 8 "); None when empty or not a number."""
    if text is None:
        return None
    text = str(text).strip().replace(",", ".").replace("，", ".")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class ConfirmForm(FlaskForm):
    """Only the CSRF token, for buttons that post."""


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


# ---- inspections ----------------------------------------------------------------------------


class InspectionForm(FlaskForm):
    level = RadioField(_l("Level of the inspection"), validators=[InputRequired()])
    inspected_on = DateField(
        _l("Date of the inspection"),
        validators=[InputRequired(message=_l("Give the date of the inspection."))],
    )
    note = TextAreaField(
        _l("General remarks (published; no names or phone numbers)"),
        validators=[Optional(), Length(max=2000)],
        filters=_strip,
    )

    def bind_checklist(self, checklist, formdata) -> dict[int, Decimal | None]:
        """Read ``score-<position>`` for every item of ``checklist`` (positions, not ids: the
        form may show the default checklist before it is seeded); the problems go to
        ``self.score_errors`` by item id. ``checklist`` (the version shown) must match."""
        self.score_errors: dict[int, str] = {}
        self.score_values: dict[int, str] = {}
        self.version_changed = False
        scores: dict[int, Decimal | None] = {}
        if formdata is not None and str(formdata.get("checklist", "")) != str(checklist.version):
            self.version_changed = True
        for item in checklist.items:
            raw = formdata.get(f"score-{item.position}", "") if formdata is not None else ""
            self.score_values[item.id] = raw
            value = parse_decimal(raw)
            scores[item.id] = value
            if formdata is not None and not self.version_changed:
                problem = scoring.item_score_problem(value, item.points)
                if problem:
                    self.score_errors[item.id] = str(SCORE_PROBLEMS[problem])
        if self.version_changed:
            self.score_values = {}
        return scores


class FindingForm(FlaskForm):
    category = SelectField(_l("Category"), choices=list(CATEGORY_LABELS.items()))
    description = TextAreaField(
        _l("What is wrong (published; no names or phone numbers)"),
        validators=[DataRequired(message=_l("Describe the finding.")), Length(max=2000)],
        filters=_strip,
    )
    responsible = RadioField(
        _l("Who must rectify it"), choices=list(RESPONSIBLE_LABELS.items()), default="company"
    )
    deadline = DateField(
        _l("Rectify by"), validators=[InputRequired(message=_l("Give the deadline."))]
    )
    photos = MultipleFileField(_l("Photos (optional: up to 4, JPEG or PNG)"))


class ReinspectForm(FlaskForm):
    outcome = RadioField(
        _l("Outcome of the re-inspection"),
        choices=[("pass", _l("Passed: rectified")), ("fail", _l("Failed: not rectified"))],
        validators=[InputRequired(message=_l("Choose the outcome."))],
    )
    checked_on = DateField(
        _l("Re-inspected on"), validators=[InputRequired(message=_l("Give the date."))]
    )
    new_deadline = DateField(_l("New deadline (when failed)"), validators=[Optional()])
    note = TextAreaField(
        _l("Note (published)"), validators=[Optional(), Length(max=1000)], filters=_strip
    )

    def validate_new_deadline(self, field):
        if self.outcome.data == "fail" and not field.data:
            raise ValidationError(_l("Give a new deadline for the rectification."))


class ReportForm(FlaskForm):
    note = TextAreaField(
        _l("What was done"),
        validators=[DataRequired(message=_l("Say what was done.")), Length(max=1000)],
        filters=_strip,
    )


# ---- checklist and settings ------------------------------------------------------------------


class ChecklistRow:
    def __init__(self, n, category="", title="", points="", key="", remove=False):
        self.n, self.category, self.title, self.points = n, category, title, points
        self.key, self.remove = key, remove
        self.errors: list[str] = []


def checklist_rows_from(items) -> list[ChecklistRow]:
    rows = [
        ChecklistRow(n, i.category, item_title(i), _plain(i.points), i.builtin_key or "")
        for n, i in enumerate(items, start=1)
    ]
    return rows + blank_rows(len(rows), 3)


def blank_rows(after: int, count: int) -> list[ChecklistRow]:
    return [ChecklistRow(after + k) for k in range(1, count + 1)]


def _plain(value: Decimal) -> str:
    """8.0 -> "8", 7.5 -> "7.5"."""
    text = format(value.normalize(), "f")
    return text


def parse_checklist(formdata, default_titles) -> tuple[list[ChecklistRow], list]:
    """The submitted rows and the items to save (rows left blank or marked for removal are
    skipped). A default item keeps its key while its title is the default title unchanged."""
    from portal.ratings.service import ItemInput

    count = min(int(formdata.get("rows", "0") or 0), 60)
    rows, items = [], []
    for n in range(1, count + 1):
        row = ChecklistRow(
            n,
            formdata.get(f"category-{n}", ""),
            (formdata.get(f"title-{n}", "") or "").strip()[:200],
            (formdata.get(f"points-{n}", "") or "").strip()[:10],
            formdata.get(f"key-{n}", ""),
            formdata.get(f"remove-{n}") == "1",
        )
        rows.append(row)
        if row.remove or (not row.title and not row.points):
            continue
        points = parse_decimal(row.points)
        problem = scoring.item_points_problem(points)
        if problem:
            row.errors.append(str(POINTS_PROBLEMS[problem]))
        if row.category not in CATEGORY_LABELS:
            row.errors.append(str(_l("Choose a category.")))
        if not row.title:
            row.errors.append(str(_l("Give a title.")))
        if row.errors:
            continue
        key = row.key if row.key in default_titles else None
        if key and row.title != str(default_titles[key]):
            key = None
        items.append(ItemInput(row.category, row.title, points, key))
    return rows, items


class SettingsForm(FlaskForm):
    inspection_weight = StringField(_l("Weight of inspections (%)"), filters=_strip)
    satisfaction_weight = StringField(_l("Weight of satisfaction (%)"), filters=_strip)
    red_threshold = StringField(_l("Red list from score"), filters=_strip)
    black_threshold = StringField(_l("Black list below score"), filters=_strip)
    base_subsidy = StringField(_l("Base subsidy per company and period (yuan)"), filters=_strip)

    NUMBERS = (
        "inspection_weight",
        "satisfaction_weight",
        "red_threshold",
        "black_threshold",
        "base_subsidy",
    )
    TIER_ROWS = 6

    def fill(self, rules: scoring.Rules) -> None:
        for name in self.NUMBERS:
            getattr(self, name).data = _plain(getattr(rules, name))
        self.tier_values = [(_plain(t.min_score), _plain(t.factor)) for t in rules.tiers]
        self.tier_values += [("", "")] * (self.TIER_ROWS - len(self.tier_values))
        self.tier_errors = []

    def to_rules(self, formdata) -> scoring.Rules | None:
        """The rules as typed, or None with the field errors recorded."""
        values = {}
        for name in self.NUMBERS:
            field = getattr(self, name)
            value = parse_decimal(field.data)
            if value is None:
                field.errors = [*field.errors, _l("Give a number.")]
            elif name == "base_subsidy" and value != value.quantize(Decimal("0.01")):
                field.errors = [*field.errors, _l("Use at most two decimals.")]
            elif name != "base_subsidy" and value != value.quantize(Decimal("0.01")):
                field.errors = [*field.errors, _l("Use at most two decimals.")]
            values[name] = value
        self.tier_values, self.tier_errors, tiers = [], [], []
        for n in range(1, self.TIER_ROWS + 1):
            raw_min = (formdata.get(f"tier-min-{n}", "") or "").strip()[:10]
            raw_factor = (formdata.get(f"tier-factor-{n}", "") or "").strip()[:10]
            self.tier_values.append((raw_min, raw_factor))
            if not raw_min and not raw_factor:
                continue
            m, f = parse_decimal(raw_min), parse_decimal(raw_factor)
            if m is None or f is None:
                self.tier_errors.append(
                    str(_l("Tier %(n)d: give both a minimum score and a factor.", n=n))
                )
                continue
            if f != f.quantize(Decimal("0.001")) or m != m.quantize(Decimal("0.01")):
                self.tier_errors.append(str(_l("Tier %(n)d: too many decimals.", n=n)))
                continue
            tiers.append(scoring.Tier(m, f))
        if (
            any(v is None for v in values.values())
            or self.tier_errors
            or any(getattr(self, n).errors for n in self.NUMBERS)
        ):
            return None
        return scoring.Rules(tiers=tuple(tiers), **values)


# ---- periods ---------------------------------------------------------------------------------


def period_choices(today: date) -> list[tuple[str, str]]:
    """This year's and last year's quarters, halves and years, newest first."""
    out = []
    for year in (today.year, today.year - 1):
        for kind, parts in (("quarter", 4), ("half", 2), ("year", 1)):
            for number in range(parts, 0, -1):
                start, _end = scoring.period_bounds(kind, year, number)
                if start > today:
                    continue
                out.append((f"{kind}:{year}:{number}", period_label(kind, year, number)))
    return out


def period_label(kind: str, year: int, number: int) -> str:
    if kind == "quarter":
        return str(_l("%(year)d, quarter %(n)d", year=year, n=number))
    if kind == "half":
        if number == 1:
            return str(_l("%(year)d, first half", year=year))
        return str(_l("%(year)d, second half", year=year))
    return str(_l("%(year)d, whole year", year=year))


class PeriodForm(FlaskForm):
    period = SelectField(_l("Period"), validators=[DataRequired()])

    def parsed(self) -> tuple[str, int, int] | None:
        try:
            kind, year, number = self.period.data.split(":")
            if kind not in PERIOD_KIND_LABELS:
                return None
            return kind, int(year), int(number)
        except (AttributeError, ValueError):
            return None


class CorrectionForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for the correction (published)"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=1000)],
        filters=_strip,
    )


# ---- surveys ---------------------------------------------------------------------------------


class SurveyForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Give the survey a title.")), Length(max=150)],
        filters=_strip,
    )
    areas = MultiCheckboxField(_l("Service areas to rate (1 to 5)"))
    opens_date = DateField(_l("Opens on"), validators=[InputRequired(message=_l("Give the date."))])
    opens_time = TimeField(_l("at (Beijing time)"), default=time(8, 0), validators=[Optional()])
    closes_date = DateField(
        _l("Closes on"), validators=[InputRequired(message=_l("Give the date."))]
    )
    closes_time = TimeField(_l("at (Beijing time)"), default=time(20, 0), validators=[Optional()])

    def validate_areas(self, field):
        if not field.data:
            raise ValidationError(_l("Choose at least one service area."))


def response_form_class(areas):
    """A form with one 1–5 question per service area of the survey."""

    class ResponseForm(FlaskForm):
        unit = SelectField(_l("Household"), coerce=int, validate_choice=False)
        comment = TextAreaField(
            _l("Comment (optional; shown only to the staff concerned, never with your name)"),
            validators=[Optional(), Length(max=1000)],
            filters=_strip,
        )

    for area in areas:
        setattr(
            ResponseForm,
            f"area_{area}",
            RadioField(
                CATEGORY_LABELS.get(area, area),
                choices=SCORE_CHOICES,
                coerce=int,
                validators=[InputRequired(message=_l("Choose a rating from 1 to 5."))],
            ),
        )
    return ResponseForm


LEVEL_CHOICES = list(LEVEL_LABELS.items())
