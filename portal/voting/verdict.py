"""An election's result in plain words, for residents.

Every judgement in the words ("at least two thirds", "more than half", "fell short") is taken
from the exact fractions of the tally (``TallyResult.owners_turnout``, ``area_turnout``,
``owners_share``, ``area_share``) and from its recorded outcome; the percentages written in the
sentences (``tally.format_percent``, one decimal) are for reading only and decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import ngettext

from portal.i18n import fmt_area, fmt_number
from portal.voting import tally

TWO_THIRDS = Fraction(2, 3)


@dataclass(frozen=True)
class Verdict:
    outcome: str
    binding: bool
    headline: str
    participation: str
    shortfall: str | None
    approval: str
    abstentions: str
    uncounted: str | None

    @property
    def sentences(self) -> list[str]:
        """The explanation under the headline, in reading order."""
        return [
            s
            for s in (
                self.participation,
                self.shortfall,
                self.approval,
                self.abstentions,
                self.uncounted,
            )
            if s
        ]


# ---- the recorded result ------------------------------------------------------------------


def _cents(area: Decimal) -> int:
    return int(Decimal(area).scaleb(2))


def result_from_json(data: dict) -> tally.TallyResult:
    """The TallyResult of a recorded result (``TallyResult.to_json_dict()``), so that the page
    shows what was recorded and certified, with the same exact ratios as a fresh tally."""
    rule = tally.check_rule(data["rule"])
    part = data["participation"]
    participation = tally.Totals(part["owners"], Decimal(part["area_m2"]))
    part_cents = _cents(participation.area_m2)
    options = tuple(
        tally.OptionTotals(
            o["key"],
            o["owners"],
            Decimal(o["area_m2"]),
            tally.approval_reached(
                rule,
                o["owners"],
                _cents(Decimal(o["area_m2"])),
                participation.owners,
                part_cents,
            ),
        )
        for o in data["options"]
    )
    return tally.TallyResult(
        rule=rule,
        electorate=tally.Totals(
            data["electorate"]["owners"], Decimal(data["electorate"]["area_m2"])
        ),
        participation=participation,
        quorum_met=part["quorum_met"],
        options=options,
        abstain=tally.Totals(data["abstain"]["owners"], Decimal(data["abstain"]["area_m2"])),
        outcome=data["outcome"],
        winner=data["winner"],
        errors=tuple(
            tally.BallotError(e.get("line"), e.get("voter_key", ""), e.get("reason", ""))
            for e in data.get("errors", [])
        ),
    )


# ---- words ------------------------------------------------------------------------------------


def best_options(result: tally.TallyResult) -> list[tally.OptionTotals]:
    """The option(s) with the largest share of participating owners, then of area (several
    when they tie on both); empty when no option received a ballot."""
    scored = [((result.owners_share(o.key), result.area_share(o.key)), o) for o in result.options]
    if not scored:
        return []
    top = max(score for score, _o in scored)
    return [o for score, o in scored if score == top]


def _best_name(best: list[tally.OptionTotals], names: dict[str, str]) -> str:
    return " / ".join(names.get(o.key, o.key) for o in best)


def _threshold(rule: str) -> str:
    if rule == tally.CIVIL_CODE_278_SPECIAL:
        return _("at least three quarters of both")
    return _("more than half of both")


def _consequence(matter: str, winner: str | None) -> str:
    if matter == "renew":
        if winner == "yes":
            return _("the current company is renewed")
        return _("the current company is not renewed")
    if matter == "dismiss":
        if winner == "yes":
            return _("the current company is dismissed")
        return _("the current company stays")
    return _("elected")


def _headline(result: tally.TallyResult, matter: str, name: str) -> str:
    if result.outcome == tally.NO_QUORUM:
        return _("Not decided: not enough owners took part.")
    if result.rule == tally.SIMPLE_MAJORITY:
        if result.outcome == tally.DECIDED:
            return _(
                "Most participating owners chose %(option)s. This poll is not binding.", option=name
            )
        return _(
            "No option was chosen by more than half of the participating owners. "
            "This poll is not binding."
        )
    if result.outcome != tally.DECIDED:
        return _("Not decided: no option was approved.")
    if matter == "renew":
        if result.winner == "yes":
            return _("The owners renewed the current property company.")
        return _("The owners decided not to renew the current property company.")
    if matter == "dismiss":
        if result.winner == "yes":
            return _("The owners dismissed the current property company.")
        return _("The owners decided to keep the current property company.")
    return _("%(option)s is elected.", option=name)


def _participation(result: tally.TallyResult) -> str:
    p, e = result.participation, result.electorate
    numbers = {
        "owners_pct": tally.format_percent(result.owners_turnout),
        "owners": fmt_number(p.owners),
        "total_owners": fmt_number(e.owners),
        "area_pct": tally.format_percent(result.area_turnout),
        "area": fmt_area(p.area_m2),
        "total_area": fmt_area(e.area_m2),
    }
    if result.rule == tally.SIMPLE_MAJORITY:
        return _(
            "Participation: %(owners_pct)s of owners (%(owners)s of %(total_owners)s). "
            "A consultative poll counts owners by head only and needs no quorum; "
            "it is not binding.",
            owners_pct=numbers["owners_pct"],
            owners=numbers["owners"],
            total_owners=numbers["total_owners"],
        )
    both = result.owners_turnout >= TWO_THIRDS and result.area_turnout >= TWO_THIRDS
    if both:
        return _(
            "Participation: %(owners_pct)s of owners (%(owners)s of %(total_owners)s) and "
            "%(area_pct)s of area (%(area)s of %(total_area)s m²) — at least two thirds of "
            "both: the quorum is reached.",
            **numbers,
        )
    return _(
        "Participation: %(owners_pct)s of owners (%(owners)s of %(total_owners)s) and "
        "%(area_pct)s of area (%(area)s of %(total_area)s m²) — not both at two thirds: "
        "the quorum is not reached.",
        **numbers,
    )


def _shortfall(result: tally.TallyResult) -> str | None:
    if result.rule == tally.SIMPLE_MAJORITY or result.outcome != tally.NO_QUORUM:
        return None
    short = result.quorum_shortfall()
    owners_short = result.owners_turnout < TWO_THIRDS
    area_short = result.area_turnout < TWO_THIRDS
    if owners_short and area_short:
        return ngettext(
            "Both measures fell short of two thirds: %(num)d more owner and %(area)s m² more "
            "area were needed.",
            "Both measures fell short of two thirds: %(num)d more owners and %(area)s m² more "
            "area were needed.",
            short.owners,
            area=fmt_area(short.area_m2),
        )
    if owners_short:
        return ngettext(
            "The owners fell short: %(num)d more owner was needed to reach two thirds; "
            "the area reached two thirds.",
            "The owners fell short: %(num)d more owners were needed to reach two thirds; "
            "the area reached two thirds.",
            short.owners,
        )
    return _(
        "The area fell short: %(area)s m² more was needed to reach two thirds; "
        "the owners reached two thirds.",
        area=fmt_area(short.area_m2),
    )


def _approval(result: tally.TallyResult, matter: str, names: dict[str, str]) -> str:
    tied = best_options(result)
    best = tied[0] if tied else None
    if result.rule == tally.SIMPLE_MAJORITY:
        if best is None:
            return _("No option was chosen: every participating owner abstained.")
        numbers = {
            "option": _best_name(tied, names),
            "owners_pct": tally.format_percent(result.owners_share(best.key)),
            "owners": fmt_number(best.owners),
            "part": fmt_number(result.participation.owners),
        }
        if result.outcome == tally.DECIDED:
            return _(
                "%(option)s was chosen by %(owners_pct)s of participating owners (%(owners)s of "
                "%(part)s) — more than half: the most supported answer.",
                **numbers,
            )
        return _(
            "No option was chosen by more than half of participating owners: the most "
            "supported, %(option)s, had %(owners_pct)s (%(owners)s of %(part)s).",
            **numbers,
        )
    if result.outcome == tally.NO_QUORUM:
        return _(
            "Without the quorum no option can be approved, whatever the count: nothing is decided."
        )
    if best is None:
        return _("No option was approved: every participating owner abstained.")
    if result.outcome == tally.DECIDED:
        key = result.winner
        numbers = {
            "option": names.get(key, key),
            "owners_pct": tally.format_percent(result.owners_share(key)),
            "area_pct": tally.format_percent(result.area_share(key)),
            "threshold": _threshold(result.rule),
            "consequence": _consequence(matter, key),
        }
        if matter == "hire":
            return _(
                "%(option)s approved by %(owners_pct)s of participating owners and "
                "%(area_pct)s of participating area — %(threshold)s: %(consequence)s.",
                **numbers,
            )
        return _(
            "%(option)s: the answer of %(owners_pct)s of participating owners and "
            "%(area_pct)s of participating area — %(threshold)s: %(consequence)s.",
            **numbers,
        )
    return _(
        "No option was approved: the most supported, %(option)s, had %(owners_pct)s of "
        "participating owners and %(area_pct)s of participating area; %(threshold)s was needed.",
        option=_best_name(tied, names),
        owners_pct=tally.format_percent(result.owners_share(best.key)),
        area_pct=tally.format_percent(result.area_share(best.key)),
        threshold=_threshold(result.rule),
    )


def _abstentions(result: tally.TallyResult) -> str:
    if not result.abstain.owners:
        return _("No owner abstained.")
    return ngettext(
        "%(num)d owner abstained (%(area)s m²). Abstentions count toward participation, "
        "never toward approval.",
        "%(num)d owners abstained (%(area)s m²). Abstentions count toward participation, "
        "never toward approval.",
        result.abstain.owners,
        area=fmt_area(result.abstain.area_m2),
    )


def _uncounted(result: tally.TallyResult) -> str | None:
    if not result.errors:
        return None
    return ngettext(
        "%(num)d ballot was not counted; the recount lists it with its reason.",
        "%(num)d ballots were not counted; the recount lists them with their reasons.",
        len(result.errors),
    )


def verdict(result: tally.TallyResult, matter: str, names: dict[str, str]) -> Verdict:
    """The plain-words verdict. ``names``: option key -> what voters read (company, Yes/No)."""
    winner_name = names.get(result.winner, result.winner or "")
    return Verdict(
        outcome=result.outcome,
        binding=result.rule != tally.SIMPLE_MAJORITY,
        headline=_headline(result, matter, winner_name),
        participation=_participation(result),
        shortfall=_shortfall(result),
        approval=_approval(result, matter, names),
        abstentions=_abstentions(result),
        uncounted=_uncounted(result),
    )
