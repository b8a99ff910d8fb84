"""Every user-visible message has a Chinese translation with the same placeholders."""

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _source_messages() -> set[str]:
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.do"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = set()
    for _fn, _lineno, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        method_map,
        options,
        keywords=keywords,
        directory_filter=lambda d: not Path(d).name.startswith("."),
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.fixture(scope="module")
def zh_catalog():
    with ZH.open("rb") as fh:
        return read_po(fh, locale="zh_Hans_CN")


def test_every_source_message_has_a_chinese_translation(zh_catalog):
    source = _source_messages()
    assert len(source) > 100
    translated = {}
    for msg in zh_catalog:
        if not msg.id:
            continue
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        if all(strings) and "fuzzy" not in msg.flags:
            translated[key] = strings
    missing = sorted(source - translated.keys())
    assert not missing, "messages without a Chinese translation:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders(zh_catalog):
    for msg in zh_catalog:
        if not msg.id:
            continue
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) == set(PLACEHOLDER.findall(key)), key


def test_chinese_strings_are_chinese(zh_catalog):
    for msg in zh_catalog:
        if msg.id and msg.string:
            s = msg.string[0] if isinstance(msg.string, tuple) else msg.string
            assert re.search(r"[\u4e00-\u9fff]", s) or msg.id in ("IP",), msg.id
