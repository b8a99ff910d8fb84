"""The proposal's lifecycle (pure: no Flask, no database).

::

    collect --accept--> accepted --schedule--> deliberating (--conclude) --respond--> feedback
    collect --reject--> rejected          accepted / reopened --respond--> feedback
    collect / accepted --merge--> merged
    feedback --satisfied--> closed
    feedback --unsatisfied--> reopened (the first time) or closed (after a reopening)
    feedback --expire (no verdict in time)--> closed
    reopened behaves like accepted: schedule -> deliberating, respond -> feedback.

Every move, the states it starts from, the state it leads to and who may make it are data
(``MOVES``). Guards that depend on facts beyond the state (it was reopened before; the meeting's
conclusion is recorded; enough supports for the agenda) are plain arguments.

The clock (``sla``) runs while the proposal is ``accepted`` or ``reopened``. The *first
substantive response* that stops it is the first of: the decision to put it on the joint meeting's
agenda (``schedule``, with a date) or the responsible party's published feedback (``respond``).
Comments, supports and reports are not responses; neither is acceptance itself. The meeting's
conclusion (``conclude``) is substantive too, but can only follow ``schedule``.
"""

from __future__ import annotations

from dataclasses import dataclass

STATES = (
    "collect",
    "accepted",
    "rejected",
    "merged",
    "deliberating",
    "feedback",
    "reopened",
    "closed",
)
TERMINAL = frozenset({"rejected", "merged", "closed"})
# The 24/48/72-hour clock runs in these states (and only in these).
CLOCK_RUNNING = frozenset({"accepted", "reopened"})
# Moves that are "the first substantive response" when made while the clock runs.
RESPONSE_ACTIONS = frozenset({"schedule", "conclude", "respond"})
OUTCOMES = ("satisfied", "unsatisfied", "no_reply")

# Who acts. "secretary": the community secretary of the proposal's community (or a site admin);
# "responsible": staff of the party the proposal was assigned to; "author": who submitted it;
# "resident": any verified resident of the compound; "system": the sweep.
ACTORS = ("secretary", "responsible", "author", "resident", "system")


@dataclass(frozen=True)
class Move:
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    actors: frozenset[str]


def _m(sources, target, actors) -> Move:
    return Move(frozenset(sources), target, frozenset(actors))


OPEN = ("collect", "accepted", "reopened", "deliberating")
MOVES: dict[str, Move] = {
    "accept": _m(("collect",), "accepted", ("secretary",)),
    "reject": _m(("collect",), "rejected", ("secretary",)),
    "merge": _m(("collect", "accepted"), "merged", ("secretary",)),
    "schedule": _m(("accepted", "reopened"), "deliberating", ("secretary",)),
    "conclude": _m(("deliberating",), None, ("secretary",)),
    "respond": _m(("accepted", "reopened", "deliberating"), "feedback", ("responsible",)),
    "satisfied": _m(("feedback",), "closed", ("author",)),
    "unsatisfied": _m(("feedback",), "reopened", ("author",)),  # "closed" after a reopen
    "expire": _m(("feedback",), "closed", ("system",)),
    "escalate": _m(("accepted", "reopened"), None, ("system",)),
    "support": _m(OPEN, None, ("resident",)),
    "comment": _m(OPEN + ("feedback",), None, ("resident",)),
}
ACTIONS = tuple(MOVES)


class TransitionRefused(ValueError):
    """``reason`` names the rule: state, role, reopened, not_concluded, concluded, threshold."""

    def __init__(self, action: str, state: str, reason: str = "state", **params):
        super().__init__(f"{action} refused in {state}: {reason}")
        self.action = action
        self.state = state
        self.reason = reason
        self.params = params


def next_state(
    state: str,
    action: str,
    *,
    reopened: bool = False,
    concluded: bool = False,
) -> str:
    """The state after ``action`` from ``state``, or TransitionRefused.

    ``reopened``: the proposal has been reopened once already (a second "unsatisfied" closes it).
    ``concluded``: the joint meeting's conclusion is recorded (needed before feedback on a
    proposal under deliberation; recorded only once).
    """
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    move = MOVES[action]
    if state not in move.sources:
        raise TransitionRefused(action, state)
    if action == "conclude" and concluded:
        raise TransitionRefused(action, state, "concluded")
    if action == "respond" and state == "deliberating" and not concluded:
        raise TransitionRefused(action, state, "not_concluded")
    if action == "unsatisfied" and reopened:
        return "closed"
    return move.target or state


def outcome_of(action: str, reopened: bool) -> str | None:
    """How a closing move ends the case (None when it does not close)."""
    if action == "satisfied":
        return "satisfied"
    if action == "unsatisfied":
        return "unsatisfied" if reopened else None
    if action == "expire":
        return "no_reply"
    return None


def may(action: str, roles: frozenset[str] | set[str]) -> bool:
    """True when one of ``roles`` may make ``action`` (whatever the state)."""
    return bool(MOVES[action].actors & set(roles))


def check(
    state: str,
    action: str,
    roles: frozenset[str] | set[str],
    *,
    reopened: bool = False,
    concluded: bool = False,
) -> str:
    """Who and when together: the next state, or TransitionRefused (reason ``role`` first)."""
    if not may(action, roles):
        raise TransitionRefused(action, state, "role")
    return next_state(state, action, reopened=reopened, concluded=concluded)


def agenda_ready(supports: int, threshold: int) -> bool:
    """Enough supports to put the proposal on the joint meeting's agenda."""
    return supports >= threshold


def stops_clock(action: str, state: str) -> bool:
    """True when ``action`` from ``state`` is the first substantive response."""
    return state in CLOCK_RUNNING and action in RESPONSE_ACTIONS


def available(
    state: str,
    roles: frozenset[str] | set[str],
    *,
    reopened: bool = False,
    concluded: bool = False,
) -> list[str]:
    """The actions ``roles`` can make now, in the order of ``ACTIONS`` (for showing buttons)."""
    out = []
    for action in ACTIONS:
        try:
            check(state, action, roles, reopened=reopened, concluded=concluded)
        except TransitionRefused:
            continue
        out.append(action)
    return out
