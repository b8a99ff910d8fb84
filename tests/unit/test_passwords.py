import pytest

from portal.accounts import passwords


def test_hash_is_argon2id_and_verifies():
    h = passwords.hash_password("a long and unusual phrase")
    assert h.startswith("$argon2id$")
    assert passwords.verify_password(h, "a long and unusual phrase")
    assert not passwords.verify_password(h, "a long and unusual phrasE")
    assert not passwords.verify_password("not-a-hash", "x")


@pytest.mark.parametrize(
    "pw", ["12345678", "password", "qwertyui", "11111111", "woaini1314", "iloveyou", "a1234567"]
)
def test_common_passwords_refused(pw):
    assert passwords.weakness(pw, []) == "common"


def test_password_built_from_own_phone_refused():
    assert passwords.weakness("13812345678", ["13812345678"]) == "common"


def test_length_limits():
    assert passwords.weakness("Ab3$xyz", []) == "too_short"
    assert passwords.weakness("x" * 129, []) == "too_long"


@pytest.mark.parametrize(
    "pw", ["hongwuye-demo-2026", "correct horse battery staple", "湖边的柳树2019秋"]
)
def test_reasonable_passwords_accepted(pw):
    assert passwords.weakness(pw, []) is None
