"""Scores, the red/black list and the subsidy of a property company (pure: no Flask, no database).

The rules (documented for residents and staff in ``docs/ratings.md``):

* **Inspection component.** Each inspection's total is normalised to 100 points
  (``total / max_total × 100``; the default checklist has 100 points, so nothing changes there).
  The normalised totals are averaged per compound, then the compound averages are averaged: every
  compound the company served in the period counts once, however often it was inspected.
* **Satisfaction component.** The average of every 1–5 answer of the period's surveys, mapped
  linearly onto 0–100: ``(average − 1) / 4 × 100`` (1 → 0, 3 → 50, 5 → 100).
* **Composite score** = inspection component × inspection weight / 100 + satisfaction component ×
  satisfaction weight / 100 (weights per street, default 70 and 30, summing to 100).
  When one component has no data the other counts with full weight (``basis`` says which);
  with neither the company is *not rated* (no score, no list, no subsidy).
* **List status.** Black when any veto flag (一票否决) is set, or when the score is below the black
  threshold (default 60); red when the score is at or above the red threshold (default 90) and no
  veto flag is set; otherwise none. An unrated company is black if a veto flag is set, else none.
* **Subsidy** = base amount × the factor of the highest tier whose minimum the score reaches
  (defaults: ≥ 90 → 1.2, ≥ 80 → 1.0, ≥ 70 → 0.8, ≥ 60 → 0.5, below every tier → 0).
  A veto flag sets the subsidy to 0, and an unrated company gets none.

Exactness: everything is computed with :class:`fractions.Fraction` from the ``Decimal`` inputs; the
list status and the tier are decided on the **exact** score; only the results shown are rounded —
the score and both components to two decimals, the subsidy to the cent, each ``ROUND_HALF_UP``
once, at the end. So an exact score of 89.995 is shown as 90.00 but is not on the red list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

HUNDRED = Fraction(100)
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

RED = "red"
BLACK = "black"
NONE = "none"
LIST_STATUSES = (RED, BLACK, NONE)

BOTH = "both"
INSPECTIONS_ONLY = "inspections_only"
SURVEYS_ONLY = "surveys_only"
NO_DATA = "no_data"
BASES = (BOTH, INSPECTIONS_ONLY, SURVEYS_ONLY, NO_DATA)

# A finding that fails its re-inspection this many times flags the compound for the year.
VETO_FAILURES = 2

SURVEY_MIN = 1
SURVEY_MAX = 5


@dataclass(frozen=True)
class Tier:
    """Scores at or above ``min_score`` (and below the next tier up) earn ``factor``."""

    min_score: Decimal
    factor: Decimal


@dataclass(frozen=True)
class Rules:
    inspection_weight: Decimal = Decimal("70")
    satisfaction_weight: Decimal = Decimal("30")
    red_threshold: Decimal = Decimal("90")
    black_threshold: Decimal = Decimal("60")
    tiers: tuple[Tier, ...] = (
        Tier(Decimal("90"), Decimal("1.2")),
        Tier(Decimal("80"), Decimal("1.0")),
        Tier(Decimal("70"), Decimal("0.8")),
        Tier(Decimal("60"), Decimal("0.5")),
    )
    base_subsidy: Decimal = Decimal("100000.00")


DEFAULT_RULES = Rules()


@dataclass(frozen=True)
class InspectionTotal:
    """One inspection: the compound it was made in, its total and the checklist's maximum."""

    compound: object
    total: Decimal
    max_total: Decimal


@dataclass(frozen=True)
class SurveyTally:
    """The answers of the period's surveys: their sum and how many there were."""

    total: int
    count: int


@dataclass(frozen=True)
class Rating:
    basis: str
    inspection_component: Decimal | None  # rounded, for display
    satisfaction_component: Decimal | None
    score: Decimal | None  # rounded to two decimals
    score_exact: Fraction | None
    veto: bool
    list_status: str
    factor: Decimal
    subsidy: Decimal | None  # None: not rated

    @property
    def rated(self) -> bool:
        return self.score is not None


class RulesError(ValueError):
    """Rules that cannot be applied (a validation problem code in ``args[0]``)."""


# ---- rounding ------------------------------------------------------------------------------


def to_fraction(value: Decimal | int | Fraction) -> Fraction:
    if isinstance(value, Fraction):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not accepted; use Decimal")
    return Fraction(value)


def round_half_up(value: Fraction, places: Decimal = CENT) -> Decimal:
    """Round an exact value once, half away from zero (``ROUND_HALF_UP`` of ``decimal``)."""
    value = to_fraction(value)
    exp = -places.as_tuple().exponent
    sign = -1 if value < 0 else 1
    scaled = abs(value) * (10**exp)
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    return Decimal(sign * whole).scaleb(-exp).quantize(places, rounding=ROUND_HALF_UP)


# ---- checklist items -------------------------------------------------------------------------


def has_at_most_one_decimal(value: Decimal) -> bool:
    return value == value.quantize(TENTH)


def item_score_problem(score: Decimal | None, points: Decimal) -> str | None:
    """Why a score for an item worth ``points`` is not acceptable, or None.

    ``missing``, ``negative``, ``too_high`` (above the item's points), ``precision`` (more than one
    decimal)."""
    if score is None:
        return "missing"
    if not score.is_finite():
        return "missing"
    if score < 0:
        return "negative"
    if score > points:
        return "too_high"
    if not has_at_most_one_decimal(score):
        return "precision"
    return None


def item_points_problem(points: Decimal | None) -> str | None:
    """Items are worth more than 0 and at most 100 points, with at most one decimal."""
    if points is None or not points.is_finite():
        return "missing"
    if points <= 0:
        return "not_positive"
    if points > 100:
        return "too_high"
    if not has_at_most_one_decimal(points):
        return "precision"
    return None


def checklist_total(points: Iterable[Decimal]) -> Decimal:
    return sum(points, Decimal("0"))


def veto_triggered(failed_reinspections: int) -> bool:
    """一票否决: a finding failed at re-inspection twice (or more) flags its compound."""
    return failed_reinspections >= VETO_FAILURES


def is_overdue(deadline, today, closed: bool) -> bool:
    """An open finding is overdue from the day after its deadline."""
    return not closed and deadline is not None and today > deadline


# ---- rules ---------------------------------------------------------------------------------


def rules_problems(rules: Rules) -> list[str]:
    """Problem codes of a street's rules (empty: valid)."""
    problems = []
    for w in (rules.inspection_weight, rules.satisfaction_weight):
        if w < 0 or w > 100:
            problems.append("weight_range")
            break
    if rules.inspection_weight + rules.satisfaction_weight != 100:
        problems.append("weights_sum")
    for t in (rules.red_threshold, rules.black_threshold):
        if t < 0 or t > 100:
            problems.append("threshold_range")
            break
    if rules.black_threshold > rules.red_threshold:
        problems.append("thresholds_order")
    if not rules.tiers:
        problems.append("tiers_empty")
    mins = [t.min_score for t in rules.tiers]
    factors = [t.factor for t in rules.tiers]
    if any(m < 0 or m > 100 for m in mins):
        problems.append("tier_range")
    if any(f < 0 or f > 10 for f in factors):
        problems.append("factor_range")
    if any(a <= b for a, b in zip(mins, mins[1:], strict=False)):
        problems.append("tiers_order")
    if any(a < b for a, b in zip(factors, factors[1:], strict=False)):
        problems.append("factors_order")
    if rules.base_subsidy < 0:
        problems.append("base_negative")
    return problems


def _require_valid(rules: Rules) -> None:
    problems = rules_problems(rules)
    if problems:
        raise RulesError(problems[0])


# ---- components ----------------------------------------------------------------------------


def normalised(total: Decimal, max_total: Decimal) -> Fraction:
    """An inspection total on a 0–100 scale."""
    if max_total <= 0:
        raise ValueError("an inspection's maximum must be positive")
    if total < 0 or total > max_total:
        raise ValueError("an inspection's total must lie between 0 and its maximum")
    return to_fraction(total) / to_fraction(max_total) * HUNDRED


def inspection_component(inspections: Sequence[InspectionTotal]) -> Fraction | None:
    """Mean over compounds of each compound's mean normalised total; None without inspections."""
    per_compound: dict[object, list[Fraction]] = {}
    for i in inspections:
        per_compound.setdefault(i.compound, []).append(normalised(i.total, i.max_total))
    if not per_compound:
        return None
    means = [sum(v, Fraction(0)) / len(v) for v in per_compound.values()]
    return sum(means, Fraction(0)) / len(means)


def survey_average(tally: SurveyTally) -> Fraction | None:
    if tally.count < 0 or tally.total < 0:
        raise ValueError("negative survey tally")
    if tally.count == 0:
        return None
    avg = Fraction(tally.total, tally.count)
    if avg < SURVEY_MIN or avg > SURVEY_MAX:
        raise ValueError("a survey average lies between 1 and 5")
    return avg


def satisfaction_component(tally: SurveyTally) -> Fraction | None:
    """``(average − 1) / 4 × 100``; None without answers."""
    avg = survey_average(tally)
    if avg is None:
        return None
    return (avg - SURVEY_MIN) / (SURVEY_MAX - SURVEY_MIN) * HUNDRED


def composite(
    inspection: Fraction | None, satisfaction: Fraction | None, rules: Rules = DEFAULT_RULES
) -> tuple[Fraction | None, str]:
    """The exact composite score and its basis (which components it rests on)."""
    if inspection is not None and satisfaction is not None:
        wi = to_fraction(rules.inspection_weight) / HUNDRED
        ws = to_fraction(rules.satisfaction_weight) / HUNDRED
        return inspection * wi + satisfaction * ws, BOTH
    if inspection is not None:
        return inspection, INSPECTIONS_ONLY
    if satisfaction is not None:
        return satisfaction, SURVEYS_ONLY
    return None, NO_DATA


def list_status(score: Fraction | None, veto: bool, rules: Rules = DEFAULT_RULES) -> str:
    if veto:
        return BLACK
    if score is None:
        return NONE
    if score < to_fraction(rules.black_threshold):
        return BLACK
    if score >= to_fraction(rules.red_threshold):
        return RED
    return NONE


def tier_factor(score: Fraction | None, tiers: Sequence[Tier]) -> Decimal:
    """The factor of the highest tier reached (tiers sorted by minimum, highest first); 0 below
    every tier or without a score."""
    if score is None:
        return Decimal("0")
    for tier in sorted(tiers, key=lambda t: t.min_score, reverse=True):
        if score >= to_fraction(tier.min_score):
            return tier.factor
    return Decimal("0")


def subsidy(score: Fraction | None, veto: bool, rules: Rules = DEFAULT_RULES) -> Decimal | None:
    """base × tier factor, to the cent; 0 with a veto flag; None when not rated."""
    if score is None:
        return None
    if veto:
        return Decimal("0.00")
    factor = tier_factor(score, rules.tiers)
    return round_half_up(to_fraction(rules.base_subsidy) * to_fraction(factor), CENT)


def rate(
    inspections: Sequence[InspectionTotal],
    survey: SurveyTally,
    veto: bool,
    rules: Rules = DEFAULT_RULES,
) -> Rating:
    """Everything a rating shows, from the period's inspections, survey answers and flags."""
    _require_valid(rules)
    ic = inspection_component(inspections)
    sc = satisfaction_component(survey)
    score, basis = composite(ic, sc, rules)
    factor = Decimal("0") if veto else tier_factor(score, rules.tiers)
    return Rating(
        basis=basis,
        inspection_component=None if ic is None else round_half_up(ic),
        satisfaction_component=None if sc is None else round_half_up(sc),
        score=None if score is None else round_half_up(score),
        score_exact=score,
        veto=veto,
        list_status=list_status(score, veto, rules),
        factor=factor if score is not None else Decimal("0"),
        subsidy=subsidy(score, veto, rules),
    )


# ---- rating periods ------------------------------------------------------------------------

PERIOD_PARTS = {"quarter": 4, "half": 2, "year": 1}


def period_bounds(kind: str, year: int, number: int):
    """First and last day of the ``number``-th quarter / half-year (or the year) of ``year``."""
    from datetime import date, timedelta

    parts = PERIOD_PARTS.get(kind)
    if parts is None:
        raise ValueError(f"unknown period kind {kind!r}")
    if not 1 <= number <= parts:
        raise ValueError(f"a {kind} is numbered 1 to {parts}")
    if not 2000 <= year <= 2100:
        raise ValueError("year out of range")
    months = 12 // parts
    first_month = (number - 1) * months + 1
    start = date(year, first_month, 1)
    after = date(year + 1, 1, 1) if number == parts else date(year, first_month + months, 1)
    return start, after - timedelta(days=1)
