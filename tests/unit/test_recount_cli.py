"""``flask election recount``: the published files recounted by anyone, with answers worked out
by hand from the law; the canonical roll/ballot CSV, its fingerprint, and reading the files."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from portal.voting.recount_cli import election_cli, recount_command
from portal.voting.rollfile import (
    RecountFileError,
    canonical_ballots_csv,
    canonical_roll_csv,
    parse_ballots_csv,
    parse_roll_csv,
    roll_fingerprint,
)
from portal.voting.tally import BallotRecord, RollEntry, tally

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "recount"
ROLL_HEADER = "voter_key,unit,area_m2"
BALLOT_HEADER = "voter_key,choice,channel,receipt"


def text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


@pytest.fixture
def app():
    app = Flask(__name__)
    app.cli.add_command(election_cli)
    return app


@pytest.fixture
def recount(app, tmp_path):
    """Write the two files and run the command; returns the click result."""

    def run(roll: str | bytes | None, ballots: str | bytes | None, rule: str, *extra: str):
        paths = {}
        for name, content in (("roll.csv", roll), ("ballots.csv", ballots)):
            path = tmp_path / name
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8")
            elif isinstance(content, bytes):
                path.write_bytes(content)
            paths[name] = str(path)
        args = ["election", "recount", "--roll", paths["roll.csv"]]
        args += ["--ballots", paths["ballots.csv"], "--rule", rule, *extra]
        return app.test_cli_runner().invoke(args=args)

    return run


def run_json(recount, roll, ballots, rule) -> dict:
    result = recount(roll, ballots, rule, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1  # exactly one JSON object, on one line
    return json.loads(result.stdout)


# ---- scenario 1: a hire among three candidates, a multi-unit owner, the developer --------------
#
# Roll: 9 owners. O03 owns two units (120.50 + 60.25 = 180.75); the developer's three unsold
# units are one owner DEV (3 × 95.00 = 285.00). Total area:
#   90 + 90 + 180.75 + 100 + 100 + 75 + 75 + 110 + 285 = 1105.75
# Ballots: X99 (line 9) is not on the roll; O01's second ballot (line 10) is a duplicate.
# Participation: O01 O02 O03 O04 DEV O05 O06 = 7 owners (7·3 = 21 >= 9·2 = 18),
#   area 90 + 90 + 180.75 + 100 + 285 + 100 + 75 = 920.75 (×3 = 2762.25 >= ×2 1105.75 = 2211.50).
# B: O01 O02 O03 DEV = 4 owners (4·2 = 8 > 7), 90 + 90 + 180.75 + 285 = 645.75
#   (×2 = 1291.50 > 920.75): approved. A: O04 (100.00). C: O05 (100.00). Abstain: O06 (75.00).
# (Without the developer's ballot B would have had 3 of 6 owners: exactly half, not enough.)

S1_ROLL = text(
    ROLL_HEADER,
    "O01,1-101,90.00",
    "O02,1-102,90.00",
    "O03,1-201,120.50",
    "O03,1-202,60.25",
    "O04,1-301,100.00",
    "O05,1-302,100.00",
    "O06,2-101,75.00",
    "O07,2-102,75.00",
    "O08,2-201,110.00",
    "DEV,2-202,95.00",
    "DEV,2-301,95.00",
    "DEV,2-302,95.00",
)
S1_BALLOTS = text(
    BALLOT_HEADER,
    "O01,B,online,ABCDE23456",  # line 2
    "O02,B,paper,",
    "O03,B,online,",
    "O04,A,online,",  # line 5
    "DEV,B,proxy,",
    "O05,C,paper,",
    "O06,abstain,online,",
    "X99,B,online,",  # line 9: unknown
    "O01,A,online,",  # line 10: duplicate
)
S1_EXPECTED = {
    "rule": "civil-code-278",
    "electorate": {"owners": 9, "area_m2": "1105.75"},
    "participation": {"owners": 7, "area_m2": "920.75", "quorum_met": True},
    "options": [
        {"key": "A", "owners": 1, "area_m2": "100.00"},
        {"key": "B", "owners": 4, "area_m2": "645.75"},
        {"key": "C", "owners": 1, "area_m2": "100.00"},
    ],
    "abstain": {"owners": 1, "area_m2": "75.00"},
    "outcome": "decided",
    "winner": "B",
    "errors": [
        {"line": 9, "voter_key": "X99", "reason": "unknown_voter"},
        {"line": 10, "voter_key": "O01", "reason": "duplicate_voter"},
    ],
}


def test_scenario_decided_hire_among_three_candidates(recount):
    assert run_json(recount, S1_ROLL, S1_BALLOTS, "civil-code-278") == S1_EXPECTED


def test_scenario_without_the_developer_ballot_is_no_majority(recount):
    ballots = S1_BALLOTS.replace("DEV,B,proxy,\n", "")
    data = run_json(recount, S1_ROLL, ballots, "civil-code-278")
    # 6 owners took part (18 >= 18: quorum by headcount), 635.75 m² (1907.25 >= 2211.50? no)
    assert data["participation"] == {"owners": 6, "area_m2": "635.75", "quorum_met": False}
    assert data["outcome"] == "no_quorum"
    assert data["winner"] is None


# ---- scenario 2: no quorum, by area only -------------------------------------------------------
#
# 6 owners: S1–S5 with 50.00 each, BIG with two units 150.00 + 150.00 = 300.00; total 550.00.
# S1–S4 vote yes: 4 owners of 6 (12 >= 12: exactly two thirds, enough by headcount) but
# 200.00 m² of 550.00 (600 < 1100): no quorum, although "yes" has every ballot.

S2_ROLL = text(
    ROLL_HEADER,
    "S1,A-1,50.00",
    "S2,A-2,50.00",
    "S3,A-3,50.00",
    "S4,A-4,50.00",
    "S5,A-5,50.00",
    "BIG,B-1,150.00",
    "BIG,B-2,150.00",
)
S2_BALLOTS = text(
    BALLOT_HEADER, "S1,yes,online,", "S2,yes,paper,", "S3,yes,online,", "S4,yes,proxy,"
)


def test_scenario_no_quorum_by_area_only(recount):
    assert run_json(recount, S2_ROLL, S2_BALLOTS, "civil-code-278") == {
        "rule": "civil-code-278",
        "electorate": {"owners": 6, "area_m2": "550.00"},
        "participation": {"owners": 4, "area_m2": "200.00", "quorum_met": False},
        "options": [{"key": "yes", "owners": 4, "area_m2": "200.00"}],
        "abstain": {"owners": 0, "area_m2": "0.00"},
        "outcome": "no_quorum",
        "winner": None,
        "errors": [],
    }


def test_scenario_no_quorum_is_decided_as_a_consultative_poll(recount):
    data = run_json(recount, S2_ROLL, S2_BALLOTS, "simple-majority")
    assert data["participation"]["quorum_met"] is True
    assert (data["outcome"], data["winner"]) == ("decided", "yes")


# ---- scenario 3: no majority with exactly half -------------------------------------------------
#
# 4 owners of 100.00 each; all vote: P1, P2 yes; P3, P4 no. Quorum: 4 of 4, 400.00 of 400.00.
# "yes": 2 of 4 owners and 200.00 of 400.00 m² — exactly half, which is not "more than half";
# the same for "no". No option is approved.

S3_ROLL = text(ROLL_HEADER, "P1,1,100.00", "P2,2,100.00", "P3,3,100.00", "P4,4,100.00")
S3_BALLOTS = text(
    BALLOT_HEADER, "P1,yes,online,", "P2,yes,online,", "P3,no,online,", "P4,no,paper,"
)


def test_scenario_exactly_half_is_no_majority(recount):
    assert run_json(recount, S3_ROLL, S3_BALLOTS, "civil-code-278") == {
        "rule": "civil-code-278",
        "electorate": {"owners": 4, "area_m2": "400.00"},
        "participation": {"owners": 4, "area_m2": "400.00", "quorum_met": True},
        "options": [
            {"key": "no", "owners": 2, "area_m2": "200.00"},
            {"key": "yes", "owners": 2, "area_m2": "200.00"},
        ],
        "abstain": {"owners": 0, "area_m2": "0.00"},
        "outcome": "no_majority",
        "winner": None,
        "errors": [],
    }


# ---- scenario 4: the special rule, three quarters exactly --------------------------------------
#
# 4 owners: Q1 100.00, Q2 100.00, Q3 two units 50.00 + 50.00 = 100.00, Q4 100.00; total 400.00.
# Q1, Q2, Q3 yes; Q4 no. "yes": 3 of 4 owners (12 >= 12) and 300.00 of 400.00 m² (1200 >= 1200):
# at least three quarters — approved. With Q4 at 100.01 m², 300.00 of 400.01 is below 3/4.

S4_ROLL = text(
    ROLL_HEADER, "Q1,101,100.00", "Q2,102,100.00", "Q3,201,50.00", "Q3,202,50.00", "Q4,301,100.00"
)
S4_BALLOTS = text(
    BALLOT_HEADER, "Q1,yes,online,", "Q2,yes,paper,", "Q3,yes,proxy,", "Q4,no,online,"
)


def test_scenario_special_rule_three_quarters_exactly(recount):
    assert run_json(recount, S4_ROLL, S4_BALLOTS, "civil-code-278-special") == {
        "rule": "civil-code-278-special",
        "electorate": {"owners": 4, "area_m2": "400.00"},
        "participation": {"owners": 4, "area_m2": "400.00", "quorum_met": True},
        "options": [
            {"key": "no", "owners": 1, "area_m2": "100.00"},
            {"key": "yes", "owners": 3, "area_m2": "300.00"},
        ],
        "abstain": {"owners": 0, "area_m2": "0.00"},
        "outcome": "decided",
        "winner": "yes",
        "errors": [],
    }


def test_scenario_special_rule_just_below_three_quarters(recount):
    roll = S4_ROLL.replace("Q4,301,100.00", "Q4,301,100.01")
    data = run_json(recount, roll, S4_BALLOTS, "civil-code-278-special")
    assert data["electorate"] == {"owners": 4, "area_m2": "400.01"}
    assert (data["outcome"], data["winner"]) == ("no_majority", None)
    # more than half is enough under the ordinary rule
    data = run_json(recount, roll, S4_BALLOTS, "civil-code-278")
    assert (data["outcome"], data["winner"]) == ("decided", "yes")


# ---- scenario 5: ballot errors with their line numbers (consultative poll) ----------------------
#
# 3 owners of 100.00. Only R1's first ballot (line 2) counts:
#   line 3 R9 is not on the roll; line 4 R2 has an empty choice (R2's first line: it marks R2);
#   line 5 R2 again: duplicate; line 6 R3 by "fax": not a channel; line 7 R1 again: duplicate;
#   line 8 has no voter_key: not on the roll.
# Simple majority: no quorum needed; "yes" 1 of 1 participant: decided.

S5_ROLL = text(ROLL_HEADER, "R1,1,100.00", "R2,2,100.00", "R3,3,100.00")
S5_BALLOTS = text(
    BALLOT_HEADER,
    "R1,yes,online,ABCDE23456",
    "R9,yes,online,",
    "R2,,paper,",
    "R2,yes,paper,",
    "R3,yes,fax,",
    "R1,no,online,",
    ",yes,online,",
)
S5_EXPECTED = {
    "rule": "simple-majority",
    "electorate": {"owners": 3, "area_m2": "300.00"},
    "participation": {"owners": 1, "area_m2": "100.00", "quorum_met": True},
    "options": [{"key": "yes", "owners": 1, "area_m2": "100.00"}],
    "abstain": {"owners": 0, "area_m2": "0.00"},
    "outcome": "decided",
    "winner": "yes",
    "errors": [
        {"line": 3, "voter_key": "R9", "reason": "unknown_voter"},
        {"line": 4, "voter_key": "R2", "reason": "invalid_choice"},
        {"line": 5, "voter_key": "R2", "reason": "duplicate_voter"},
        {"line": 6, "voter_key": "R3", "reason": "invalid_channel"},
        {"line": 7, "voter_key": "R1", "reason": "duplicate_voter"},
        {"line": 8, "voter_key": "", "reason": "unknown_voter"},
    ],
}


def test_scenario_errors_with_line_numbers(recount):
    assert run_json(recount, S5_ROLL, S5_BALLOTS, "simple-majority") == S5_EXPECTED


def test_same_errors_under_the_civil_code_are_no_quorum(recount):
    data = run_json(recount, S5_ROLL, S5_BALLOTS, "civil-code-278")
    assert data["errors"] == S5_EXPECTED["errors"]
    assert (data["participation"]["quorum_met"], data["outcome"]) == (False, "no_quorum")


def test_windows_files_with_bom_and_crlf_give_the_same_result(recount):
    def windows(s: str) -> bytes:
        return b"\xef\xbb\xbf" + s.replace("\n", "\r\n").encode("utf-8")

    data = run_json(recount, windows(S5_ROLL), windows(S5_BALLOTS), "simple-majority")
    assert data == S5_EXPECTED


def test_blank_lines_keep_the_line_numbers(recount):
    ballots = S5_BALLOTS.replace("R9,yes,online,\n", "\nR9,yes,online,\n")
    data = run_json(recount, S5_ROLL, ballots, "simple-majority")
    assert data["errors"][0] == {"line": 4, "voter_key": "R9", "reason": "unknown_voter"}
    assert data["errors"][-1]["line"] == 9


def test_non_ascii_option_keys_are_printed_as_is(recount):
    result = recount(S3_ROLL, S3_BALLOTS.replace("yes", "同意"), "civil-code-278", "--json")
    assert result.exit_code == 0
    assert '"key": "同意"' in result.stdout


# ---- the sample files --------------------------------------------------------------------------


def test_sample_files_recount_to_the_expected_json(app):
    result = app.test_cli_runner().invoke(
        args=[
            "election",
            "recount",
            "--roll",
            str(SAMPLE / "roll.csv"),
            "--ballots",
            str(SAMPLE / "ballots.csv"),
            "--rule",
            "civil-code-278",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    expected = json.loads((SAMPLE / "expected.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == expected
    assert expected["winner"] == "B"


def test_sample_roll_is_in_canonical_form():
    data = (SAMPLE / "roll.csv").read_bytes()
    assert canonical_roll_csv(parse_roll_csv(data)) == data


def test_command_runs_without_any_app(tmp_path):
    """The command needs no application context: click's own runner, no Flask app."""
    (tmp_path / "r.csv").write_text(S3_ROLL, encoding="utf-8")
    (tmp_path / "b.csv").write_text(S3_BALLOTS, encoding="utf-8")
    args = ["--roll", str(tmp_path / "r.csv"), "--ballots", str(tmp_path / "b.csv")]
    result = CliRunner().invoke(recount_command, [*args, "--rule", "civil-code-278", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "no_majority"


# ---- the human-readable report -----------------------------------------------------------------


def test_plain_english_report(recount):
    result = recount(S1_ROLL, S1_BALLOTS, "civil-code-278")
    assert result.exit_code == 0
    out = result.stdout
    assert "Electorate: 9 owners, 1105.75 m²." in out
    assert "Participation: 7 owners (77.8% of owners) and 920.75 m² (83.3% of area)" in out
    assert "quorum met" in out
    assert (
        "Option B: 4 owners (57.1% of participating owners) and 645.75 m² "
        "(70.1% of participating area) — approved." in out
    )
    assert "Option A: 1 owner (14.3% of participating owners)" in out
    assert "Abstentions: 1 owner, 75.00 m²." in out
    assert "Outcome: decided — B is approved." in out
    assert "line 9: voter X99 — unknown_voter" in out
    assert "line 10: voter O01 — duplicate_voter" in out
    assert not out.lstrip().startswith("{")


def test_plain_english_report_of_a_missing_quorum(recount):
    result = recount(S2_ROLL, S2_BALLOTS, "civil-code-278")
    assert result.exit_code == 0
    # two thirds of 550.00 is 366.666…, so 366.67 m² are needed: 166.67 more
    assert "quorum not met (short by 166.67 m²)" in result.stdout
    assert "would be approved, but there is no quorum" in result.stdout
    assert "Outcome: no quorum" in result.stdout


# ---- exit status 2 -----------------------------------------------------------------------------


def assert_exit_2(result, *fragments: str):
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ")
    for fragment in fragments:
        assert fragment in result.stderr


def test_missing_roll_file(recount):
    assert_exit_2(recount(None, S1_BALLOTS, "civil-code-278", "--json"), "roll file", "not exist")


def test_missing_ballots_file(recount):
    assert_exit_2(recount(S1_ROLL, None, "civil-code-278"), "ballots file", "not exist")


def test_directory_instead_of_a_file(app, tmp_path):
    (tmp_path / "b.csv").write_text(S1_BALLOTS, encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["election", "recount", "--roll", str(tmp_path), "--ballots", str(tmp_path / "b.csv")]
        + ["--rule", "civil-code-278"]
    )
    assert_exit_2(result, "directory")


@pytest.mark.parametrize(
    "header, fragment",
    [
        ("voter,unit,area_m2", "missing voter_key"),
        ("voter_key,unit", "missing area_m2"),
        ("voter_key,unit,area_m2,name", "unexpected 'name'"),
        ("voter_key,unit,area,area_m2", "unexpected 'area'"),
        ("voter_key;unit;area_m2", "missing voter_key"),
    ],
)
def test_wrong_roll_header(recount, header, fragment):
    roll = S3_ROLL.replace(ROLL_HEADER, header)
    assert_exit_2(
        recount(roll, S3_BALLOTS, "civil-code-278"), "roll.csv, line 1", ROLL_HEADER, fragment
    )


@pytest.mark.parametrize(
    "header, fragment",
    [
        ("voter_key,choice,channel", "missing receipt"),
        ("voter_key,option,channel,receipt", "missing choice"),
        ("voter_key,choice,channel,receipt,time", "unexpected 'time'"),
        ("voter_key,choice,choice,channel,receipt", "repeated choice"),
    ],
)
def test_wrong_ballots_header(recount, header, fragment):
    ballots = S3_BALLOTS.replace(BALLOT_HEADER, header)
    assert_exit_2(
        recount(S3_ROLL, ballots, "civil-code-278"),
        "ballots.csv, line 1",
        BALLOT_HEADER,
        fragment,
    )


def test_the_files_swapped_is_a_wrong_header(recount):
    assert_exit_2(recount(S3_BALLOTS, S3_ROLL, "civil-code-278"), "roll.csv, line 1")


@pytest.mark.parametrize("rule", ["civil-code", "CIVIL-CODE-278", "", "majority"])
def test_unknown_rule(recount, rule):
    assert_exit_2(recount(S3_ROLL, S3_BALLOTS, rule, "--json"), "unknown rule", "simple-majority")


@pytest.mark.parametrize("area", ["12.345", "-5", "0", "0.00", "abc", "", "1e3", "12.", "1,5"])
def test_bad_area(recount, area):
    roll = S3_ROLL.replace("P3,3,100.00", f'P3,3,"{area}"')
    assert_exit_2(recount(roll, S3_BALLOTS, "civil-code-278"), "roll.csv, line 4", "area_m2")


def test_roll_row_without_voter_key_or_unit(recount):
    roll = S3_ROLL.replace("P3,3,100.00", ",3,100.00")
    assert_exit_2(recount(roll, S3_BALLOTS, "civil-code-278"), "line 4", "voter_key is empty")
    roll = S3_ROLL.replace("P3,3,100.00", "P3,,100.00")
    assert_exit_2(recount(roll, S3_BALLOTS, "civil-code-278"), "line 4", "unit is empty")


def test_unit_listed_twice(recount):
    roll = S3_ROLL + "P9,2,50.00\n"
    assert_exit_2(
        recount(roll, S3_BALLOTS, "civil-code-278"), "line 6", "'2' is already listed on line 3"
    )


def test_roll_with_a_header_only(recount):
    assert_exit_2(recount(ROLL_HEADER + "\n", S3_BALLOTS, "civil-code-278"), "no units")


@pytest.mark.parametrize("content", ["", "\n\n", b"\xef\xbb\xbf"])
def test_empty_roll_file(recount, content):
    assert_exit_2(recount(content, S3_BALLOTS, "civil-code-278"), "roll.csv is empty")


def test_empty_ballots_file(recount):
    assert_exit_2(recount(S3_ROLL, "", "civil-code-278"), "ballots.csv is empty")


def test_ballots_file_with_a_header_only_is_a_recount_without_ballots(recount):
    data = run_json(recount, S3_ROLL, BALLOT_HEADER + "\n", "civil-code-278")
    assert data["participation"] == {"owners": 0, "area_m2": "0.00", "quorum_met": False}
    assert data["options"] == [] and data["errors"] == []


def test_ballot_row_with_the_wrong_number_of_fields(recount):
    ballots = S3_BALLOTS.replace("P3,no,online,", "P3,no,online")
    assert_exit_2(recount(S3_ROLL, ballots, "civil-code-278"), "ballots.csv, line 4", "3 fields")


def test_roll_that_is_not_utf8(recount):
    roll = ("voter_key,unit,area_m2\n张三,1栋,100.00\n").encode("gbk")
    assert_exit_2(recount(roll, S3_BALLOTS, "civil-code-278"), "roll.csv", "not UTF-8")


def test_unterminated_quote(recount):
    roll = S3_ROLL + 'P9,"5,50.00\n'
    assert_exit_2(recount(roll, S3_BALLOTS, "civil-code-278"), "roll.csv")


# ---- canonical CSV and fingerprint -------------------------------------------------------------

ENTRIES = [
    RollEntry("V2", "2栋-101", Decimal("80.5")),
    RollEntry("V1", "1栋-102", Decimal("90")),
    RollEntry("DEV", "1栋-101", Decimal("100.25")),
    RollEntry("V3", "A,101", Decimal("70.00")),
]
CANONICAL = (
    "voter_key,unit,area_m2\n"
    "DEV,1栋-101,100.25\n"
    "V1,1栋-102,90.00\n"
    "V2,2栋-101,80.50\n"
    'V3,"A,101",70.00\n'
).encode()


def test_canonical_roll_csv_exact_bytes():
    data = canonical_roll_csv(ENTRIES)
    assert data == CANONICAL
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data


def test_canonical_roll_does_not_depend_on_the_order():
    assert canonical_roll_csv(list(reversed(ENTRIES))) == CANONICAL


def test_fingerprint_is_sha256_of_the_canonical_csv():
    assert roll_fingerprint(ENTRIES) == hashlib.sha256(CANONICAL).hexdigest()
    changed = [*ENTRIES[:3], RollEntry("V3", "A,101", Decimal("70.01"))]
    assert roll_fingerprint(changed) != roll_fingerprint(ENTRIES)
    moved = [*ENTRIES[:3], RollEntry("V1", "A,101", Decimal("70.00"))]
    assert roll_fingerprint(moved) != roll_fingerprint(ENTRIES)


def test_canonical_roll_reads_back_and_recounts_the_same():
    parsed = parse_roll_csv(CANONICAL)
    assert sorted(parsed, key=lambda e: e.unit) == sorted(
        [RollEntry(e.voter_key, e.unit, e.area_m2.quantize(Decimal("0.01"))) for e in ENTRIES],
        key=lambda e: e.unit,
    )
    assert canonical_roll_csv(parsed) == CANONICAL


def test_canonical_ballots_csv_sorted_by_voter_and_receipt():
    records = [
        BallotRecord(None, "V2", "B", "paper", "QQQQQ22222"),
        BallotRecord(None, "V1", "abstain", "online", ""),
        BallotRecord(None, "DEV", "A", "proxy", "ZZZZZ33333"),
    ]
    assert canonical_ballots_csv(records) == (
        b"voter_key,choice,channel,receipt\n"
        b"DEV,A,proxy,ZZZZZ33333\n"
        b"V1,abstain,online,\n"
        b"V2,B,paper,QQQQQ22222\n"
    )


def test_portal_downloads_recount_to_the_portal_result(recount):
    """What the portal would publish (canonical files of its roll and counted ballots)
    recounts, through the command, to the same JSON as the portal's own tally."""
    roll = parse_roll_csv(S1_ROLL.encode())
    portal_result = tally(roll, parse_ballots_csv(S1_BALLOTS.encode()), "civil-code-278")
    published_roll = canonical_roll_csv(roll)
    published_ballots = canonical_ballots_csv(portal_result.counted)
    data = run_json(recount, published_roll, published_ballots, "civil-code-278")
    expected = portal_result.to_json_dict()
    expected["errors"] = []  # the published ballots are the counted ones
    assert data == expected


# ---- reading the files -------------------------------------------------------------------------


def test_parse_roll_keeps_rows_in_file_order():
    entries = parse_roll_csv(S1_ROLL.encode())
    assert entries[2] == RollEntry("O03", "1-201", Decimal("120.50"))
    assert len(entries) == 12


def test_header_in_any_order_with_spaces_and_capitals():
    data = text(" Area_m2 , UNIT ,voter_key", " 100 , 1-101 , A ", "50.5,1-102,B").encode()
    assert parse_roll_csv(data) == [
        RollEntry("A", "1-101", Decimal("100")),
        RollEntry("B", "1-102", Decimal("50.5")),
    ]


def test_parse_ballots_with_line_numbers():
    records = parse_ballots_csv(text(BALLOT_HEADER, "V1,A,online,", "", "V2, B ,paper,R").encode())
    assert records == [
        BallotRecord(2, "V1", "A", "online", ""),
        BallotRecord(4, "V2", "B", "paper", "R"),
    ]


def test_quoted_line_break_keeps_following_line_numbers():
    data = text(BALLOT_HEADER, '"V1",A,online,"note', 'two"', "V2,B,paper,").encode()
    records = parse_ballots_csv(data)
    assert [(r.line, r.voter_key) for r in records] == [(2, "V1"), (4, "V2")]


def test_file_error_names_the_file():
    with pytest.raises(RecountFileError, match=r"^election-7-roll\.csv, line 1: "):
        parse_roll_csv(b"a,b,c\n", "election-7-roll.csv")
