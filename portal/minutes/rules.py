"""The rules of minutes that need no database and no Flask: the revision states, the
two-person confirmation, and the checks of a meeting's record. (Pure.)"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("committee", "assembly", "joint")
# (state, action) -> next state
TRANSITIONS = {
    ("draft", "edit"): "draft",
    ("draft", "submit"): "submitted",
    ("submitted", "return"): "draft",
    ("submitted", "confirm"): "published",
}
MAX_NAMES = 500
MAX_DECISIONS = 50


class TransitionRefused(Exception):
    def __init__(self, state: str, action: str):
        super().__init__(f"{action} is not possible in state {state}")
        self.state = state
        self.action = action


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionRefused(state, action) from None


def may_confirm(author_id: int, confirmer_id: int, confirmer_is_member: bool) -> bool:
    """A second person confirms: a committee member of the compound who is not the author."""
    return confirmer_is_member and confirmer_id != author_id


def may_record(kind: str, is_member: bool, is_secretary: bool) -> bool:
    """Committee members record every kind of meeting; the community secretary records joint
    meetings (of the owners' committee with the residents' committee)."""
    if kind not in KINDS:
        return False
    return is_member or (is_secretary and kind == "joint")


@dataclass(frozen=True)
class DecisionInput:
    text: str
    votes_for: int
    votes_against: int
    votes_abstain: int

    @property
    def total(self) -> int:
        return self.votes_for + self.votes_against + self.votes_abstain

    @property
    def blank(self) -> bool:
        return not self.text.strip() and self.total == 0


@dataclass(frozen=True)
class Problem:
    """``field`` names the input (``decision`` with ``index`` for a decision); ``code`` the
    message (translated by the service)."""

    field: str
    code: str
    index: int | None = None


def parse_names(text: str | None) -> list[str]:
    """One name per line (also accepts 、，, and ; between names); blanks dropped."""
    raw = (text or "").replace("、", "\n").replace("，", "\n").replace(",", "\n")
    raw = raw.replace(";", "\n").replace("；", "\n")
    return [n for n in (part.strip() for part in raw.splitlines()) if n]


def check_record(
    kind: str,
    attendees_count: int,
    names: list[str],
    decisions: list[DecisionInput],
) -> list[Problem]:
    """What is wrong with a meeting's record (empty: nothing).

    * the attendees' count is at least 1, and at least the number of names listed;
    * every decision has a text and no negative vote;
    * at a committee or joint meeting only those present vote: a decision's votes add up to at
      most the attendees (an owners' assembly also counts written votes of owners not present).
    """
    problems = []
    if kind not in KINDS:
        problems.append(Problem("kind", "kind_unknown"))
    if attendees_count < 1:
        problems.append(Problem("attendees_count", "attendees_none"))
    elif len(names) > attendees_count:
        problems.append(Problem("attendee_names", "names_exceed_count"))
    if len(names) > MAX_NAMES:
        problems.append(Problem("attendee_names", "names_too_many"))
    kept = [d for d in decisions if not d.blank]
    if len(kept) > MAX_DECISIONS:
        problems.append(Problem("decisions", "decisions_too_many"))
    for i, d in enumerate(decisions):
        if d.blank:
            continue
        if not d.text.strip():
            problems.append(Problem("decision", "decision_text_missing", i))
        if min(d.votes_for, d.votes_against, d.votes_abstain) < 0:
            problems.append(Problem("decision", "votes_negative", i))
        elif kind in ("committee", "joint") and attendees_count >= 1 and d.total > attendees_count:
            problems.append(Problem("decision", "votes_exceed_attendees", i))
    return problems
