"""The score, the red/black list and the subsidy: every threshold and tier at its edge, weights,
missing data, the veto rule, exact comparisons and rounding, and a cross-check against a separate
straightforward Decimal computation."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from fractions import Fraction

import pytest

from portal.ratings.scoring import (
    BLACK,
    BOTH,
    DEFAULT_RULES,
    INSPECTIONS_ONLY,
    NO_DATA,
    NONE,
    RED,
    SURVEYS_ONLY,
    InspectionTotal,
    Rules,
    RulesError,
    SurveyTally,
    Tier,
    checklist_total,
    composite,
    inspection_component,
    is_overdue,
    item_points_problem,
    item_score_problem,
    list_status,
    normalised,
    period_bounds,
    rate,
    round_half_up,
    rules_problems,
    satisfaction_component,
    subsidy,
    survey_average,
    tier_factor,
    veto_triggered,
)

D = Decimal
F = Fraction
NO_SURVEY = SurveyTally(0, 0)
PRECISE = Context(prec=60)


def insp(*totals, compound="A", max_total="100") -> list[InspectionTotal]:
    return [InspectionTotal(compound, D(t), D(max_total)) for t in totals]


def rules(**kw) -> Rules:
    return Rules(**kw)


# ---- the hand-computed example of the brief --------------------------------------------------


def test_hand_example_two_inspections_and_survey_average_4_2():
    # inspections 92 and 86 -> 89; survey average 4.2 -> (4.2 - 1) / 4 * 100 = 80;
    # 0.7 * 89 + 0.3 * 80 = 62.3 + 24 = 86.30 -> tier >= 80 -> factor 1.0 -> ¥100,000.00
    r = rate(insp("92", "86"), SurveyTally(42, 10), veto=False)
    assert r.inspection_component == D("89.00")
    assert r.satisfaction_component == D("80.00")
    assert r.score == D("86.30")
    assert r.basis == BOTH
    assert r.list_status == NONE
    assert r.factor == D("1.0")
    assert r.subsidy == D("100000.00")


def test_the_same_inspections_at_two_compounds_give_the_same_component():
    two = [InspectionTotal("A", D("92"), D("100")), InspectionTotal("B", D("86"), D("100"))]
    assert inspection_component(two) == F(89)


# ---- the red threshold -----------------------------------------------------------------------


def test_exactly_90_without_flag_is_red():
    assert list_status(F(90), veto=False) == RED


def test_exactly_90_with_flag_is_black():
    assert list_status(F(90), veto=True) == BLACK


def test_just_below_90_is_not_red():
    assert list_status(F(8999, 100), veto=False) == NONE


def test_exact_89_995_shows_as_90_00_but_is_not_red():
    exact = F(89995, 1000)
    assert round_half_up(exact) == D("90.00")
    assert list_status(exact, veto=False) == NONE
    assert tier_factor(exact, DEFAULT_RULES.tiers) == D("1.0")


def test_100_is_red_and_highest_tier():
    assert list_status(F(100), veto=False) == RED
    assert tier_factor(F(100), DEFAULT_RULES.tiers) == D("1.2")


def test_a_full_score_with_a_flag_is_black_and_gets_no_subsidy():
    r = rate(insp("100"), SurveyTally(5, 1), veto=True)
    assert r.score == D("100.00")
    assert r.list_status == BLACK
    assert r.factor == D("0")
    assert r.subsidy == D("0.00")


# ---- the black threshold ---------------------------------------------------------------------


def test_59_99_is_black():
    assert list_status(F(5999, 100), veto=False) == BLACK


def test_exactly_60_is_not_black():
    assert list_status(F(60), veto=False) == NONE


def test_just_below_60_by_a_hair_is_black_even_if_it_rounds_to_60():
    exact = F(599951, 10000)  # 59.9951 -> shown 60.00
    assert round_half_up(exact) == D("60.00")
    assert list_status(exact, veto=False) == BLACK


def test_zero_is_black():
    assert list_status(F(0), veto=False) == BLACK


def test_middle_score_without_flag_is_on_no_list():
    assert list_status(F(75), veto=False) == NONE


def test_middle_score_with_flag_is_black():
    assert list_status(F(75), veto=True) == BLACK


def test_unrated_is_on_no_list_unless_flagged():
    assert list_status(None, veto=False) == NONE
    assert list_status(None, veto=True) == BLACK


@pytest.mark.parametrize(
    "score, red, black, expected",
    [
        ("95", "95", "50", RED),
        ("94.99", "95", "50", NONE),
        ("50", "95", "50", NONE),
        ("49.99", "95", "50", BLACK),
        ("70", "70", "70", RED),  # equal thresholds: at the line is red, below is black
        ("69.99", "70", "70", BLACK),
    ],
)
def test_custom_thresholds(score, red, black, expected):
    r = rules(red_threshold=D(red), black_threshold=D(black))
    assert list_status(F(D(score)), False, r) == expected


# ---- tiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "score, factor",
    [
        ("100", "1.2"),
        ("90", "1.2"),
        ("89.99", "1.0"),
        ("80", "1.0"),
        ("79.99", "0.8"),
        ("70", "0.8"),
        ("69.99", "0.5"),
        ("60", "0.5"),
        ("59.99", "0"),
        ("0", "0"),
    ],
)
def test_default_tier_edges(score, factor):
    assert tier_factor(F(D(score)), DEFAULT_RULES.tiers) == D(factor)


@pytest.mark.parametrize(
    "score, amount",
    [
        ("90", "120000.00"),
        ("89.99", "100000.00"),
        ("80", "100000.00"),
        ("79.99", "80000.00"),
        ("70", "80000.00"),
        ("69.99", "50000.00"),
        ("60", "50000.00"),
        ("59.99", "0.00"),
    ],
)
def test_default_subsidy_at_tier_edges(score, amount):
    assert subsidy(F(D(score)), False) == D(amount)


def test_tiers_given_in_any_order_pick_the_highest_reached():
    tiers = (Tier(D("60"), D("0.5")), Tier(D("90"), D("1.2")), Tier(D("80"), D("1")))
    assert tier_factor(F(85), tiers) == D("1")
    assert tier_factor(F(95), tiers) == D("1.2")


def test_a_tier_at_zero_pays_something_for_any_score():
    tiers = (Tier(D("50"), D("1")), Tier(D("0"), D("0.1")))
    assert tier_factor(F(0), tiers) == D("0.1")


def test_subsidy_rounds_to_the_cent_half_up():
    r = rules(base_subsidy=D("0.05"), tiers=(Tier(D("0"), D("0.5")),))
    assert subsidy(F(50), False, r) == D("0.03")  # 0.025 -> 0.03
    r = rules(base_subsidy=D("0.03"), tiers=(Tier(D("0"), D("0.5")),))
    assert subsidy(F(50), False, r) == D("0.02")  # 0.015 -> 0.02


def test_subsidy_of_an_unrated_company_is_none():
    assert subsidy(None, False) is None
    assert subsidy(None, True) is None


# ---- weights ---------------------------------------------------------------------------------


def test_default_weights_70_30():
    score, basis = composite(F(80), F(100))
    assert (score, basis) == (F(86), BOTH)


@pytest.mark.parametrize(
    "wi, ws, expected",
    [("50", "50", F(90)), ("100", "0", F(80)), ("0", "100", F(100)), ("62.5", "37.5", F(175, 2))],
)
def test_custom_weights(wi, ws, expected):
    r = rules(inspection_weight=D(wi), satisfaction_weight=D(ws))
    assert composite(F(80), F(100), r)[0] == expected


def test_weights_are_applied_before_rounding():
    # 0.7 * 88.333… + 0.3 * 80 = 61.8333… + 24 = 85.8333… -> 85.83
    r = rate(insp("90", "85", "90"), SurveyTally(42, 10), False)
    assert r.inspection_component == D("88.33")
    assert r.score_exact == F(265, 3) * F(7, 10) + 24
    assert r.score == D("85.83")


# ---- missing data ----------------------------------------------------------------------------


def test_missing_survey_uses_inspections_with_full_weight():
    r = rate(insp("92", "86"), NO_SURVEY, False)
    assert r.basis == INSPECTIONS_ONLY
    assert r.satisfaction_component is None
    assert r.score == D("89.00")
    assert r.list_status == NONE
    assert r.subsidy == D("100000.00")


def test_missing_inspections_use_the_survey_with_full_weight():
    r = rate([], SurveyTally(46, 10), False)  # 4.6 -> 90
    assert r.basis == SURVEYS_ONLY
    assert r.inspection_component is None
    assert r.score == D("90.00")
    assert r.list_status == RED
    assert r.subsidy == D("120000.00")


def test_no_data_is_not_rated():
    r = rate([], NO_SURVEY, False)
    assert r.basis == NO_DATA
    assert (r.score, r.score_exact, r.subsidy) == (None, None, None)
    assert r.list_status == NONE
    assert r.factor == D("0")
    assert not r.rated


def test_no_data_with_a_flag_is_black():
    r = rate([], NO_SURVEY, True)
    assert r.list_status == BLACK and r.score is None and r.subsidy is None


# ---- components ------------------------------------------------------------------------------


def test_inspection_totals_out_of_another_maximum_are_normalised():
    assert normalised(D("45"), D("50")) == F(90)
    assert normalised(D("0"), D("80")) == F(0)
    assert normalised(D("80"), D("80")) == F(100)
    assert inspection_component(insp("45", max_total="50")) == F(90)


def test_each_compound_counts_once_however_often_inspected():
    inspections = insp("100", "100", "100", compound="A") + insp("70", compound="B")
    assert inspection_component(inspections) == F(85)  # (100 + 70) / 2, not (300 + 70) / 4


def test_one_decimal_totals_stay_exact():
    assert inspection_component(insp("92.5", "86.4")) == F(8945, 100)


def test_no_inspections_give_no_component():
    assert inspection_component([]) is None


@pytest.mark.parametrize("bad", ["-1", "100.1"])
def test_totals_outside_the_maximum_are_refused(bad):
    with pytest.raises(ValueError):
        normalised(D(bad), D("100"))


def test_a_zero_maximum_is_refused():
    with pytest.raises(ValueError):
        normalised(D("0"), D("0"))


@pytest.mark.parametrize(
    "total, count, component",
    [
        (1, 1, F(0)),
        (5, 1, F(100)),
        (3, 1, F(50)),
        (42, 10, F(80)),
        (9, 2, F(175, 2)),
        (4, 3, F(25, 3)),
    ],
)
def test_satisfaction_maps_1_to_5_onto_0_to_100(total, count, component):
    assert satisfaction_component(SurveyTally(total, count)) == component


def test_survey_average_is_exact():
    assert survey_average(SurveyTally(13, 3)) == F(13, 3)
    assert survey_average(SurveyTally(0, 0)) is None


@pytest.mark.parametrize("total, count", [(0, 1), (6, 1), (-1, 1), (1, -1)])
def test_impossible_survey_tallies_are_refused(total, count):
    with pytest.raises(ValueError):
        satisfaction_component(SurveyTally(total, count))


# ---- rounding --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, shown",
    [
        (F(86305, 1000), "86.31"),
        (F(86304999, 1000000), "86.30"),
        (F(1, 3), "0.33"),
        (F(2, 3), "0.67"),
        (F(0), "0.00"),
        (F(100), "100.00"),
        (F(-5, 1000), "-0.01"),
    ],
)
def test_round_half_up_to_two_decimals(value, shown):
    assert round_half_up(value) == D(shown)


def test_score_is_rounded_once_at_the_end_not_per_component():
    # components 88.335 (-> 88.34) and 0: rounding components first would give 0.7 * 88.34 =
    # 61.838 -> 61.84; rounding once gives 0.7 * 88.335 = 61.8345 -> 61.83.
    inspections = insp("88.4", "88.27", compound="A")  # mean 88.335
    r = rate(inspections, SurveyTally(1, 1), False)
    assert r.inspection_component == D("88.34")
    assert r.satisfaction_component == D("0.00")
    assert r.score == D("61.83")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_half_up(0.5)


# ---- rules validation ------------------------------------------------------------------------


def test_default_rules_are_valid_and_documented_values():
    assert rules_problems(DEFAULT_RULES) == []
    assert (DEFAULT_RULES.inspection_weight, DEFAULT_RULES.satisfaction_weight) == (70, 30)
    assert (DEFAULT_RULES.red_threshold, DEFAULT_RULES.black_threshold) == (90, 60)
    assert [(t.min_score, t.factor) for t in DEFAULT_RULES.tiers] == [
        (90, D("1.2")),
        (80, D("1.0")),
        (70, D("0.8")),
        (60, D("0.5")),
    ]


@pytest.mark.parametrize(
    "kw, problem",
    [
        ({"inspection_weight": D("70"), "satisfaction_weight": D("31")}, "weights_sum"),
        ({"inspection_weight": D("69.9"), "satisfaction_weight": D("30")}, "weights_sum"),
        ({"inspection_weight": D("110"), "satisfaction_weight": D("-10")}, "weight_range"),
        ({"red_threshold": D("50"), "black_threshold": D("60")}, "thresholds_order"),
        ({"red_threshold": D("101")}, "threshold_range"),
        ({"tiers": ()}, "tiers_empty"),
        ({"tiers": (Tier(D("80"), D("1")), Tier(D("90"), D("1.2")))}, "tiers_order"),
        ({"tiers": (Tier(D("80"), D("1")), Tier(D("80"), D("0.5")))}, "tiers_order"),
        ({"tiers": (Tier(D("90"), D("0.5")), Tier(D("80"), D("1")))}, "factors_order"),
        ({"tiers": (Tier(D("101"), D("1")),)}, "tier_range"),
        ({"tiers": (Tier(D("90"), D("-1")),)}, "factor_range"),
        ({"base_subsidy": D("-1")}, "base_negative"),
    ],
)
def test_invalid_rules_are_named(kw, problem):
    assert problem in rules_problems(rules(**kw))


def test_equal_factors_in_descending_tiers_are_allowed():
    r = rules(tiers=(Tier(D("90"), D("1")), Tier(D("80"), D("1"))))
    assert rules_problems(r) == []


def test_rate_refuses_invalid_rules():
    with pytest.raises(RulesError):
        rate(insp("90"), NO_SURVEY, False, rules(inspection_weight=D("50")))


# ---- checklist items and the veto rule -------------------------------------------------------


@pytest.mark.parametrize(
    "score, points, problem",
    [
        ("0", "8", None),
        ("8", "8", None),
        ("7.5", "8", None),
        ("8.1", "8", "too_high"),
        ("-0.1", "8", "negative"),
        ("7.25", "8", "precision"),
        (None, "8", "missing"),
        ("NaN", "8", "missing"),
        ("4.0", "4.5", None),
        ("4.5", "4.5", None),
    ],
)
def test_item_scores(score, points, problem):
    assert item_score_problem(None if score is None else D(score), D(points)) == problem


@pytest.mark.parametrize(
    "points, problem",
    [
        ("10", None),
        ("0.5", None),
        ("100", None),
        ("0", "not_positive"),
        ("-1", "not_positive"),
        ("100.5", "too_high"),
        ("2.25", "precision"),
        (None, "missing"),
    ],
)
def test_item_points(points, problem):
    assert item_points_problem(None if points is None else D(points)) == problem


def test_checklist_total_sums_decimals():
    assert checklist_total([D("10"), D("7.5"), D("2.5")]) == D("20.0")
    assert checklist_total([]) == 0


@pytest.mark.parametrize("failures, flagged", [(0, False), (1, False), (2, True), (3, True)])
def test_veto_after_two_failed_reinspections(failures, flagged):
    assert veto_triggered(failures) is flagged


def test_overdue_from_the_day_after_the_deadline():
    from datetime import date

    deadline = date(2025, 3, 31)
    assert not is_overdue(deadline, date(2025, 3, 31), closed=False)
    assert is_overdue(deadline, date(2025, 4, 1), closed=False)
    assert not is_overdue(deadline, date(2025, 4, 1), closed=True)
    assert not is_overdue(None, date(2025, 4, 1), closed=False)


# ---- a cross-check against a plain Decimal computation ---------------------------------------


def _reference(inspections, total, count, veto, r: Rules):
    """A second, plain implementation with 60-digit Decimals (no Fractions)."""
    with localcontext(PRECISE) as ctx:
        return _reference_in(ctx, inspections, total, count, veto, r)


def _reference_in(ctx, inspections, total, count, veto, r: Rules):
    per: dict = {}
    for i in inspections:
        per.setdefault(i.compound, []).append(ctx.divide(i.total * 100, i.max_total))
    ic = None
    if per:
        means = [ctx.divide(sum(v), len(v)) for v in per.values()]
        ic = ctx.divide(sum(means), len(means))
    sc = None if count == 0 else ctx.divide(ctx.divide(D(total), count) - 1, 4) * 100
    if ic is not None and sc is not None:
        score = ctx.divide(ic * r.inspection_weight + sc * r.satisfaction_weight, 100)
    else:
        score = ic if ic is not None else sc
    if veto:
        status = BLACK
    elif score is None:
        status = NONE
    elif score < r.black_threshold:
        status = BLACK
    elif score >= r.red_threshold:
        status = RED
    else:
        status = NONE
    return score, status


def test_random_cases_agree_with_a_plain_decimal_computation():
    rng = random.Random(4)
    for _ in range(2000):
        n = rng.randint(0, 6)
        inspections = [
            InspectionTotal(
                rng.choice("ABC"),
                D(rng.randint(0, 1000)) / 10,
                D("100"),
            )
            for _ in range(n)
        ]
        count = rng.choice([0, rng.randint(1, 300)])
        total = sum(rng.randint(1, 5) for _ in range(count))
        veto = rng.random() < 0.1
        wi = D(rng.randint(0, 100))
        r = rules(inspection_weight=wi, satisfaction_weight=100 - wi)
        got = rate(inspections, SurveyTally(total, count), veto, r)
        score, status = _reference(inspections, total, count, veto, r)
        if score is None:
            assert (got.score, got.score_exact, got.list_status) == (None, None, status)
            continue
        exact = PRECISE.divide(D(got.score_exact.numerator), D(got.score_exact.denominator))
        assert abs(exact - score) < D("1e-40")
        # Decimal division cannot be exact for thirds; at a half-cent tie the reference may lie a
        # hair below it, so compare the rounding only away from ties.
        if abs((score * 200) - (score * 200).to_integral_value()) > D("1e-30"):
            assert got.score == score.quantize(D("0.01"), rounding=ROUND_HALF_UP)
        else:
            assert got.score == round_half_up(got.score_exact)
        assert got.list_status == status


# ---- rating periods --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, number, start, end",
    [
        ("quarter", 1, "2025-01-01", "2025-03-31"),
        ("quarter", 2, "2025-04-01", "2025-06-30"),
        ("quarter", 3, "2025-07-01", "2025-09-30"),
        ("quarter", 4, "2025-10-01", "2025-12-31"),
        ("half", 1, "2025-01-01", "2025-06-30"),
        ("half", 2, "2025-07-01", "2025-12-31"),
        ("year", 1, "2025-01-01", "2025-12-31"),
    ],
)
def test_period_bounds(kind, number, start, end):
    from datetime import date

    assert period_bounds(kind, 2025, number) == (date.fromisoformat(start), date.fromisoformat(end))


def test_leap_year_first_quarter_and_half():
    from datetime import date

    assert period_bounds("quarter", 2024, 1)[1] == date(2024, 3, 31)
    assert period_bounds("half", 2024, 1) == (date(2024, 1, 1), date(2024, 6, 30))


@pytest.mark.parametrize(
    "kind, year, number",
    [
        ("quarter", 2025, 0),
        ("quarter", 2025, 5),
        ("half", 2025, 3),
        ("year", 2025, 2),
        ("month", 2025, 1),
        ("year", 1999, 1),
    ],
)
def test_impossible_periods_are_refused(kind, year, number):
    with pytest.raises(ValueError):
        period_bounds(kind, year, number)
