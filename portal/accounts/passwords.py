"""Password hashing (argon2id) and the refusal of common or guessable passwords."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 128
_hasher = PasswordHasher()
_ZH_COMMON = [
    line.strip()
    for line in (Path(__file__).with_name("common_passwords_zh.txt")).read_text().splitlines()
    if line.strip() and not line.startswith("#")
]  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


# A dummy hash to spend the same time on unknown accounts as on known ones.
DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")


def weakness(password: str, user_inputs: list[str]) -> str | None:
    """Why a password is refused, as a message key; None when it is acceptable.

    Keys: ``too_short``, ``too_long``, ``common`` (in the lists of the most used passwords or
    built from the user's own phone or name, as judged by zxcvbn).
    """
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    lowered = password.lower()
    if lowered in _ZH_COMMON:
        return "common"
    result = zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u] + _ZH_COMMON)
    if result["score"] < 2:
        return "common"
    return None
