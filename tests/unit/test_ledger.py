"""The ballot ledger: canonical records, the hash chain and where it breaks, receipt codes."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from datetime import UTC, datetime, timedelta, timezone

import pytest

from portal.voting.ledger import (
    GENESIS,
    RECEIPT_ALPHABET,
    build_chain,
    canonical_ballot_record,
    chain_hash,
    format_receipt,
    head_hash,
    new_receipt,
    normalise_receipt,
    verify_chain,
)

SHANGHAI = timezone(timedelta(hours=8))
T0 = datetime(2025, 3, 1, 10, 3, 4, 987654, tzinfo=SHANGHAI)

# ---- canonical records -------------------------------------------------------------------------


def test_canonical_record_exact_text():
    record = canonical_ballot_record("V0001", "B", "online", "ABCDE23456", T0)
    assert record == (
        '{"cast_at":"2025-03-01T02:03:04Z","channel":"online","choice":"B",'
        '"receipt":"ABCDE23456","voter_key":"V0001"}'
    )
    assert "\n" not in record
    assert json.loads(record)["cast_at"] == "2025-03-01T02:03:04Z"


def test_same_instant_in_any_zone_gives_the_same_record():
    utc = T0.astimezone(UTC)
    assert canonical_ballot_record("V1", "A", "paper", "R", T0) == canonical_ballot_record(
        "V1", "A", "paper", "R", utc
    )


def test_microseconds_are_dropped():
    a = canonical_ballot_record("V1", "A", "paper", "R", T0.replace(microsecond=0))
    assert canonical_ballot_record("V1", "A", "paper", "R", T0) == a


def test_every_field_changes_the_record():
    base = ("V1", "A", "online", "R1", T0)
    records = {canonical_ballot_record(*base)}
    for i, other in enumerate(["V2", "B", "paper", "R2", T0 + timedelta(seconds=1)]):
        changed = list(base)
        changed[i] = other
        records.add(canonical_ballot_record(*changed))
    assert len(records) == 6


def test_missing_receipt_is_empty_and_non_ascii_is_kept():
    record = canonical_ballot_record("业主7", "abstain", "proxy", None, T0)
    assert '"receipt":""' in record
    assert "业主7" in record


def test_naive_time_is_refused():
    with pytest.raises(ValueError):
        canonical_ballot_record("V1", "A", "online", "R", datetime(2025, 3, 1, 10, 0))


def test_fields_cannot_be_confused_by_their_content():
    # a choice containing what looks like another field stays inside its JSON string
    a = canonical_ballot_record("V1", 'A","voter_key":"V2', "online", "", T0)
    assert json.loads(a)["voter_key"] == "V1"


# ---- the chain ---------------------------------------------------------------------------------


def test_chain_hash_is_sha256_of_prev_newline_record():
    expected = hashlib.sha256(("0" * 64 + "\n" + "rec").encode("utf-8")).hexdigest()
    assert GENESIS == "0" * 64
    assert chain_hash(GENESIS, "rec") == expected
    assert len(expected) == 64


def make_chain(n: int) -> list[tuple[str, str]]:
    records = [
        canonical_ballot_record(f"V{i:03d}", "AB"[i % 2], "online", f"R{i}", T0 + timedelta(i))
        for i in range(n)
    ]
    return list(zip(records, build_chain(records), strict=True))


def test_build_chain_links_each_entry_to_the_previous_one():
    entries = make_chain(3)
    (r0, h0), (r1, h1), (r2, h2) = entries
    assert h0 == chain_hash(GENESIS, r0)
    assert h1 == chain_hash(h0, r1)
    assert h2 == chain_hash(h1, r2)
    assert head_hash([h for _, h in entries]) == h2
    assert head_hash([]) == GENESIS


def test_whole_chain_verifies():
    assert verify_chain(make_chain(6)) == []
    assert verify_chain([]) == []


@pytest.mark.parametrize("index", [0, 3, 5])
def test_one_edited_record_is_reported_once_at_its_place(index):
    entries = make_chain(6)
    record, stored = entries[index]
    entries[index] = (
        record.replace('"choice":"A"', '"choice":"C"').replace('"choice":"B"', '"choice":"C"'),
        stored,
    )
    assert verify_chain(entries) == [index]


def test_edited_stored_hash_is_reported_there_and_at_the_next_entry():
    entries = make_chain(6)
    entries[2] = (entries[2][0], "f" * 64)
    assert verify_chain(entries) == [2, 3]


def test_record_edited_and_rehashed_is_caught_at_the_next_entry():
    entries = make_chain(6)
    forged = entries[2][0].replace('"choice":"A"', '"choice":"B"')
    entries[2] = (forged, chain_hash(entries[1][1], forged))
    assert verify_chain(entries) == [3]


def test_last_record_rehashed_changes_the_head():
    entries = make_chain(4)
    published_head = entries[-1][1]
    forged = entries[3][0].replace('"choice":"B"', '"choice":"A"')
    entries[3] = (forged, chain_hash(entries[2][1], forged))
    assert verify_chain(entries) == []  # only the published head shows it
    assert head_hash([h for _, h in entries]) != published_head


def test_deleted_entry_is_reported_where_the_gap_is():
    entries = make_chain(6)
    del entries[2]
    assert verify_chain(entries) == [2]


def test_inserted_entry_is_caught():
    entries = make_chain(4)
    extra = canonical_ballot_record("V999", "A", "online", "R999", T0)
    chained = entries[:2] + [(extra, chain_hash(entries[1][1], extra))] + entries[2:]
    assert verify_chain(chained) == [3]
    unchained = entries[:2] + [(extra, "a" * 64)] + entries[2:]
    assert verify_chain(unchained) == [2, 3]


def test_swapped_entries_are_caught():
    entries = make_chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    assert verify_chain(entries) == [1, 2, 3]


# ---- receipts ----------------------------------------------------------------------------------


def test_alphabet_has_no_look_alikes():
    assert not set("0O1IL") & set(RECEIPT_ALPHABET)
    assert len(set(RECEIPT_ALPHABET)) == len(RECEIPT_ALPHABET) == 31
    assert RECEIPT_ALPHABET == RECEIPT_ALPHABET.upper()


def test_new_receipt_from_secrets_by_default():
    codes = {new_receipt() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(RECEIPT_ALPHABET)


def test_new_receipt_with_a_given_rng_is_reproducible():
    assert new_receipt(random.Random(7)) == new_receipt(random.Random(7))
    assert new_receipt(secrets) != new_receipt(secrets)


def test_every_symbol_is_used():
    rng = random.Random(1)
    seen = set("".join(new_receipt(rng) for _ in range(200)))
    assert seen == set(RECEIPT_ALPHABET)


def test_format_receipt_groups_by_five():
    assert format_receipt("ABCDE23456") == "ABCDE-23456"


@pytest.mark.parametrize(
    "typed",
    [
        "ABCDE23456",
        "ABCDE-23456",
        "abcde-23456",
        " abcde 23456 ",
        "AB CDE-234 56",
        "ＡＢＣＤＥ－２３４５６",  # full-width, as a Chinese input method types it
        "abcde—23456",
        "ABCDE\t23456",
    ],
)
def test_normalise_receipt_accepts_what_people_type(typed):
    assert normalise_receipt(typed) == "ABCDE23456"


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "ABCDE-2345",  # 9
        "ABCDE-234567",  # 11
        "ABCDO-23456",  # O is not in the alphabet: no guessing
        "ABCD0-23456",
        "ABCDI-23456",
        "ABCD1-23456",
        "ABCDL-23456",
        "ABCDE.23456",
        "ABCDE/23456",
        "ABCDÉ23456",
    ],
)
def test_normalise_receipt_rejects_what_cannot_be_a_code(typed):
    assert normalise_receipt(typed) is None


def test_round_trip_through_the_printed_form():
    rng = random.Random(3)
    for _ in range(100):
        code = new_receipt(rng)
        assert normalise_receipt(format_receipt(code)) == code
        assert normalise_receipt(format_receipt(code).lower()) == code
