"""The tally under the Civil Code: every threshold at its boundary, owners and area, errors,
and a brute-force cross-check against a separately written Fraction-based count."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest

from portal.voting.tally import (
    BallotRecord,
    RollEntry,
    TallyInputError,
    Totals,
    electorate_of,
    format_area,
    format_percent,
    owner_areas,
    participation_of,
    percent,
    quorum_shortfall,
    tally,
)

CC = "civil-code-278"
SPECIAL = "civil-code-278-special"
SIMPLE = "simple-majority"
D = Decimal


def roll_of(*owners) -> list[RollEntry]:
    """``roll_of(("A", "100"), ("B", "50", "60"))``: one row per area, units numbered."""
    entries = []
    n = 0
    for key, *areas in owners:
        for area in areas:
            n += 1
            entries.append(RollEntry(key, f"U{n:03d}", D(area)))
    return entries


def equal_roll(n: int, area: str = "100.00") -> list[RollEntry]:
    return roll_of(*[(f"V{i:02d}", area) for i in range(1, n + 1)])


def votes(*pairs, channel: str = "online") -> list[BallotRecord]:
    """``votes(("V01", "yes"), …)``: ballots on lines 2, 3, … as in a file with a header."""
    return [
        BallotRecord(line, key, choice, channel, "")
        for line, (key, choice) in enumerate(pairs, start=2)
    ]


def opts(result) -> list[tuple[str, int, str]]:
    return [(o.key, o.owners, format_area(o.area_m2)) for o in result.options]


def errs(result) -> list[tuple[int | None, str, str]]:
    return [(e.line, e.voter_key, e.reason) for e in result.errors]


# ---- quorum (civil-code-278 and the special rule share it) -------------------------------------


@pytest.mark.parametrize("rule", [CC, SPECIAL])
def test_exactly_two_thirds_of_owners_and_area_is_a_quorum(rule):
    result = tally(equal_roll(3), votes(("V01", "yes"), ("V02", "yes")), rule)
    assert result.participation == Totals(2, D("200.00"))
    assert result.electorate == Totals(3, D("300.00"))
    assert result.quorum_met is True
    assert result.outcome == "decided"
    assert result.winner == "yes"


@pytest.mark.parametrize("rule", [CC, SPECIAL])
def test_one_owner_short_of_two_thirds_is_no_quorum(rule):
    # 6 owners: 4 needed. 3 take part, holding far more than 2/3 of the area.
    roll = roll_of(
        ("V01", "1000"), ("V02", "1000"), ("V03", "1000"), *[(f"S{i}", "10") for i in range(3)]
    )
    result = tally(roll, votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes")), rule)
    assert result.participation == Totals(3, D("3000.00"))
    assert result.quorum_met is False
    assert result.outcome == "no_quorum"
    assert result.winner is None
    # the option itself is counted and would pass: the quorum alone stops it
    assert opts(result) == [("yes", 3, "3000.00")]
    assert result.options[0].meets_approval is True


@pytest.mark.parametrize("rule", [CC, SPECIAL])
def test_area_short_by_one_hundredth_is_no_quorum(rule):
    # total 300.00; 2/3 = 200.00; the two voters hold 199.99
    roll = roll_of(("V01", "100.00"), ("V02", "99.99"), ("V03", "100.01"))
    result = tally(roll, votes(("V01", "yes"), ("V02", "yes")), rule)
    assert result.participation == Totals(2, D("199.99"))
    assert result.quorum_met is False
    assert result.outcome == "no_quorum"
    assert result.quorum_shortfall() == Totals(0, D("0.01"))


@pytest.mark.parametrize("rule", [CC, SPECIAL])
def test_two_thirds_line_that_is_not_a_whole_hundredth(rule):
    # total 100.00: 2/3 is 66.666…; 66.66 is short, 66.67 is enough
    short = roll_of(("V01", "66.65"), ("V02", "33.34"), ("V03", "0.01"))
    assert tally(short, votes(("V01", "y"), ("V03", "y")), rule).quorum_met is False
    enough = roll_of(("V01", "66.66"), ("V02", "33.33"), ("V03", "0.01"))
    assert tally(enough, votes(("V01", "y"), ("V03", "y")), rule).quorum_met is True


@pytest.mark.parametrize(
    "roll, voters, owners_ok, area_ok",
    [
        # owners 4/6 >= 2/3, area 200/550 < 2/3
        (roll_of(*[(f"V0{i}", "50") for i in range(1, 6)], ("BIG", "300")), 4, True, False),
        # owners 2/6 < 2/3, area 600/700 >= 2/3
        (
            roll_of(("V01", "300"), ("V02", "300"), *[(f"S{i}", "25") for i in range(4)]),
            2,
            False,
            True,
        ),
    ],
    ids=["owners-ok-area-short", "area-ok-owners-short"],
)
def test_quorum_needs_both_measures(roll, voters, owners_ok, area_ok):
    keys = list(dict.fromkeys(e.voter_key for e in roll))[:voters]
    result = tally(roll, votes(*[(k, "yes") for k in keys]), CC)
    e, p = result.electorate, result.participation
    assert (p.owners * 3 >= e.owners * 2) is owners_ok
    assert (p.area_m2 * 3 >= e.area_m2 * 2) is area_ok
    assert result.quorum_met is False
    assert result.outcome == "no_quorum"


def test_everyone_taking_part_is_a_quorum():
    result = tally(equal_roll(5), votes(*[(f"V0{i}", "yes") for i in range(1, 6)]), CC)
    assert result.quorum_met is True
    assert result.owners_turnout == 1 and result.area_turnout == 1


# ---- approval: more than half (civil-code-278) -------------------------------------------------


def test_exactly_half_of_owners_and_area_fails():
    result = tally(
        equal_roll(4), votes(("V01", "yes"), ("V02", "yes"), ("V03", "no"), ("V04", "no")), CC
    )
    assert result.quorum_met is True
    assert opts(result) == [("no", 2, "200.00"), ("yes", 2, "200.00")]
    assert result.outcome == "no_majority"
    assert result.winner is None
    assert result.owners_share("yes") == Fraction(1, 2)


def test_half_plus_one_owner_passes():
    ballots = votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no"), ("V05", "no"))
    result = tally(equal_roll(5), ballots, CC)
    assert result.outcome == "decided"
    assert result.winner == "yes"
    assert opts(result) == [("no", 2, "200.00"), ("yes", 3, "300.00")]


def test_owner_majority_without_area_majority_fails():
    # yes: 3 owners of 4 but 300.00 of 700.00 m²
    roll = roll_of(("V01", "100"), ("V02", "100"), ("V03", "100"), ("V04", "400"))
    result = tally(roll, votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no")), CC)
    assert result.quorum_met is True
    assert result.outcome == "no_majority"
    assert [o.meets_approval for o in result.options] == [False, False]


def test_area_majority_without_owner_majority_fails():
    # yes: 1 owner of 3 but 400.00 of 600.00 m²
    roll = roll_of(("V01", "400"), ("V02", "100"), ("V03", "100"))
    result = tally(roll, votes(("V01", "yes"), ("V02", "no"), ("V03", "no")), CC)
    assert result.outcome == "no_majority"


def test_area_exactly_half_fails_even_with_owner_majority():
    roll = roll_of(("V01", "100"), ("V02", "100"), ("V03", "100"), ("V04", "300"))
    result = tally(roll, votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no")), CC)
    assert result.area_share("yes") == Fraction(1, 2)
    assert result.outcome == "no_majority"


def test_area_half_plus_a_hundredth_passes():
    roll = roll_of(("V01", "100.01"), ("V02", "100"), ("V03", "100"), ("V04", "300"))
    result = tally(roll, votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no")), CC)
    assert result.outcome == "decided"
    assert result.winner == "yes"


def test_no_can_be_the_winner():
    result = tally(equal_roll(3), votes(("V01", "yes"), ("V02", "no"), ("V03", "no")), CC)
    assert result.outcome == "decided"
    assert result.winner == "no"


def test_three_candidates_none_above_half_is_no_majority():
    ballots = votes(
        ("V01", "A"),
        ("V02", "A"),
        ("V03", "B"),
        ("V04", "B"),
        ("V05", "C"),
        ("V06", "C"),
        ("V07", "A"),
    )
    result = tally(equal_roll(7), ballots, CC)
    assert opts(result) == [("A", 3, "300.00"), ("B", 2, "200.00"), ("C", 2, "200.00")]
    assert result.quorum_met is True
    assert result.outcome == "no_majority"
    assert result.winner is None


def test_abstentions_are_in_the_denominator_never_the_numerator():
    # 5 take part: yes 2, no 1, abstain 2. Without the abstentions yes would have 2/3.
    ballots = votes(
        ("V01", "yes"), ("V02", "yes"), ("V03", "no"), ("V04", "abstain"), ("V05", "abstain")
    )
    result = tally(equal_roll(6), ballots, CC)
    assert result.participation == Totals(5, D("500.00"))
    assert result.abstain == Totals(2, D("200.00"))
    assert opts(result) == [("no", 1, "100.00"), ("yes", 2, "200.00")]
    assert result.quorum_met is True
    assert result.outcome == "no_majority"


def test_abstentions_make_the_quorum():
    ballots = votes(("V01", "yes"), ("V02", "abstain"))
    result = tally(equal_roll(3), ballots, CC)
    assert result.quorum_met is True
    assert result.abstain == Totals(1, D("100.00"))
    assert result.outcome == "no_majority"  # 1 of 2 is exactly half


def test_all_abstain():
    result = tally(equal_roll(3), votes(*[(f"V0{i}", "abstain") for i in (1, 2, 3)]), CC)
    assert result.options == ()
    assert result.quorum_met is True
    assert result.outcome == "no_majority"


# ---- approval: three quarters (special rule) ---------------------------------------------------


def test_special_rule_three_quarters_exactly_passes():
    ballots = votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no"))
    result = tally(equal_roll(4), ballots, SPECIAL)
    assert result.owners_share("yes") == Fraction(3, 4)
    assert result.area_share("yes") == Fraction(3, 4)
    assert result.outcome == "decided"
    assert result.winner == "yes"


def test_special_rule_owners_just_below_three_quarters_fails():
    # 5 of 7 owners (71%), area 500/700
    ballots = votes(*[(f"V0{i}", "yes") for i in range(1, 6)], ("V06", "no"), ("V07", "no"))
    result = tally(equal_roll(7), ballots, SPECIAL)
    assert result.outcome == "no_majority"
    # the same ballots pass under the ordinary rule
    assert tally(equal_roll(7), ballots, CC).winner == "yes"


def test_special_rule_area_just_below_three_quarters_fails():
    # 3 of 4 owners; area 300.00 of 400.01
    roll = roll_of(("V01", "100"), ("V02", "100"), ("V03", "100"), ("V04", "100.01"))
    ballots = votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no"))
    result = tally(roll, ballots, SPECIAL)
    assert result.outcome == "no_majority"
    assert tally(roll, ballots, CC).winner == "yes"


def test_special_rule_abstentions_count_against():
    ballots = votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "abstain"))
    assert tally(equal_roll(4), ballots, SPECIAL).winner == "yes"
    ballots = votes(("V01", "yes"), ("V02", "yes"), ("V03", "abstain"), ("V04", "abstain"))
    assert tally(equal_roll(4), ballots, SPECIAL).outcome == "no_majority"


def test_special_rule_needs_the_same_quorum():
    ballots = votes(("V01", "yes"))
    result = tally(equal_roll(3), ballots, SPECIAL)
    assert result.outcome == "no_quorum"


# ---- simple majority ---------------------------------------------------------------------------


def test_simple_majority_has_no_quorum():
    result = tally(equal_roll(10), votes(("V01", "yes")), SIMPLE)
    assert result.quorum_met is True
    assert result.outcome == "decided"
    assert result.winner == "yes"
    assert result.quorum_shortfall() == Totals(0, D("0.00"))


def test_simple_majority_ignores_area_but_reports_it():
    roll = roll_of(("V01", "10"), ("V02", "10"), ("V03", "10"), ("V04", "500"), ("V05", "500"))
    ballots = votes(("V01", "yes"), ("V02", "yes"), ("V03", "yes"), ("V04", "no"), ("V05", "no"))
    result = tally(roll, ballots, SIMPLE)
    assert result.winner == "yes"
    assert opts(result) == [("no", 2, "1000.00"), ("yes", 3, "30.00")]
    assert tally(roll, ballots, CC).outcome == "no_majority"


def test_simple_majority_exactly_half_fails():
    result = tally(equal_roll(4), votes(("V01", "yes"), ("V02", "no")), SIMPLE)
    assert result.outcome == "no_majority"


def test_simple_majority_without_any_ballot():
    result = tally(equal_roll(4), [], SIMPLE)
    assert result.quorum_met is True
    assert result.outcome == "no_majority"
    assert result.winner is None


# ---- owners: several units, the developer ------------------------------------------------------


def test_owner_of_several_units_is_one_owner_with_the_summed_area():
    roll = roll_of(("A", "50.25", "60.50", "10.00"), ("B", "100"), ("C", "100"))
    assert electorate_of(roll) == Totals(3, D("320.75"))
    assert owner_areas(roll) == {"A": D("120.75"), "B": D("100.00"), "C": D("100.00")}
    result = tally(roll, votes(("A", "yes"), ("B", "no")), CC)
    assert result.electorate == Totals(3, D("320.75"))
    assert result.participation == Totals(2, D("220.75"))
    assert opts(result) == [("no", 1, "100.00"), ("yes", 1, "120.75")]


def test_developer_units_count_as_one_owner():
    # 3 private owners and 6 unsold units: 4 owners. The developer alone is not a quorum,
    # and one developer vote cannot outvote two owners by headcount.
    roll = roll_of(
        ("P1", "90"), ("P2", "90"), ("P3", "90"), ("DEV", "90", "90", "90", "90", "90", "90")
    )
    assert electorate_of(roll) == Totals(4, D("810.00"))
    result = tally(roll, votes(("DEV", "A"), ("P1", "B"), ("P2", "B")), CC)
    assert result.participation == Totals(3, D("720.00"))
    assert result.quorum_met is True
    assert opts(result) == [("A", 1, "540.00"), ("B", 2, "180.00")]
    assert result.outcome == "no_majority"  # A lacks owners, B lacks area


def test_a_second_ballot_for_another_unit_of_the_same_owner_is_a_duplicate():
    roll = roll_of(("A", "50", "50"), ("B", "100"))
    result = tally(roll, votes(("A", "yes"), ("A", "no")), CC)
    assert errs(result) == [(3, "A", "duplicate_voter")]
    assert opts(result) == [("yes", 1, "100.00")]


# ---- ballot errors -----------------------------------------------------------------------------


def test_errors_with_their_line_numbers():
    roll = equal_roll(5)
    ballots = [
        BallotRecord(2, "V01", "yes", "online", "R1"),
        BallotRecord(3, "X9", "yes", "online", ""),  # not on the roll
        BallotRecord(4, "V02", "", "paper", ""),  # empty choice: V02 is now marked
        BallotRecord(5, "V02", "yes", "paper", ""),  # duplicate of line 4
        BallotRecord(6, "V03", "  ", "online", ""),  # blank choice
        BallotRecord(7, "V04", "no", "fax", ""),  # not a channel
        BallotRecord(8, "V01", "no", "online", ""),  # duplicate of line 2
        BallotRecord(9, "V05", "no", "proxy", ""),
    ]
    result = tally(roll, ballots, CC)
    assert errs(result) == [
        (3, "X9", "unknown_voter"),
        (4, "V02", "invalid_choice"),
        (5, "V02", "duplicate_voter"),
        (6, "V03", "invalid_choice"),
        (7, "V04", "invalid_channel"),
        (8, "V01", "duplicate_voter"),
    ]
    assert [(b.line, b.voter_key) for b in result.counted] == [(2, "V01"), (9, "V05")]
    assert result.participation == Totals(2, D("200.00"))
    assert opts(result) == [("no", 1, "100.00"), ("yes", 1, "100.00")]
    assert result.outcome == "no_quorum"


def test_error_for_an_empty_choice_is_listed_once_per_line():
    result = tally(equal_roll(2), votes(("V01", ""), ("V01", "")), CC)
    assert errs(result) == [(2, "V01", "invalid_choice"), (3, "V01", "duplicate_voter")]


@pytest.mark.parametrize(
    "ballot, reason",
    [
        # unknown_voter before every other check
        (BallotRecord(2, "ZZ", "", "fax", ""), "unknown_voter"),
        # invalid_choice before invalid_channel
        (BallotRecord(2, "V01", "", "fax", ""), "invalid_choice"),
        (BallotRecord(2, "V01", "yes", "", ""), "invalid_channel"),
        (BallotRecord(2, "V01", "yes", "Online", ""), "invalid_channel"),
        (BallotRecord(2, "", "yes", "online", ""), "unknown_voter"),
    ],
)
def test_check_order_on_one_line(ballot, reason):
    result = tally(equal_roll(2), [ballot], CC)
    assert [e.reason for e in result.errors] == [reason]
    assert result.participation.owners == 0


def test_duplicate_is_checked_before_choice_and_channel():
    ballots = votes(("V01", "yes"), ("V01", ""))
    ballots.append(BallotRecord(4, "V01", "no", "fax", ""))
    result = tally(equal_roll(2), ballots, CC)
    assert errs(result) == [(3, "V01", "duplicate_voter"), (4, "V01", "duplicate_voter")]


def test_every_channel_counts():
    ballots = [
        BallotRecord(2, "V01", "yes", "online", ""),
        BallotRecord(3, "V02", "yes", "paper", ""),
        BallotRecord(4, "V03", "yes", "proxy", ""),
    ]
    result = tally(equal_roll(3), ballots, CC)
    assert result.errors == ()
    assert result.winner == "yes"


def test_spaces_around_fields_are_ignored():
    result = tally(equal_roll(1), [BallotRecord(2, " V01 ", " yes ", " paper ", "")], CC)
    assert result.errors == ()
    assert opts(result) == [("yes", 1, "100.00")]


def test_options_list_makes_unknown_choices_invalid():
    ballots = votes(("V01", "A"), ("V02", "Z"), ("V03", "abstain"))
    result = tally(equal_roll(3), ballots, CC, options=["A", "B"])
    assert errs(result) == [(3, "V02", "invalid_choice")]
    assert opts(result) == [("A", 1, "100.00")]
    with pytest.raises(TallyInputError):
        tally(equal_roll(3), ballots, CC, options=["A", "abstain"])


def test_ballots_without_line_numbers():
    ballots = [BallotRecord(None, "V01", "yes", "online"), BallotRecord(None, "V01", "no", "paper")]
    result = tally(equal_roll(1), ballots, CC)
    assert errs(result) == [(None, "V01", "duplicate_voter")]
    assert result.to_json_dict()["errors"] == [
        {"line": None, "voter_key": "V01", "reason": "duplicate_voter"}
    ]


def test_no_ballot_at_all():
    result = tally(equal_roll(3), [], CC)
    assert result.participation == Totals(0, D("0.00"))
    assert result.options == ()
    assert result.abstain == Totals(0, D("0.00"))
    assert result.outcome == "no_quorum"
    assert result.owners_turnout == 0
    assert result.owners_share("yes") == 0 and result.area_share("yes") == 0


def test_only_bad_ballots():
    result = tally(equal_roll(2), votes(("X", "yes"), ("V01", "")), SIMPLE)
    assert result.participation.owners == 0
    assert result.outcome == "no_majority"
    assert len(result.errors) == 2


# ---- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "roll, rule",
    [
        ([], CC),
        (equal_roll(2), "civil-code"),
        (equal_roll(2), ""),
        ([RollEntry("A", "1", D("0"))], CC),
        ([RollEntry("A", "1", D("-5"))], CC),
        ([RollEntry("A", "1", D("1.001"))], CC),
        ([RollEntry("A", "1", D("NaN"))], CC),
        ([RollEntry("", "1", D("1"))], CC),
        ([RollEntry("A", " ", D("1"))], CC),
        ([RollEntry("A", "1", D("1")), RollEntry("B", "1", D("1"))], CC),
    ],
    ids=[
        "empty",
        "rule",
        "blank-rule",
        "zero-area",
        "negative",
        "3-decimals",
        "nan",
        "no-key",
        "no-unit",
        "unit-twice",
    ],
)
def test_bad_input_is_a_value_error(roll, rule):
    with pytest.raises(ValueError):
        tally(roll, [], rule)


# ---- JSON, ratios, display helpers -------------------------------------------------------------


def test_json_shape():
    roll = roll_of(("A", "4000", "500"), ("B", "1000"), ("C", "1043.21"))
    ballots = votes(("A", "B"), ("B", "abstain"), ("X9", "B"))
    result = tally(roll, ballots, CC)
    data = result.to_json_dict()
    assert data == {
        "rule": "civil-code-278",
        "electorate": {"owners": 3, "area_m2": "6543.21"},
        "participation": {"owners": 2, "area_m2": "5500.00", "quorum_met": True},
        "options": [{"key": "B", "owners": 1, "area_m2": "4500.00"}],
        "abstain": {"owners": 1, "area_m2": "1000.00"},
        "outcome": "no_majority",
        "winner": None,
        "errors": [{"line": 4, "voter_key": "X9", "reason": "unknown_voter"}],
    }
    assert list(data) == [
        "rule",
        "electorate",
        "participation",
        "options",
        "abstain",
        "outcome",
        "winner",
        "errors",
    ]


def test_options_sorted_by_key():
    ballots = votes(("V01", "C"), ("V02", "A"), ("V03", "B"), ("V04", "A"))
    assert [o.key for o in tally(equal_roll(4), ballots, CC).options] == ["A", "B", "C"]


@pytest.mark.parametrize(
    "value, expected",
    [
        (Fraction(5, 7), "71.4"),
        (Fraction(2, 3), "66.7"),
        (Fraction(1, 3), "33.3"),
        (Fraction(1, 2), "50.0"),
        (Fraction(1), "100.0"),
        (Fraction(0), "0.0"),
        (Fraction(1, 2000), "0.1"),  # 0.05 % rounds half up
        (Fraction(1225, 10000), "12.3"),  # 12.25 % rounds up, not to even
        (Fraction(1235, 10000), "12.4"),
        (Fraction(12349999, 100000000), "12.3"),
        (Fraction(-1, 2000), "-0.1"),
    ],
)
def test_percent_one_decimal_half_up(value, expected):
    assert percent(value) == D(expected)
    assert str(percent(value)) == expected
    assert format_percent(value) == expected + "%"


def test_ratios_of_the_issue_example():
    roll = roll_of(*[(f"V{i:02d}", "100") for i in range(1, 8)])
    ballots = votes(*[(f"V{i:02d}", "yes") for i in range(1, 6)])
    result = tally(roll, ballots, CC)
    assert result.owners_turnout == Fraction(5, 7)
    assert format_percent(result.owners_turnout) == "71.4%"
    assert result.area_turnout == Fraction(5, 7)


@pytest.mark.parametrize(
    "electorate, participation, expected",
    [
        (Totals(3, D("300.00")), Totals(2, D("200.00")), Totals(0, D("0.00"))),
        (Totals(3, D("300.00")), Totals(0, D("0.00")), Totals(2, D("200.00"))),
        (Totals(7, D("100.00")), Totals(4, D("66.66")), Totals(1, D("0.01"))),  # ceil(14/3) = 5
        (Totals(70, D("6543.21")), Totals(50, D("4000.00")), Totals(0, D("362.14"))),
    ],
)
def test_quorum_shortfall(electorate, participation, expected):
    assert quorum_shortfall(CC, electorate, participation) == expected
    assert quorum_shortfall(SIMPLE, electorate, participation) == Totals(0, D("0.00"))


def test_participation_of_for_live_turnout():
    roll = roll_of(("A", "50", "50"), ("B", "80"), ("C", "20"))
    assert participation_of(roll, ["A", "C", "ghost", "A"]) == Totals(2, D("120.00"))
    assert participation_of(roll, []) == Totals(0, D("0.00"))


@pytest.mark.parametrize(
    "area, text", [(D("4500"), "4500.00"), (D("0.5"), "0.50"), (D("12.34"), "12.34")]
)
def test_format_area(area, text):
    assert format_area(area) == text


# ---- brute force against a naive, separately written count -------------------------------------


def naive(roll, ballots, rule):
    """The law read literally, with Fractions and no shortcuts."""
    area: dict[str, Fraction] = {}
    for entry in roll:
        area[entry.voter_key] = area.get(entry.voter_key, Fraction(0)) + Fraction(entry.area_m2)
    errors, chosen, marked = [], {}, set()
    for b in ballots:
        if b.voter_key not in area:
            errors.append({"line": b.line, "voter_key": b.voter_key, "reason": "unknown_voter"})
            continue
        if b.voter_key in marked:
            errors.append({"line": b.line, "voter_key": b.voter_key, "reason": "duplicate_voter"})
            continue
        marked.add(b.voter_key)
        if b.choice.strip() == "":
            errors.append({"line": b.line, "voter_key": b.voter_key, "reason": "invalid_choice"})
            continue
        if b.channel not in ("online", "paper", "proxy"):
            errors.append({"line": b.line, "voter_key": b.voter_key, "reason": "invalid_channel"})
            continue
        chosen[b.voter_key] = b.choice
    n, total = len(area), sum(area.values())
    p, part = len(chosen), sum((area[k] for k in chosen), Fraction(0))
    if rule == SIMPLE:
        quorum = True
    else:
        quorum = Fraction(p, n) >= Fraction(2, 3) and part / total >= Fraction(2, 3)
    keys = sorted(set(chosen.values()) - {"abstain"})

    def of(choice):
        who = [k for k, c in chosen.items() if c == choice]
        return len(who), sum((area[k] for k in who), Fraction(0))

    def approved(choice):
        o, a = of(choice)
        if p == 0:
            return False
        if rule == SIMPLE:
            return Fraction(o, p) > Fraction(1, 2)
        if rule == SPECIAL:
            return Fraction(o, p) >= Fraction(3, 4) and a / part >= Fraction(3, 4)
        return Fraction(o, p) > Fraction(1, 2) and a / part > Fraction(1, 2)

    winners = [k for k in keys if approved(k)]
    if not quorum:
        outcome, winner = "no_quorum", None
    elif winners:
        outcome, winner = "decided", winners[0]
    else:
        outcome, winner = "no_majority", None

    def money(x: Fraction) -> str:
        return f"{Decimal(x.numerator) / Decimal(x.denominator):.2f}"

    return {
        "rule": rule,
        "electorate": {"owners": n, "area_m2": money(total)},
        "participation": {"owners": p, "area_m2": money(part), "quorum_met": quorum},
        "options": [{"key": k, "owners": of(k)[0], "area_m2": money(of(k)[1])} for k in keys],
        "abstain": {"owners": of("abstain")[0], "area_m2": money(of("abstain")[1])},
        "outcome": outcome,
        "winner": winner,
        "errors": errors,
    }


def random_case(rng: random.Random):
    n_owners = rng.randint(1, 9)
    # Equal areas, or small multiples of one area, hit the exact thresholds often.
    mode = rng.choice(["equal", "multiples", "any"])
    base = D(rng.choice(["100.00", "50.00", "33.33", "0.01"]))
    sizes = [1] if rng.random() < 0.3 else [1, 1, 1, 2, 3]  # units per owner
    roll, unit = [], 0
    for i in range(n_owners):
        for _ in range(rng.choice(sizes)):
            unit += 1
            if mode == "equal":
                area = base
            elif mode == "multiples":
                area = base * rng.randint(1, 4)
            else:
                area = D(rng.randint(1, 20000)).scaleb(-2)
            roll.append(RollEntry(f"K{i}", f"U{unit}", area))
    keys = [f"K{i}" for i in range(n_owners)]
    if rng.random() < 0.5:
        # clean ballots: each owner at most once, two options (and abstentions sometimes)
        voters = rng.sample(keys, rng.randint(0, n_owners))
        pool = rng.choice([["yes", "no"], ["yes", "yes", "no"], ["A", "B", "abstain"]])
        return roll, [
            BallotRecord(line, key, rng.choice(pool), "online", "")
            for line, key in enumerate(voters, start=2)
        ]
    choices = ["A", "B", "C", "yes", "no", "abstain", "abstain", "", " "]
    channels = ["online", "paper", "proxy", "online", "paper", "proxy", "fax", ""]
    choices = choices[: rng.randint(2, 9)]
    ballots = []
    for line in range(2, 2 + rng.randint(0, n_owners + 3)):
        key = rng.choice([*keys, "GHOST"])
        ballots.append(BallotRecord(line, key, rng.choice(choices), rng.choice(channels), ""))
    return roll, ballots


@pytest.mark.parametrize("seed", range(6))
def test_brute_force_against_naive_count(seed):
    rng = random.Random(seed)
    outcomes = set()
    for _ in range(150):
        roll, ballots = random_case(rng)
        for rule in (CC, SPECIAL, SIMPLE):
            got = tally(roll, ballots, rule).to_json_dict()
            assert got == naive(roll, ballots, rule), (roll, ballots, rule)
            outcomes.add(got["outcome"])
    # the random cases reach every outcome
    assert outcomes == {"decided", "no_quorum", "no_majority"}
