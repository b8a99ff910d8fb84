"""Pure rules of minutes: revision states, the second person, who records what, and the checks
of a meeting's record."""

from __future__ import annotations

import pytest

from portal.minutes import rules
from portal.minutes.rules import DecisionInput as D


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        ("draft", "edit", "draft"),
        ("draft", "submit", "submitted"),
        ("submitted", "return", "draft"),
        ("submitted", "confirm", "published"),
    ],
)
def test_allowed_steps(state, action, after):
    assert rules.next_state(state, action) == after


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("draft", "confirm"),  # a draft is never published without being submitted
        ("submitted", "edit"),  # what the confirmer reads does not change under them
        ("submitted", "submit"),
        ("published", "edit"),  # published minutes are final
        ("published", "confirm"),
        ("published", "return"),
        ("published", "submit"),
    ],
)
def test_refused_steps(state, action):
    with pytest.raises(rules.TransitionRefused):
        rules.next_state(state, action)


def test_the_author_never_confirms_their_own_minutes():
    assert rules.may_confirm(author_id=1, confirmer_id=2, confirmer_is_member=True)
    assert not rules.may_confirm(author_id=1, confirmer_id=1, confirmer_is_member=True)
    assert not rules.may_confirm(author_id=1, confirmer_id=2, confirmer_is_member=False)


@pytest.mark.parametrize(
    ("kind", "member", "secretary", "ok"),
    [
        ("committee", True, False, True),
        ("assembly", True, False, True),
        ("joint", True, False, True),
        ("joint", False, True, True),  # the secretary records joint meetings …
        ("committee", False, True, False),  # … only
        ("assembly", False, True, False),
        ("joint", False, False, False),
        ("party", True, True, False),
    ],
)
def test_who_records_which_meeting(kind, member, secretary, ok):
    assert rules.may_record(kind, member, secretary) is ok


def test_parse_names_accepts_lines_and_chinese_separators():
    assert rules.parse_names("张三\n 李四 \n\n王五、赵六，钱七; 孙八") == [
        "张三",
        "李四",
        "王五",
        "赵六",
        "钱七",
        "孙八",
    ]
    assert rules.parse_names("") == [] and rules.parse_names(None) == []


def _codes(problems):
    return [(p.field, p.code, p.index) for p in problems]


def test_a_good_record_has_no_problem():
    assert rules.check_record("committee", 5, ["张三", "李四"], [D("同意", 4, 1, 0)]) == []


def test_blank_decision_rows_are_ignored():
    assert rules.check_record("committee", 5, [], [D("  ", 0, 0, 0), D("同意", 5, 0, 0)]) == []


def test_problems_name_their_field_and_decision():
    problems = rules.check_record(
        "committee",
        3,
        ["张三", "李四", "王五", "赵六"],
        [D("同意", 2, 1, 0), D("", 1, 0, 0), D("反对", 2, 2, 0), D("x", -1, 0, 0)],
    )
    assert _codes(problems) == [
        ("attendee_names", "names_exceed_count", None),
        ("decision", "decision_text_missing", 1),
        ("decision", "votes_exceed_attendees", 2),
        ("decision", "votes_negative", 3),
    ]


@pytest.mark.parametrize("kind", ["committee", "joint"])
def test_at_meetings_only_those_present_vote(kind):
    assert _codes(rules.check_record(kind, 5, [], [D("x", 3, 2, 1)])) == [
        ("decision", "votes_exceed_attendees", 0)
    ]
    assert rules.check_record(kind, 5, [], [D("x", 3, 1, 1)]) == []


def test_an_assembly_also_counts_written_votes_of_absent_owners():
    assert rules.check_record("assembly", 40, [], [D("x", 300, 20, 5)]) == []


def test_nobody_present_and_unknown_kind():
    assert _codes(rules.check_record("committee", 0, [], [])) == [
        ("attendees_count", "attendees_none", None)
    ]
    assert ("kind", "kind_unknown", None) in _codes(rules.check_record("picnic", 3, [], []))


def test_limits_on_names_and_decisions():
    many = [f"人{i}" for i in range(rules.MAX_NAMES + 1)]
    assert ("attendee_names", "names_too_many", None) in _codes(
        rules.check_record("assembly", 10_000, many, [])
    )
    decisions = [D(f"决定{i}", 0, 0, 0) for i in range(rules.MAX_DECISIONS + 1)]
    assert ("decisions", "decisions_too_many", None) in _codes(
        rules.check_record("assembly", 10, [], decisions)
    )
