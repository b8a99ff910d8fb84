"""The ledger: a hash chain over the accepted ballots, and receipt codes (pure: no Flask, no db).

Each accepted ballot is written as one canonical record (``canonical_ballot_record``) and
appended to the election's chain::

    hash_1 = chain_hash(GENESIS, record_1)
    hash_n = chain_hash(hash_{n-1}, record_n)       chain_hash = sha256(prev + "\\n" + record)

The last hash is the head, published and updated live. ``verify_chain`` recomputes the chain
from stored (record, hash) pairs and returns the positions where it breaks.

Receipt codes are 10 characters from an alphabet without the look-alikes 0, O, 1, I and L,
stored bare (``new_receipt``) and shown grouped as ``ABCDE-23456`` (``format_receipt``);
``normalise_receipt`` turns what a resident types back into the bare code.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import UTC, datetime

GENESIS = "0" * 64

RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
RECEIPT_LENGTH = 10
_RECEIPT_CHARS = frozenset(RECEIPT_ALPHABET)
# What people type between the groups: spaces and dashes of every width (NFKC makes the
# full-width forms ASCII before this is applied).
_RECEIPT_SEPARATORS = frozenset(" -_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc")


def format_cast_at(cast_at: datetime) -> str:
    """An aware datetime as ISO 8601 UTC to the second: ``2025-03-01T02:03:04Z``."""
    if cast_at.tzinfo is None or cast_at.utcoffset() is None:
        raise ValueError("cast_at must be timezone-aware")
    return cast_at.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_ballot_record(
    voter_key: str,
    choice: str,
    channel: str,
    receipt: str | None,
    cast_at: datetime,
) -> str:
    """One accepted ballot as a deterministic one-line string (what the chain hashes).

    JSON with sorted keys, no spaces, non-ASCII kept as is (UTF-8 when hashed); a missing
    receipt is ``""``; ``cast_at`` in UTC to the second (microseconds are dropped, so the
    stored time may be more precise than the record)::

        {"cast_at":"2025-03-01T02:03:04Z","channel":"online","choice":"B",
         "receipt":"ABCDE23456","voter_key":"V0001"}
    """
    return json.dumps(
        {
            "cast_at": format_cast_at(cast_at),
            "channel": channel,
            "choice": choice,
            "receipt": receipt or "",
            "voter_key": voter_key,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def chain_hash(prev_hash: str, record: str) -> str:
    """SHA-256 (hex) of ``prev_hash + "\\n" + record`` in UTF-8."""
    return hashlib.sha256(f"{prev_hash}\n{record}".encode()).hexdigest()


def build_chain(records: Iterable[str], genesis: str = GENESIS) -> list[str]:
    """The hashes of ``records`` appended in order to an empty chain."""
    hashes: list[str] = []
    prev = genesis
    for record in records:
        prev = chain_hash(prev, record)
        hashes.append(prev)
    return hashes


def head_hash(hashes: list[str], genesis: str = GENESIS) -> str:
    """The head of a chain: its last hash, or the genesis value while it is empty."""
    return hashes[-1] if hashes else genesis


def verify_chain(entries: Iterable[tuple[str, str]], genesis: str = GENESIS) -> list[int]:
    """The indexes (0-based) of the entries whose stored hash is not
    ``chain_hash(previous stored hash, record)``; ``[]`` when the chain is whole.

    Each entry is checked against the *stored* hash of the one before it (the genesis value for
    the first), not against a recomputed one, so an edited record is reported once, at its own
    index, and the entries after it are not all reported too:

    * a record edited (its hash left alone): reported at that record's index only;
    * a stored hash edited: reported at that index and at the next one;
    * a record edited and its hash recomputed from the previous one: reported at the *next*
      index only (if it was the last entry, only the published head can tell — compare it);
    * an entry deleted: reported at the index that now follows the gap;
    * an entry inserted: reported at the entry after it (and at the inserted one too unless its
      hash was chained from the one before).

    Rewriting the whole tail consistently is invisible here; that is why the head is published.
    """
    broken: list[int] = []
    prev = genesis
    for index, (record, stored) in enumerate(entries):
        if chain_hash(prev, record) != stored:
            broken.append(index)
        prev = stored
    return broken


# ---- receipts ----------------------------------------------------------------------------------


def new_receipt(rng=secrets) -> str:
    """A fresh receipt code: 10 characters of ``RECEIPT_ALPHABET``, bare (no dash).

    ``rng`` is anything with ``choice`` (the ``secrets`` module; a seeded ``random.Random`` in
    tests). 31 symbols ** 10 is about 8e14 codes (~49.5 bits).
    """
    return "".join(rng.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def format_receipt(code: str) -> str:
    """The bare code grouped for people: ``ABCDE23456 -> ABCDE-23456``."""
    return f"{code[:5]}-{code[5:]}"


def normalise_receipt(text: str | None) -> str | None:
    """What a resident typed as the bare code, or None when it cannot be a receipt.

    Full-width characters become ASCII, letters are upper-cased, spaces and dashes are dropped;
    any other character outside the alphabet (including 0, O, 1, I, L — which no code contains,
    so none is guessed at) makes it None, as does a length other than 10.
    """
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text)).upper()
    s = "".join(ch for ch in s if ch not in _RECEIPT_SEPARATORS and not ch.isspace())
    if len(s) != RECEIPT_LENGTH or not set(s) <= _RECEIPT_CHARS:
        return None
    return s
