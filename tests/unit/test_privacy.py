import pytest

from portal.privacy import mask_name, mask_phone, phone_last4


@pytest.mark.parametrize(
    "name, masked",
    [
        ("张三", "张*"),
        ("王华艳", "王**"),
        ("欧阳娜娜", "欧***"),
        ("李", "李*"),
        ("", ""),
        (None, ""),
    ],
)
def test_names_keep_only_the_first_character(name, masked):
    assert mask_name(name) == masked


def test_latin_names_keep_initial():
    assert mask_name("John Smith") == "J.*"


@pytest.mark.parametrize(
    "phone, masked",
    [("13812345678", "138****5678"), ("", ""), (None, ""), ("12345", "*****")],
)
def test_phones_show_prefix_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


def test_last4():
    assert phone_last4("13812345678") == "5678"
    assert phone_last4(None) == ""
