"""The election's lifecycle and its legal calendar (pure: no Flask, no database).

States stored on an election: draft → announced → closed → certified → signed.
"open" is not stored: an announced election is open from ``opens_at`` until ``closes_at``, and
voting stops by the clock, not by a person. Closing records the tally after ``closes_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

STATES = ("draft", "announced", "closed", "certified", "signed")
PHASES = ("draft", "announced", "open", "ended", "closed", "certified", "signed")
MATTERS = ("hire", "renew", "dismiss")
RULES = ("civil-code-278", "civil-code-278-special", "simple-majority")


@dataclass(frozen=True)
class Calendar:
    """Deployment settings of the legal calendar, in days."""

    notice_days: int = 15  # notice (公示) before voting opens
    min_window_days: int = 5
    max_window_days: int = 60
    result_days: int = 3  # result announced within N days of closing
    challenge_days: int = 365  # 1-year window to challenge a decision (Civil Code Art. 280)


class ScheduleError(ValueError):
    """The dates break the calendar; ``code`` names the rule, ``params`` its numbers."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


def phase(status: str, opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> str:
    """Where the election stands at ``now``."""
    if status != "announced":
        return status
    if opens_at is None or closes_at is None or now < opens_at:
        return "announced"
    if now < closes_at:
        return "open"
    return "ended"  # voting is over; waiting for the secretary to close and tally


def check_schedule(
    announce_at: datetime, opens_at: datetime, closes_at: datetime, cal: Calendar
) -> None:
    """Raise ScheduleError unless the notice period and the voting window are lawful.

    The notice period is counted from the announcement: ``opens_at - announce_at`` must be at
    least ``notice_days`` whole days. The window ``closes_at - opens_at`` must be between
    ``min_window_days`` and ``max_window_days`` days, both ends included.
    """
    if opens_at - announce_at < timedelta(days=cal.notice_days):
        raise ScheduleError("notice_too_short", days=cal.notice_days)
    window = closes_at - opens_at
    if window < timedelta(days=cal.min_window_days):
        raise ScheduleError("window_too_short", days=cal.min_window_days)
    if window > timedelta(days=cal.max_window_days):
        raise ScheduleError("window_too_long", days=cal.max_window_days)


def result_due(closes_at: datetime, cal: Calendar) -> datetime:
    return closes_at + timedelta(days=cal.result_days)


def result_late(
    closes_at: datetime, certified_at: datetime | None, now: datetime, cal: Calendar
) -> bool:
    """True when the result was (or still is not) announced after its due time."""
    due = result_due(closes_at, cal)
    return (certified_at or now) > due


def challenge_until(certified_at: datetime, cal: Calendar) -> datetime:
    return certified_at + timedelta(days=cal.challenge_days)


# --- transitions ----------------------------------------------------------------------------

ACTIONS = {
    # action: (allowed phases, new state)
    "edit": (("draft",), "draft"),
    "announce": (("draft",), "announced"),
    "object": (("announced",), "announced"),
    "refreeze": (("announced",), "announced"),
    "vote": (("open",), "announced"),
    "close": (("ended",), "closed"),
    "certify": (("closed",), "certified"),
    "sign": (("certified",), "signed"),
}


class TransitionRefused(ValueError):
    def __init__(self, action: str, current: str):
        super().__init__(f"{action} not allowed in phase {current}")
        self.action = action
        self.current = current


def next_state(action: str, current_phase: str) -> str:
    """The state after ``action`` from ``current_phase``, or TransitionRefused."""
    allowed, new = ACTIONS[action]
    if current_phase not in allowed:
        raise TransitionRefused(action, current_phase)
    return new


def countdown(target: datetime, now: datetime) -> timedelta:
    """Time left until ``target`` (negative when past)."""
    return target - now
