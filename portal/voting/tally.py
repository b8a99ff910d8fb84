"""The vote tally under the Civil Code (pure: no Flask, no database, no floats).

The law (Civil Code Art. 278 and 1259; SPC interpretation 法释〔2020〕17号 Art. 8–9):

* Owners are counted by ``voter_key``: one roll row per exclusive unit, and every row with the
  same key is one owner whose area is the sum of those rows (an owner of several units; all the
  developer's unsold units share one key).
* ``civil-code-278``: quorum = participating owners >= 2/3 of all owners AND participating area
  >= 2/3 of the total area ("以上" includes equality). An option is approved when its owners are
  > 1/2 of the participating owners AND its area is > 1/2 of the participating area ("过半数" is
  strictly more than half: exactly half fails).
* ``civil-code-278-special`` (Art. 278 items 6–8): the same quorum; approval needs >= 3/4 of the
  participating owners AND >= 3/4 of the participating area (equality passes).
* ``simple-majority``: a consultative poll by headcount; no quorum; approval = option owners
  > 1/2 of the participating owners. Areas are still reported.
* Participation = owners with a counted ballot, abstentions included. Abstentions are in every
  denominator and never in a numerator.

Every comparison is made on integers: areas are turned into whole hundredths of a square metre
(a roll area has at most two decimals), and ratios are compared by cross-multiplying
(``part * 3 >= whole * 2``). The percentages offered for display (``percent``) are never used for
a verdict.

Ballots are checked in the order given (file order); for each line, in this order:

1. ``unknown_voter``   — the voter_key is not on the roll (nothing is marked);
2. ``duplicate_voter`` — this voter_key already had a line (the first line per voter is the one
   that counts, whatever it was — even an invalid one);
3. ``invalid_choice``  — the choice is empty or blank (or, when the caller passes the list of
   ``options``, not one of them and not ``abstain``);
4. ``invalid_channel`` — the channel is not ``online``, ``paper`` or ``proxy``.

A line with an error is not counted. Leading and trailing spaces of voter_key, choice and channel
are ignored; everything else is compared exactly (``Paper`` is not a channel, ``b`` is not ``B``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

CIVIL_CODE_278 = "civil-code-278"
CIVIL_CODE_278_SPECIAL = "civil-code-278-special"
SIMPLE_MAJORITY = "simple-majority"
RULES = (CIVIL_CODE_278, CIVIL_CODE_278_SPECIAL, SIMPLE_MAJORITY)

ABSTAIN = "abstain"
CHANNELS = ("online", "paper", "proxy")

DECIDED = "decided"
NO_QUORUM = "no_quorum"
NO_MAJORITY = "no_majority"

UNKNOWN_VOTER = "unknown_voter"
DUPLICATE_VOTER = "duplicate_voter"
INVALID_CHOICE = "invalid_choice"
INVALID_CHANNEL = "invalid_channel"

_CENT = Decimal("0.01")


class TallyInputError(ValueError):
    """The tally cannot run: empty roll, bad roll row, unknown rule or bad option list."""


@dataclass(frozen=True)
class RollEntry:
    """One exclusive unit of the frozen roll."""

    voter_key: str
    unit: str
    area_m2: Decimal


@dataclass(frozen=True)
class BallotRecord:
    """One ballot as cast (``line``: its line in BALLOTS.csv, header = 1; None from the db)."""

    line: int | None
    voter_key: str
    choice: str
    channel: str
    receipt: str = ""


@dataclass(frozen=True)
class Totals:
    """A number of owners and the sum of their exclusive areas."""

    owners: int
    area_m2: Decimal


@dataclass(frozen=True)
class OptionTotals:
    """The counted ballots for one option.

    ``meets_approval``: the option reached the rule's approval thresholds among the participants
    (whether the quorum was met or not; the outcome says whether it won).
    """

    key: str
    owners: int
    area_m2: Decimal
    meets_approval: bool = False


@dataclass(frozen=True)
class BallotError:
    line: int | None
    voter_key: str
    reason: str


@dataclass(frozen=True)
class TallyResult:
    rule: str
    electorate: Totals
    participation: Totals
    quorum_met: bool
    options: tuple[OptionTotals, ...]
    abstain: Totals
    outcome: str
    winner: str | None
    errors: tuple[BallotError, ...]
    counted: tuple[BallotRecord, ...] = ()
    """The ballots that counted, in the order given (for receipt lookups)."""

    # ---- exact ratios, for display ---------------------------------------------------------

    @property
    def owners_turnout(self) -> Fraction:
        """Participating owners / all owners."""
        return ratio(self.participation.owners, self.electorate.owners)

    @property
    def area_turnout(self) -> Fraction:
        """Participating area / total area."""
        return ratio(_cents(self.participation.area_m2), _cents(self.electorate.area_m2))

    def option(self, key: str) -> OptionTotals | None:
        for opt in self.options:
            if opt.key == key:
                return opt
        return None

    def owners_share(self, key: str) -> Fraction:
        """The option's owners / participating owners (0 for an option without ballots)."""
        opt = self.option(key)
        return ratio(opt.owners if opt else 0, self.participation.owners)

    def area_share(self, key: str) -> Fraction:
        """The option's area / participating area (0 for an option without ballots)."""
        opt = self.option(key)
        part = _cents(opt.area_m2) if opt else 0
        return ratio(part, _cents(self.participation.area_m2))

    def quorum_shortfall(self) -> Totals:
        """Owners and area still missing to reach the quorum line (zeros when met)."""
        return quorum_shortfall(self.rule, self.electorate, self.participation)

    # ---- the published JSON ----------------------------------------------------------------

    def to_json_dict(self) -> dict:
        """The object printed by ``flask election recount --json`` (areas: two-decimal strings)."""
        return {
            "rule": self.rule,
            "electorate": {
                "owners": self.electorate.owners,
                "area_m2": format_area(self.electorate.area_m2),
            },
            "participation": {
                "owners": self.participation.owners,
                "area_m2": format_area(self.participation.area_m2),
                "quorum_met": self.quorum_met,
            },
            "options": [
                {"key": o.key, "owners": o.owners, "area_m2": format_area(o.area_m2)}
                for o in self.options
            ],
            "abstain": {
                "owners": self.abstain.owners,
                "area_m2": format_area(self.abstain.area_m2),
            },
            "outcome": self.outcome,
            "winner": self.winner,
            "errors": [
                {"line": e.line, "voter_key": e.voter_key, "reason": e.reason} for e in self.errors
            ],
        }


# ---- numbers --------------------------------------------------------------------------------


def _cents(area: Decimal) -> int:
    """An area with at most two decimals as whole hundredths of a m² (exact)."""
    try:
        value = Decimal(area)
        exact = value.is_finite() and value == value.quantize(_CENT)
    except (InvalidOperation, TypeError, ValueError):
        exact = False
    if not exact:
        raise TallyInputError(f"area {area!r} is not a number with at most two decimals")
    return int(value.scaleb(2))


def _area(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2).quantize(_CENT)


def format_area(area: Decimal) -> str:
    """An area as a string with exactly two decimals: ``Decimal("4500") -> "4500.00"``."""
    cents = _cents(area)
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def ratio(part: int, whole: int) -> Fraction:
    """``part / whole`` exactly; 0 when ``whole`` is 0."""
    return Fraction(part, whole) if whole else Fraction(0)


def percent(value: Fraction) -> Decimal:
    """``value`` as a percentage with one decimal, rounded half up: 5/7 -> Decimal("71.4").

    For display only — verdicts never use it. Computed on integers, so exact: the rounding
    looks at the true value, not at a truncated decimal expansion.
    """
    value = Fraction(value)
    if value < 0:
        return -percent(-value)
    tenths, rest = divmod(value.numerator * 1000, value.denominator)
    if rest * 2 >= value.denominator:
        tenths += 1
    return Decimal(tenths).scaleb(-1).quantize(Decimal("0.1"))


def format_percent(value: Fraction) -> str:
    """``percent(value)`` followed by "%": 5/7 -> "71.4%"."""
    return f"{percent(value)}%"


# ---- the law --------------------------------------------------------------------------------


def check_rule(rule: str) -> str:
    if rule not in RULES:
        raise TallyInputError(f"unknown rule {rule!r}: use one of {', '.join(RULES)}")
    return rule


def quorum_reached(rule: str, owners: int, cents: int, total_owners: int, total_cents: int) -> bool:
    """Participation against the rule's line, on integers (area in hundredths of a m²)."""
    check_rule(rule)
    if rule == SIMPLE_MAJORITY:
        return True
    return owners * 3 >= total_owners * 2 and cents * 3 >= total_cents * 2


def approval_reached(rule: str, owners: int, cents: int, part_owners: int, part_cents: int) -> bool:
    """An option's owners and area against the participants, on integers."""
    check_rule(rule)
    if owners <= 0:
        return False
    if rule == SIMPLE_MAJORITY:
        return owners * 2 > part_owners
    if rule == CIVIL_CODE_278_SPECIAL:
        return owners * 4 >= part_owners * 3 and cents * 4 >= part_cents * 3
    return owners * 2 > part_owners and cents * 2 > part_cents


def quorum_shortfall(rule: str, electorate: Totals, participation: Totals) -> Totals:
    """How many more owners, and how much more area, the quorum needs (zeros when reached).

    The two are independent lines: the owners missing assume any owner, the area missing any
    area (the live turnout shows "still short by N owners / X m²").
    """
    check_rule(rule)
    if rule == SIMPLE_MAJORITY:
        return Totals(0, _area(0))
    need_owners = -(-electorate.owners * 2 // 3)  # ceil(2n/3): the least p with 3p >= 2n
    need_cents = -(-_cents(electorate.area_m2) * 2 // 3)
    return Totals(
        max(0, need_owners - participation.owners),
        _area(max(0, need_cents - _cents(participation.area_m2))),
    )


# ---- the roll -------------------------------------------------------------------------------


def _owner_cents(roll: Iterable[RollEntry]) -> dict[str, int]:
    owners: dict[str, int] = {}
    units: set[str] = set()
    for entry in roll:
        key = (entry.voter_key or "").strip()
        unit = (entry.unit or "").strip()
        if not key:
            raise TallyInputError(f"roll unit {unit!r} has no voter_key")
        if not unit:
            raise TallyInputError(f"roll row of voter {key!r} has no unit")
        if unit in units:
            raise TallyInputError(f"unit {unit!r} is on the roll twice")
        units.add(unit)
        cents = _cents(entry.area_m2)
        if cents <= 0:
            raise TallyInputError(f"unit {unit!r} has an area that is not positive")
        owners[key] = owners.get(key, 0) + cents
    if not owners:
        raise TallyInputError("the roll is empty")
    return owners


def owner_areas(roll: Iterable[RollEntry]) -> dict[str, Decimal]:
    """Each owner (voter_key) with the sum of the areas of their units."""
    return {key: _area(c) for key, c in _owner_cents(roll).items()}


def electorate_of(roll: Iterable[RollEntry]) -> Totals:
    """All owners of the roll, counted once each, and the total area."""
    owners = _owner_cents(roll)
    return Totals(len(owners), _area(sum(owners.values())))


def participation_of(roll: Iterable[RollEntry], voter_keys: Iterable[str]) -> Totals:
    """The owners among ``voter_keys`` (keys off the roll are ignored) and their area.

    For the live turnout, which knows who voted and never what they chose.
    """
    owners = _owner_cents(roll)
    seen = {k.strip() for k in voter_keys} & owners.keys()
    return Totals(len(seen), _area(sum(owners[k] for k in seen)))


# ---- the tally ------------------------------------------------------------------------------


def tally(
    roll: Sequence[RollEntry],
    ballots: Iterable[BallotRecord],
    rule: str,
    options: Iterable[str] | None = None,
) -> TallyResult:
    """Count ``ballots`` against ``roll`` under ``rule``.

    ``options``: when given, the only valid choices (besides ``abstain``); the recount command
    passes None, and then any non-blank choice is an option key.

    Raises ``TallyInputError`` (a ValueError) for an unknown rule, an empty roll, a roll row
    without voter_key or unit, a unit listed twice, an area that is not positive or has more
    than two decimals, or an option list containing ``abstain``.
    """
    check_rule(rule)
    owner_cents = _owner_cents(roll)
    allowed: set[str] | None = None
    if options is not None:
        allowed = {o.strip() for o in options}
        if ABSTAIN in allowed or "" in allowed:
            raise TallyInputError("an option key cannot be empty or 'abstain'")

    errors: list[BallotError] = []
    counted: list[BallotRecord] = []
    seen: set[str] = set()
    for ballot in ballots:
        key = (ballot.voter_key or "").strip()
        choice = (ballot.choice or "").strip()
        channel = (ballot.channel or "").strip()
        reason = None
        if key not in owner_cents:
            reason = UNKNOWN_VOTER
        elif key in seen:
            reason = DUPLICATE_VOTER
        else:
            seen.add(key)
            if not choice or (allowed is not None and choice != ABSTAIN and choice not in allowed):
                reason = INVALID_CHOICE
            elif channel not in CHANNELS:
                reason = INVALID_CHANNEL
        if reason:
            errors.append(BallotError(ballot.line, key, reason))
        else:
            counted.append(ballot)

    per_choice: dict[str, list[int]] = {}  # choice -> [owners, cents]
    for ballot in counted:
        bucket = per_choice.setdefault(ballot.choice.strip(), [0, 0])
        bucket[0] += 1
        bucket[1] += owner_cents[ballot.voter_key.strip()]

    total_owners, total_cents = len(owner_cents), sum(owner_cents.values())
    part_owners = len(counted)
    part_cents = sum(b[1] for b in per_choice.values())
    quorum = quorum_reached(rule, part_owners, part_cents, total_owners, total_cents)

    abstain_owners, abstain_cents = per_choice.pop(ABSTAIN, (0, 0))
    option_totals = tuple(
        OptionTotals(
            key,
            owners,
            _area(cents),
            approval_reached(rule, owners, cents, part_owners, part_cents),
        )
        for key, (owners, cents) in sorted(per_choice.items())
    )
    approved = [o.key for o in option_totals if o.meets_approval]
    # Under every rule, at most one option can reach approval (more than half, or 3/4).
    assert len(approved) <= 1, approved
    if not quorum:
        outcome, winner = NO_QUORUM, None
    elif approved:
        outcome, winner = DECIDED, approved[0]
    else:
        outcome, winner = NO_MAJORITY, None

    return TallyResult(
        rule=rule,
        electorate=Totals(total_owners, _area(total_cents)),
        participation=Totals(part_owners, _area(part_cents)),
        quorum_met=quorum,
        options=option_totals,
        abstain=Totals(abstain_owners, _area(abstain_cents)),
        outcome=outcome,
        winner=winner,
        errors=tuple(errors),
        counted=tuple(counted),
    )
