"""``flask election recount``: anyone can recount a published result from its two files.

Uses only ``rollfile`` and ``tally``: no database, no application context.

Exit status: 0 when the recount ran (ballot errors, if any, are part of the result); 2 with a
message on stderr when a file is missing or unreadable, a header is wrong, a roll row is bad,
the roll is empty or the rule is unknown.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import AppGroup

from portal.voting.rollfile import RecountFileError, parse_ballots_csv, parse_roll_csv
from portal.voting.tally import (
    CIVIL_CODE_278_SPECIAL,
    DECIDED,
    NO_QUORUM,
    RULES,
    SIMPLE_MAJORITY,
    TallyInputError,
    TallyResult,
    format_percent,
    tally,
)

election_cli = AppGroup("election", help="Property-company elections: recount a result.")

_RULE_TEXT = {
    "civil-code-278": (
        "Civil Code Art. 278: participation of at least two thirds of the owners and of the "
        "area; approval by more than half of the participating owners and area"
    ),
    CIVIL_CODE_278_SPECIAL: (
        "Civil Code Art. 278 items 6-8: participation of at least two thirds of the owners and "
        "of the area; approval by at least three quarters of the participating owners and area"
    ),
    SIMPLE_MAJORITY: (
        "simple majority (consultative, not binding): headcount only, no quorum; approval by "
        "more than half of the participating owners"
    ),
}

_REASON_TEXT = {
    "unknown_voter": "not on the roll, not counted",
    "duplicate_voter": "this voter already has a ballot on an earlier line, not counted",
    "invalid_choice": "empty choice, not counted",
    "invalid_channel": "channel is not online, paper or proxy, not counted",
}


class RecountError(click.ClickException):
    """Printed as "Error: …" on stderr; exit status 2."""

    exit_code = 2


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise RecountError(f"the {what} file {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise RecountError(f"the {what} file {str(path)!r} is a directory") from None
    except OSError as exc:
        raise RecountError(f"cannot read the {what} file {str(path)!r}: {exc.strerror}") from None


def run_recount(roll_path: Path, ballots_path: Path, rule: str) -> TallyResult:
    """Read both files and tally them; ``RecountError`` for anything that stops the recount."""
    if rule not in RULES:
        raise RecountError(f"unknown rule {rule!r}: use one of {', '.join(RULES)}")
    roll_data = _read(roll_path, "roll")
    ballots_data = _read(ballots_path, "ballots")
    try:
        roll = parse_roll_csv(roll_data, roll_path.name)
        ballots = parse_ballots_csv(ballots_data, ballots_path.name)
    except RecountFileError as exc:
        raise RecountError(str(exc)) from None
    if not roll:
        raise RecountError(f"{roll_path.name}: the roll has no units")
    try:
        return tally(roll, ballots, rule)
    except TallyInputError as exc:
        raise RecountError(f"{roll_path.name}: {exc}") from None


def _owners(n: int) -> str:
    return f"{n} owner" if n == 1 else f"{n} owners"


def human_report(result: TallyResult) -> list[str]:
    """The result in a few lines of plain English, both measures and the verdict."""
    e, p = result.electorate, result.participation
    lines = [
        f"Rule: {result.rule} — {_RULE_TEXT[result.rule]}.",
        f"Electorate: {_owners(e.owners)}, {e.area_m2:.2f} m².",
    ]
    if result.rule == SIMPLE_MAJORITY:
        quorum = "no quorum needed"
    elif result.quorum_met:
        quorum = "at least two thirds of both: quorum met"
    else:
        short = result.quorum_shortfall()
        missing = []
        if short.owners:
            missing.append(_owners(short.owners))
        if short.area_m2:
            missing.append(f"{short.area_m2:.2f} m²")
        quorum = "below two thirds: quorum not met (short by " + " and ".join(missing) + ")"
    lines.append(
        f"Participation: {_owners(p.owners)} ({format_percent(result.owners_turnout)} of owners) "
        f"and {p.area_m2:.2f} m² ({format_percent(result.area_turnout)} of area) — {quorum}."
    )
    for opt in result.options:
        if not opt.meets_approval:
            verdict = "not approved"
        elif result.quorum_met:
            verdict = "approved"
        else:
            verdict = "would be approved, but there is no quorum"
        lines.append(
            f"Option {opt.key}: {_owners(opt.owners)} "
            f"({format_percent(result.owners_share(opt.key))} of participating owners) and "
            f"{opt.area_m2:.2f} m² ({format_percent(result.area_share(opt.key))} of "
            f"participating area) — {verdict}."
        )
    lines.append(f"Abstentions: {_owners(result.abstain.owners)}, {result.abstain.area_m2:.2f} m².")
    if result.outcome == DECIDED:
        lines.append(f"Outcome: decided — {result.winner} is approved.")
    elif result.outcome == NO_QUORUM:
        lines.append("Outcome: no quorum — nothing is decided.")
    else:
        lines.append("Outcome: no majority — no option is approved.")
    if result.errors:
        lines.append(f"Ballots not counted: {len(result.errors)}.")
        for err in result.errors:
            lines.append(
                f"  line {err.line}: voter {err.voter_key or '(empty)'} — {err.reason} "
                f"({_REASON_TEXT.get(err.reason, 'not counted')})"
            )
    else:
        lines.append("Ballots not counted: none.")
    return lines


@election_cli.command("recount", with_appcontext=False)
@click.option(
    "--roll",
    "roll_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The roll: CSV with header voter_key,unit,area_m2.",
)
@click.option(
    "--ballots",
    "ballots_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The ballots: CSV with header voter_key,choice,channel,receipt.",
)
@click.option(
    "--rule", required=True, help="civil-code-278, civil-code-278-special or simple-majority."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def recount_command(roll_path: Path, ballots_path: Path, rule: str, as_json: bool) -> None:
    """Recount an election from its published roll.csv and ballots.csv.

    Exit status 0 when the recount ran (uncounted ballots are listed with their line numbers),
    2 when a file is missing or wrong, the roll is empty or the rule is unknown.
    """
    result = run_recount(roll_path, ballots_path, rule)
    if as_json:
        click.echo(json.dumps(result.to_json_dict(), ensure_ascii=False))
    else:
        for line in human_report(result):
            click.echo(line)
