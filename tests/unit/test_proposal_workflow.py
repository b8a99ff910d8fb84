"""The proposal state machine: every (state, action) pair, allowed or refused, and who may move."""

from itertools import product

import pytest

from portal.proposals.workflow import (
    ACTIONS,
    ACTORS,
    CLOCK_RUNNING,
    MOVES,
    STATES,
    TERMINAL,
    TransitionRefused,
    agenda_ready,
    available,
    check,
    may,
    next_state,
    outcome_of,
    stops_clock,
)

# (state, action) -> next state, for a proposal that was never reopened and has no conclusion.
ALLOWED = {
    ("collect", "accept"): "accepted",
    ("collect", "reject"): "rejected",
    ("collect", "merge"): "merged",
    ("accepted", "merge"): "merged",
    ("accepted", "schedule"): "deliberating",
    ("reopened", "schedule"): "deliberating",
    ("accepted", "respond"): "feedback",
    ("reopened", "respond"): "feedback",
    ("deliberating", "conclude"): "deliberating",
    ("feedback", "satisfied"): "closed",
    ("feedback", "unsatisfied"): "reopened",
    ("feedback", "expire"): "closed",
    ("accepted", "escalate"): "accepted",
    ("reopened", "escalate"): "reopened",
    **{(s, "support"): s for s in ("collect", "accepted", "reopened", "deliberating")},
    **{(s, "comment"): s for s in ("collect", "accepted", "reopened", "deliberating", "feedback")},
}
# Differences once the meeting's conclusion is recorded, or once the proposal was reopened.
ALLOWED_CONCLUDED = {
    **{k: v for k, v in ALLOWED.items() if k != ("deliberating", "conclude")},
    ("deliberating", "respond"): "feedback",
}
ALLOWED_REOPENED = {**ALLOWED, ("feedback", "unsatisfied"): "closed"}


def expected(state, action, reopened, concluded):
    table = ALLOWED_CONCLUDED if concluded else ALLOWED
    if reopened and (state, action) == ("feedback", "unsatisfied"):
        return "closed"
    return table.get((state, action))


@pytest.mark.parametrize("reopened, concluded", list(product([False, True], repeat=2)))
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_move_allowed_or_refused(state, action, reopened, concluded):
    want = expected(state, action, reopened, concluded)
    if want is not None:
        assert next_state(state, action, reopened=reopened, concluded=concluded) == want
    else:
        with pytest.raises(TransitionRefused) as e:
            next_state(state, action, reopened=reopened, concluded=concluded)
        assert e.value.action == action and e.value.state == state


def test_the_refusal_names_its_reason():
    with pytest.raises(TransitionRefused) as e:
        next_state("collect", "respond")  # feedback before acceptance
    assert e.value.reason == "state"
    with pytest.raises(TransitionRefused) as e:
        next_state("deliberating", "respond")
    assert e.value.reason == "not_concluded"
    with pytest.raises(TransitionRefused) as e:
        next_state("deliberating", "conclude", concluded=True)
    assert e.value.reason == "concluded"


def test_terminal_states_allow_nothing():
    for state in TERMINAL:
        for action in ACTIONS:
            with pytest.raises(TransitionRefused):
                next_state(state, action, reopened=True, concluded=True)


def test_unknown_state_is_a_programming_error():
    with pytest.raises(ValueError):
        next_state("lost", "accept")


# ---- who may move ---------------------------------------------------------------------------

WHO = {
    "accept": {"secretary"},
    "reject": {"secretary"},
    "merge": {"secretary"},
    "schedule": {"secretary"},
    "conclude": {"secretary"},
    "respond": {"responsible"},
    "satisfied": {"author"},
    "unsatisfied": {"author"},
    "expire": {"system"},
    "escalate": {"system"},
    "support": {"resident"},
    "comment": {"resident"},
}


def test_the_who_table_covers_every_action():
    assert set(WHO) == set(ACTIONS) == set(MOVES)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("action", ACTIONS)
def test_every_actor_for_every_action(action, actor):
    assert may(action, {actor}) == (actor in WHO[action])
    source = sorted(MOVES[action].sources)[0]
    concluded = action == "respond" and source == "deliberating"
    if actor in WHO[action]:
        check(source, action, {actor}, concluded=concluded)
    else:
        with pytest.raises(TransitionRefused) as e:
            check(source, action, {actor}, concluded=concluded)
        assert e.value.reason == "role"


def test_no_roles_may_do_nothing():
    for action in ACTIONS:
        assert not may(action, set())


def test_available_lists_exactly_the_allowed_moves_of_the_roles():
    assert available("collect", {"secretary"}) == ["accept", "reject", "merge"]
    assert available("collect", {"resident", "author"}) == ["support", "comment"]
    assert available("accepted", {"responsible"}) == ["respond"]
    assert available("deliberating", {"responsible"}) == []
    assert available("deliberating", {"responsible"}, concluded=True) == ["respond"]
    assert available("feedback", {"author"}) == ["satisfied", "unsatisfied"]
    assert available("closed", set(ACTORS)) == []


# ---- outcomes, the agenda threshold, the clock ------------------------------------------------


def test_outcomes():
    assert outcome_of("satisfied", False) == "satisfied"
    assert outcome_of("satisfied", True) == "satisfied"
    assert outcome_of("unsatisfied", False) is None  # reopens instead
    assert outcome_of("unsatisfied", True) == "unsatisfied"
    assert outcome_of("expire", False) == "no_reply"
    assert outcome_of("accept", False) is None


@pytest.mark.parametrize(
    "supports, threshold, ready",
    [(9, 10, False), (10, 10, True), (11, 10, True), (1, 1, True), (0, 1, False)],
)
def test_agenda_threshold_is_reached_at_the_threshold(supports, threshold, ready):
    assert agenda_ready(supports, threshold) is ready


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_only_the_agenda_and_feedback_stop_a_running_clock(state, action):
    stops = state in CLOCK_RUNNING and action in ("schedule", "conclude", "respond")
    assert stops_clock(action, state) is stops
    # comments, supports, escalation never stop it
    if action in ("comment", "support", "escalate", "accept"):
        assert not stops_clock(action, state)
